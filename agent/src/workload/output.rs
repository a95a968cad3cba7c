//! A workload's stdout and stderr, line by line, into the agent's log.
//!
//! The log (console and /run/lvs/agent.log, with the `lvs-agent: T=` prefix)
//! is where people and the lab already look, so a workload's lines go there
//! rather than to a file of their own. Both streams are logged at info: the
//! agent cannot tell a program's error lines from its chatter.

use std::io::{BufRead, BufReader, Read};

/// Longer lines are cut into pieces of this size, so that a program that
/// writes no newline cannot make the agent buffer without end.
pub const MAX_LINE: usize = 4096;

/// Logs every line of `stream` as `<name>: <line>` on a thread of its own,
/// until the workload (and everything that inherited the pipe) closes it.
pub fn forward(name: &str, stream: impl Read + Send + 'static) {
    let who = name.to_string();
    let spawned = std::thread::Builder::new()
        .name(format!("{name}-output"))
        .spawn(move || lines(stream, MAX_LINE, |line| crate::note!(info, "{who}: {line}")));
    if let Err(e) = spawned {
        // The pipe closes with the closure: the workload will get EPIPE, not block.
        crate::note!(error, "workload {name}: cannot read its output: {e}");
    }
}

/// Calls `each` with every line of `stream`, without its line ending, cut at `max` bytes.
pub fn lines(stream: impl Read, max: usize, mut each: impl FnMut(&str)) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        match reader.by_ref().take(max as u64).read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                each(&String::from_utf8_lossy(&buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<String> {
        let mut out = Vec::new();
        lines(input, max, |l| out.push(l.to_string()));
        out
    }

    #[test]
    fn splits_lines_and_drops_endings() {
        assert_eq!(collect(b"one\ntwo\r\n\nlast", 100), ["one", "two", "", "last"]);
        assert!(collect(b"", 100).is_empty());
    }

    #[test]
    fn cuts_long_lines_and_survives_bad_utf8() {
        assert_eq!(collect(b"abcdefg\nhi\n", 3), ["abc", "def", "g", "hi"]);
        assert_eq!(collect(b"caf\xe9\n", 100), ["caf\u{fffd}"]);
    }
}
