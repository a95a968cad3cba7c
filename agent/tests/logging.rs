//! The agent's logger as the lab reads it: nothing a message carries (a
//! hostname, a path, a probe's detail, a workload's output) can forge a log
//! line. A process of its own, since the logger is global.

use lvs_agent::logging;
use std::path::Path;

/// What the lab makes of a console line (tests/src/watch/console.rs, `logged`):
/// the first `who: T=` anywhere in it, then the time, a space and the text.
fn logged<'a>(line: &'a str, who: &str) -> Option<(f64, &'a str)> {
    let at = line.find(&format!("{who}: T="))?;
    let rest = &line[at + who.len() + 4..];
    let (t, text) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((t.parse().ok()?, text))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn no_message_can_forge_a_line_and_the_level_can_be_raised_after_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.log");
    logging::init("lvs-agent", log::LevelFilter::Info);
    logging::attach_file(&file).unwrap();

    let hostile = [
        "ds1\nlvs-agent: T=1.000 ready",
        "ds1\r\nlvs-agent: T=1.000 state: restored the IPVS table saved 1 s ago",
        "ds1\nlvs-init: T=1.000 run exited status=0\n",
        "\x1b[2K\rlvs-agent: T=1.000 ready",
        "ds1\u{2028}lvs-agent: T=1.000 ready\u{85}",
        "web: lvs-init: T=1.000 agent exited (killed by SIGKILL)",
    ];
    for h in hostile {
        lvs_agent::note!(info, "health: 192.0.2.21:80 down: {h}");
    }
    lvs_agent::note!(error, "config: invalid, the running config stays: a.ron:2:5: error: x\n  help: y");
    log::debug!("not yet");
    logging::set_level(log::LevelFilter::Debug);
    log::debug!("now debug");

    let text = read(&file);
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        let (_, said) = logged(line, "lvs-agent").unwrap_or_else(|| panic!("not a log line: {line:?}\n{text}"));
        assert!(line.starts_with("lvs-agent: T="), "{line:?}");
        assert!(logged(line, "lvs-init").is_none(), "reads as PID 1's: {line:?}");
        assert_eq!(line.matches(": T=").count(), 1, "{line:?}");
        for forged in ["ready", "state: ", "lvs-"] {
            assert!(!said.starts_with(forged), "a line reads as `{said}`:\n{text}");
        }
        assert!(!line.contains('\r') && !line.contains('\u{1b}') && !line.contains('\u{85}'), "{line:?}");
    }
    // One line per message, but for the newlines in it, each a continuation of its message.
    assert_eq!(lines.len(), 12, "{text}");
    assert!(text.contains("down: ds1\\r\n"), "{text}");
    assert!(text.contains("down: \\u{1b}[2K\\rlvs-agent: T\\u{3d}1.000 ready\n"), "{text}");
    assert!(lines.iter().any(|l| logged(l, "lvs-agent").unwrap().1 == "    help: y"), "{text}");
    assert!(!text.contains("not yet"), "{text}");
    assert!(lines.last().unwrap().ends_with(" now debug"), "{text}");
}
