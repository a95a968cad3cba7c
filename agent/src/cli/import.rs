//! `lvs-agent import ipvsadm`: rules in, a Director config out. The config is
//! checked as `lvs-agent check` would check it, and what check would refuse is
//! refused here, told of by the input line that made it.

use super::EXIT_INVALID;
use anyhow::{Context, Result};
use lvs_config::{self as config, from_table, ConfigError, Diagnostic, Severity};
use lvs_ipvs::ipvsadm::{self, ImportOptions, Imported, Origin, MAX_INPUT_BYTES};
use std::io::Read;
use std::path::Path;

pub fn run(file: Option<&Path>, strict: bool, output: Option<&Path>) -> Result<i32> {
    let file = file.filter(|f| *f != Path::new("-"));
    let name = file.map_or_else(|| "<stdin>".to_string(), |f| f.display().to_string());
    let bytes = match file {
        Some(f) => read_bounded(std::fs::File::open(f).with_context(|| format!("cannot read {}", f.display()))?)
            .with_context(|| format!("cannot read {}", f.display()))?,
        None => read_bounded(std::io::stdin().lock()).context("cannot read standard input")?,
    };
    let Some(bytes) = bytes else {
        eprintln!(
            "{name}: error: the input is larger than {} MiB, the most import reads; nothing written",
            MAX_INPUT_BYTES >> 20
        );
        return Ok(EXIT_INVALID);
    };
    let input = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            let line = bytes[..bad].iter().filter(|b| **b == b'\n').count() + 1;
            let start = bytes[..bad].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let end = bytes[bad..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| bad + i);
            let text = String::from_utf8_lossy(&bytes[start..end]);
            eprintln!(
                "{name}:{line}: error: the line is not UTF-8 text (byte {} of it)\n  | {}",
                bad - start + 1,
                ipvsadm::show_line(&text)
            );
            return Ok(EXIT_INVALID);
        }
    };
    let imported = match ipvsadm::import(&input, &ImportOptions { strict }) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{name}:{e}");
            return Ok(EXIT_INVALID);
        }
    };
    for w in &imported.warnings {
        eprintln!("{name}:{w}");
    }
    let text = format!("{}{}", from_table::IMPORT_HEADER, config::to_ron(&from_table::director_file(&imported.table)));
    // What check would say of the config: the same parse, on the same text.
    let (errors, warnings) = match config::parse(&text, Path::new(&name)) {
        Ok(loaded) => (Vec::new(), loaded.warnings),
        Err(ConfigError::Invalid { errors, warnings }) => (errors, warnings),
        Err(e @ ConfigError::Read { .. }) => return Err(e.into()),
    };
    let lines: Vec<&str> = if errors.is_empty() && warnings.is_empty() { Vec::new() } else { input.lines().collect() };
    for d in warnings.iter().chain(&errors) {
        eprintln!("{}", told_by_line(d, &name, &imported, &lines));
    }
    if !errors.is_empty() {
        let n = errors.len();
        eprintln!(
            "{name}: the rules make a config that `lvs-agent check` refuses ({n} error{}): nothing written",
            if n == 1 { "" } else { "s" }
        );
        return Ok(EXIT_INVALID);
    }
    match output {
        Some(path) => std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// All of `reader` if it holds at most MAX_INPUT_BYTES, or None without
/// reading more than one byte past that.
fn read_bounded(reader: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= MAX_INPUT_BYTES).then_some(bytes))
}

/// The part of the imported table a config path points into.
#[derive(Debug, PartialEq, Eq)]
enum Object {
    Service(usize),
    RealServer(usize, usize),
    Daemon(usize),
    Daemons,
    Timeouts,
}

/// Reads `role.services[2].real_servers[0].weight` and the like.
fn object(path: &str) -> Option<Object> {
    let rest = path.strip_prefix("role.")?;
    let index = |s: &str| -> Option<(usize, String)> {
        let (n, rest) = s.strip_prefix('[')?.split_once(']')?;
        Some((n.parse().ok()?, rest.to_string()))
    };
    if let Some(rest) = rest.strip_prefix("services") {
        let (i, rest) = index(rest)?;
        return Some(match rest.strip_prefix(".real_servers").and_then(index) {
            Some((j, _)) => Object::RealServer(i, j),
            None => Object::Service(i),
        });
    }
    if let Some(rest) = rest.strip_prefix("sync_daemons") {
        return Some(index(rest).map_or(Object::Daemons, |(k, _)| Object::Daemon(k)));
    }
    rest.starts_with("timeouts").then_some(Object::Timeouts)
}

/// The line and the lines before it that made what `d` is about: the line
/// that last set it, and the one that added it when that is another.
fn origin(d: &Diagnostic, imported: &Imported) -> Option<Origin> {
    let o = &imported.origins;
    match object(d.path.as_deref()?)? {
        Object::Service(i) => o.services.get(i).map(|s| s.origin),
        Object::RealServer(i, j) => o.services.get(i)?.dests.get(j).copied(),
        Object::Daemon(k) => o.daemons.get(k).copied(),
        Object::Daemons => o.daemons.first().copied(),
        Object::Timeouts => o.timeouts.map(|line| Origin { added: line, set: line }),
    }
}

/// A problem of the config, told as import tells its own: by the input line
/// and its text, then where in the config and what to do.
fn told_by_line(d: &Diagnostic, name: &str, imported: &Imported, lines: &[&str]) -> String {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let at = d.path.as_deref().map(|p| format!(" (config: {p})")).unwrap_or_default();
    let mut out = match origin(d, imported) {
        Some(o) => {
            let shown = |line: usize| ipvsadm::show_line(lines.get(line - 1).copied().unwrap_or(""));
            let mut s = format!("{name}:{}: {label}: {}{at}\n  | {}", o.set, d.message, shown(o.set));
            if o.added != o.set {
                s.push_str(&format!("\n  (added on line {}: {})", o.added, shown(o.added)));
            }
            s
        }
        None => format!("{name}: {label}: {}{at}", d.message),
    };
    if let Some(help) = &d.help {
        out.push_str(&format!("\n  help: {help}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_paths_name_the_object_of_the_table() {
        let cases = [
            ("role.services[2]", Some(Object::Service(2))),
            ("role.services[2].scheduler", Some(Object::Service(2))),
            ("role.services[2].real_servers", Some(Object::Service(2))),
            ("role.services[2].real_servers[11].weight", Some(Object::RealServer(2, 11))),
            ("role.sync_daemons[1].sync_maxlen", Some(Object::Daemon(1))),
            ("role.sync_daemons", Some(Object::Daemons)),
            ("role.timeouts.tcp", Some(Object::Timeouts)),
            ("role.services", None),
            ("role.vips[0]", None),
            ("hostname", None),
            ("role.services[x]", None),
        ];
        for (path, want) in cases {
            assert_eq!(object(path), want, "{path}");
        }
    }

    #[test]
    fn a_problem_is_told_by_the_line_that_set_it_and_the_one_that_added_it() {
        let input = "-A -t 192.0.2.80:80\n-a -t 192.0.2.80:80 -r 192.0.2.21\n-e -t 192.0.2.80:80 -r 192.0.2.21 -w 3\n";
        let imported = ipvsadm::import(input, &ImportOptions::default()).unwrap();
        let lines: Vec<&str> = input.lines().collect();
        let d = Diagnostic {
            severity: Severity::Error,
            file: "rules".into(),
            position: None,
            path: Some("role.services[0].real_servers[0].address".to_string()),
            message: "bad".to_string(),
            help: Some("fix it".to_string()),
        };
        assert_eq!(
            told_by_line(&d, "rules", &imported, &lines),
            "rules:3: error: bad (config: role.services[0].real_servers[0].address)\n\
             \x20 | -e -t 192.0.2.80:80 -r 192.0.2.21 -w 3\n\
             \x20 (added on line 2: -a -t 192.0.2.80:80 -r 192.0.2.21)\n\
             \x20 help: fix it"
        );
        let whole = Diagnostic { path: Some("role.services".to_string()), help: None, ..d };
        assert_eq!(told_by_line(&whole, "rules", &imported, &lines), "rules: error: bad (config: role.services)");
    }
}
