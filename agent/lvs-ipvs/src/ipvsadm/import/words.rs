//! From a line of text to the commands on it, and from a command to
//! ipvsadm's arguments: prompts, `sudo`, the program name, comments, quotes,
//! command separators and redirections.

/// One command of a line.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Words {
    /// Empty, or ipvsadm-save / ipvsadm-restore, which read or write the table as a whole.
    None,
    /// Some other command (`echo ...`, `yum ...`), as written.
    Other(String),
    Bad(String),
    Ipvsadm(Vec<String>),
}

/// The commands of a line, in order: `a; b`, `a && b`, `a || b`, `a & b` and
/// `a | b` are two commands, as in a shell. A comment line gives none.
pub(super) fn line_commands(text: &str) -> Vec<Words> {
    let (s, behind_hash) = without_prompt(text);
    let segments = match split_commands(s) {
        Ok(segments) => segments,
        Err(message) => return vec![Words::Bad(message)],
    };
    let mut out = Vec::with_capacity(segments.len());
    for (i, segment) in segments.into_iter().enumerate() {
        let Some(mut words) = shlex::split(segment) else {
            return vec![Words::Bad("cannot split the line into words".to_string())];
        };
        if words.first().is_some_and(|w| w == "sudo") {
            words.remove(0);
        }
        let first = words.first().map(String::as_str);
        let program = first.map(|w| w.rsplit('/').next().unwrap_or(w));
        // `# ipvsadm ...` is a root prompt in a how-to; `# text` is a comment.
        if behind_hash && i == 0 && !program.is_some_and(|p| p == "ipvsadm" || p.starts_with("ipvsadm-")) {
            return Vec::new();
        }
        out.push(match program {
            None => Words::None,
            Some("ipvsadm") => arguments(words.split_off(1)),
            // ipvsadm-save and ipvsadm-restore read or write the table as a whole.
            Some(p) if p.starts_with("ipvsadm-") => Words::None,
            _ if first.is_some_and(|w| w.starts_with('-')) => arguments(words),
            _ => Words::Other(segment.trim().to_string()),
        });
    }
    out
}

/// The line without a shell prompt (`[root@ds1 ~]# `, `# `, `$ `), and
/// whether it began with `#` or `$`, which may also start a comment.
fn without_prompt(text: &str) -> (&str, bool) {
    let s = text.trim();
    if s.starts_with('[') {
        if let Some(i) = s.find("]#").or_else(|| s.find("]$")) {
            return (s[i + 2..].trim_start(), false);
        }
        return (s, false);
    }
    match s.strip_prefix('#').or_else(|| s.strip_prefix('$')) {
        Some(rest) => (rest.trim_start(), true),
        None => (s, false),
    }
}

/// ipvsadm's arguments, without redirections (`> file`, `2>&1`), which
/// change where output goes and nothing in the table.
fn arguments(words: Vec<String>) -> Words {
    let redirection = |w: &String| {
        let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
        w.starts_with('>') || w.starts_with('<') || w.starts_with("&>")
    };
    let args: Vec<String> = words.into_iter().take_while(|w| !redirection(w)).collect();
    if let Some(var) = args.iter().find(|w| w.contains('$')) {
        return Words::Bad(format!(
            "`{var}` is a shell variable; replace it with its value (import reads rules, it runs no shell)"
        ));
    }
    Words::Ipvsadm(args)
}

/// The commands of a line, split at `;`, `&&`, `||`, `&`, `|` and `|&`
/// outside quotes, up to a comment. Quotes stay for shlex to read; this only
/// finds where they end. `&` after `>` or `<` and before `>` is part of a
/// redirection (`2>&1`, `&>file`), not a separator.
fn split_commands(s: &str) -> Result<Vec<&str>, String> {
    let bytes = s.as_bytes();
    let mut segments = Vec::new();
    let (mut start, mut i) = (0, 0);
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        let prev = if i == start { None } else { Some(bytes[i - 1]) };
        let next = bytes.get(i + 1).copied();
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(b'"') | None, b'\\') if next.is_none() => {
                return Err("the line ends in `\\`: join it with the next line, as import reads a command \
                            from one line"
                    .to_string())
            }
            // The escaped character is part of a word, whatever it is.
            (Some(b'"') | None, b'\\') => i += 1,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'#') if matches!(prev, None | Some(b' ' | b'\t')) => break,
            (None, b';' | b'&' | b'|') if separates(c, prev, next) => {
                segments.push(&s[start..i]);
                i += if next == Some(c) || (c == b'|' && next == Some(b'&')) { 2 } else { 1 };
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if quote.is_some() {
        return Err("unbalanced quotes".to_string());
    }
    segments.push(&s[start..i.min(bytes.len())]);
    Ok(segments)
}

fn separates(c: u8, prev: Option<u8>, next: Option<u8>) -> bool {
    match c {
        b';' => true,
        b'&' => !matches!(prev, Some(b'>' | b'<')) && next != Some(b'>'),
        // `>|` is a redirection that overwrites a file.
        b'|' => prev != Some(b'>'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<&str> {
        split_commands(s).unwrap()
    }

    #[test]
    fn separators_split_outside_quotes_only() {
        assert_eq!(split("a && b"), ["a ", " b"]);
        assert_eq!(split("a||b;c"), ["a", "b", "c"]);
        assert_eq!(split("a & b | c |& d"), ["a ", " b ", " c ", " d"]);
        assert_eq!(split("a ';' \"&&\" b\\;c"), ["a ';' \"&&\" b\\;c"]);
        assert_eq!(split("a 2>&1 >&2 &>/dev/null >| f; b"), ["a 2>&1 >&2 &>/dev/null >| f", " b"]);
        assert_eq!(split("a # b; c"), ["a "]);
        assert_eq!(split("a;#b; c"), ["a", ""]);
        assert_eq!(split("a#b; c"), ["a#b", " c"]);
        assert!(split_commands("a 'b; c").is_err());
        assert!(split_commands("a \\").is_err());
    }

    #[test]
    fn behind_a_hash_only_ipvsadm_is_a_command() {
        assert!(matches!(line_commands("# ipvsadm -C; echo x")[..], [Words::Ipvsadm(_), Words::Other(_)]));
        assert!(matches!(line_commands("# ipvsadm-save -n; echo x")[..], [Words::None, Words::Other(_)]));
        for comment in ["# ipvsadmin notes; echo x", "# -A -t 192.0.2.80:80", "#! /bin/sh", "# echo x; ipvsadm -C"] {
            assert_eq!(line_commands(comment), [], "{comment}");
        }
        assert!(matches!(line_commands("[root@ds1 ~]# echo x")[..], [Words::Other(_)]));
    }
}
