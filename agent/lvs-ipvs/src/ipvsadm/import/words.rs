//! From a line of text to ipvsadm's arguments: prompts, `sudo`, the program
//! name, comments, quotes and redirections.

pub(super) enum Words {
    /// Blank, or a comment.
    None,
    /// Some other command (`echo ...`, `yum ...`).
    Other(String),
    Bad(String),
    Ipvsadm(Vec<String>),
}

/// The ipvsadm arguments of a line, without prompt, program name or redirection.
pub(super) fn ipvsadm_words(text: &str) -> Words {
    let mut s = text.trim();
    let mut behind_hash = false;
    if s.starts_with('[') {
        // A shell prompt such as `[root@ds1 ~]# `.
        if let Some(i) = s.find("]#").or_else(|| s.find("]$")) {
            s = s[i + 2..].trim_start();
        }
    } else if let Some(rest) = s.strip_prefix('#').or_else(|| s.strip_prefix('$')) {
        // `# ipvsadm ...` is a root prompt in a how-to; `# text` is a comment.
        s = rest.trim_start();
        behind_hash = true;
    }
    let Some(mut words) = shlex::split(s) else {
        return Words::Bad("unbalanced quotes".to_string());
    };
    if words.first().is_some_and(|w| w == "sudo") {
        words.remove(0);
    }
    let Some(first) = words.first().cloned() else { return Words::None };
    let program = first.rsplit('/').next().unwrap_or(&first);
    let args = if program == "ipvsadm" {
        words.split_off(1)
    } else if program.starts_with("ipvsadm-") {
        // ipvsadm-save and ipvsadm-restore read or write the table as a whole.
        return Words::None;
    } else if first.starts_with('-') && !behind_hash {
        words
    } else if behind_hash {
        return Words::None;
    } else {
        return Words::Other(s.to_string());
    };
    let args: Vec<String> = args
        .into_iter()
        .take_while(|w| !(w.starts_with('>') || w.starts_with('|') || w.starts_with("2>") || w == "&&" || w == ";"))
        .collect();
    if let Some(var) = args.iter().find(|w| w.contains('$')) {
        return Words::Bad(format!(
            "`{var}` is a shell variable; replace it with its value (import reads rules, it runs no shell)"
        ));
    }
    Words::Ipvsadm(args)
}
