//! A VM's console: every line qemu prints (serial on stdout, qemu's own
//! complaints on stderr), kept in memory for `wait_for` and appended to the
//! VM's log file as it arrives, so the log survives a crashed test.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::TAIL_LINES;

#[derive(Default)]
struct State {
    lines: Vec<String>,
    /// The serial console's unfinished last line: prompts ("Shell> ",
    /// "login: ") end without a newline and must still be waitable.
    partial: String,
    /// Reader threads still attached to qemu's stdout/stderr.
    open_streams: usize,
    /// Set by the supervisor when qemu has exited: how it ended.
    exit: Option<String>,
}

pub(crate) struct Console {
    state: Mutex<State>,
    changed: Condvar,
    log: Mutex<Option<BufWriter<File>>>,
    started: Instant,
}

/// Why a wait ended without the marker.
pub(crate) enum WaitEnd {
    Timeout,
    Exited(String),
}

impl Console {
    pub(crate) fn new(log: File, started: Instant) -> Console {
        Console {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            log: Mutex::new(Some(BufWriter::new(log))),
            started,
        }
    }

    // A panic elsewhere must not make the console unreadable in the error
    // message that explains it.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_partial(&self, raw: &[u8]) {
        self.state().partial = clean_line(raw);
        self.changed.notify_all();
    }

    pub(crate) fn push(&self, line: String) {
        if let Some(log) = self.log.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let t = self.started.elapsed().as_secs_f64();
            // Lost log lines must not fail the test; the memory copy is the truth.
            let _ = writeln!(log, "[{t:8.3}] {line}").and_then(|_| log.flush());
        }
        let mut s = self.state();
        s.lines.push(line);
        drop(s);
        self.changed.notify_all();
    }

    pub(crate) fn stream_opened(&self) {
        self.state().open_streams += 1;
    }

    pub(crate) fn stream_closed(&self) {
        let mut s = self.state();
        s.open_streams = s.open_streams.saturating_sub(1);
        drop(s);
        self.changed.notify_all();
    }

    pub(crate) fn set_exit(&self, how: String) {
        self.push(format!("[lab] qemu exited: {how}"));
        self.state().exit = Some(how);
        self.changed.notify_all();
    }

    pub(crate) fn exit(&self) -> Option<String> {
        self.state().exit.clone()
    }

    pub(crate) fn text(&self) -> String {
        let s = self.state();
        let mut out = s.lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&s.partial);
        out
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.state().lines.clone()
    }

    pub(crate) fn tail(&self) -> String {
        let s = self.state();
        let from = s.lines.len().saturating_sub(TAIL_LINES);
        let mut out = s.lines[from..].join("\n");
        if !s.partial.is_empty() {
            out.push('\n');
            out.push_str(&s.partial);
        }
        out
    }

    /// Waits until a line at index `from` or later contains `marker`; returns
    /// its index and text. The unfinished last line counts too (as the index
    /// it will have). Ends early once qemu has exited and both streams are
    /// drained, since no more lines can come.
    pub(crate) fn wait_for(&self, marker: &str, from: usize, timeout: Duration) -> Result<(usize, String), WaitEnd> {
        let deadline = Instant::now() + timeout;
        let mut s = self.state();
        let mut next = from;
        loop {
            if let Some(i) = s.lines[next.min(s.lines.len())..].iter().position(|l| l.contains(marker)) {
                let at = next + i;
                return Ok((at, s.lines[at].clone()));
            }
            if s.lines.len() >= from && s.partial.contains(marker) {
                return Ok((s.lines.len(), s.partial.clone()));
            }
            next = s.lines.len().max(from);
            if let Some(how) = &s.exit {
                if s.open_streams == 0 {
                    return Err(WaitEnd::Exited(how.clone()));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitEnd::Timeout);
            }
            s = self.changed.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Waits until qemu has exited and its output is drained.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut s = self.state();
        loop {
            if let (Some(how), 0) = (&s.exit, s.open_streams) {
                return Some(how.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = self.changed.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Reads `stream` to its end, one console line per `\n`, each passed
    /// through [`clean_line`] and prefixed with `prefix`. With `serial`, the
    /// unfinished last line is kept waitable.
    pub(crate) fn pump(&self, mut stream: impl Read, prefix: &str, serial: bool) {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=nl).collect();
                        self.push(format!("{prefix}{}", clean_line(&line)));
                    }
                    if serial {
                        self.set_partial(&pending);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.push(format!("[lab] reading qemu's output failed: {e}"));
                    break;
                }
            }
        }
        if !pending.is_empty() {
            self.push(format!("{prefix}{}", clean_line(&pending)));
        }
        if serial {
            self.set_partial(b"");
        }
        self.stream_closed();
    }
}

/// Drops what only a terminal cares about: ANSI escape sequences (SeaBIOS
/// clears the screen), carriage returns and other control bytes.
pub(crate) fn clean_line(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            0x1b => {
                i += 1;
                match raw.get(i) {
                    // CSI: parameters and intermediates, then one final byte.
                    Some(b'[') => {
                        i += 1;
                        while i < raw.len() && !(0x40..=0x7e).contains(&raw[i]) {
                            i += 1;
                        }
                        i += 1;
                    }
                    Some(_) => i += 1,
                    None => {}
                }
            }
            b'\t' => {
                out.push(b'\t');
                i += 1;
            }
            b if b < 0x20 || b == 0x7f => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_terminal_control() {
        assert_eq!(clean_line(b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r\n"), "SeaBIOS (version 1.16.2)");
        assert_eq!(clean_line(b"a\tb\x07c"), "a\tbc");
        assert_eq!(clean_line(b"cut\x1b["), "cut");
    }

    fn console() -> Console {
        let log = tempfile::tempfile().expect("temp file");
        Console::new(log, Instant::now())
    }

    #[test]
    fn wait_sees_lines_pushed_later_and_respects_from() {
        let c = std::sync::Arc::new(console());
        c.push("lvs-init: T=0.1 started".into());
        let writer = {
            let c = c.clone();
            std::thread::spawn(move || {
                c.push("lvs-agent: T=1.0 ready".into());
                c.push("lvs-init: T=2.0 started".into());
            })
        };
        let (i, line) = c.wait_for("ready", 0, Duration::from_secs(5)).unwrap_or_else(|_| panic!("ready"));
        assert_eq!((i, line.as_str()), (1, "lvs-agent: T=1.0 ready"));
        let (j, _) = c.wait_for("started", i + 1, Duration::from_secs(5)).unwrap_or_else(|_| panic!("second start"));
        assert_eq!(j, 2);
        writer.join().expect("writer");
    }

    #[test]
    fn an_unfinished_prompt_line_is_waitable() {
        struct Prompt(Vec<&'static [u8]>);
        impl Read for Prompt {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.pop() {
                    Some(chunk) => {
                        buf[..chunk.len()].copy_from_slice(chunk);
                        Ok(chunk.len())
                    }
                    // Block like a live console that printed a prompt.
                    None => {
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(0)
                    }
                }
            }
        }
        let c = std::sync::Arc::new(console());
        c.stream_opened();
        let reader = {
            let c = c.clone();
            std::thread::spawn(move || c.pump(Prompt(vec![b"Shell> ", b"UEFI\r\n"]), "", true))
        };
        let (i, line) = c.wait_for("Shell>", 0, Duration::from_secs(5)).unwrap_or_else(|_| panic!("the prompt"));
        assert_eq!((i, line.as_str()), (1, "Shell> "));
        reader.join().expect("reader");
        assert_eq!(c.lines(), ["UEFI", "Shell> "]);
    }

    #[test]
    fn wait_ends_when_qemu_has_exited() {
        let c = console();
        c.stream_opened();
        c.pump(&b"one\r\ntwo"[..], "", true);
        c.set_exit("exit status: 0".into());
        assert_eq!(c.lines(), ["one", "two", "[lab] qemu exited: exit status: 0"]);
        assert!(matches!(c.wait_for("never", 0, Duration::from_secs(5)), Err(WaitEnd::Exited(_))));
        assert!(matches!(console().wait_for("never", 0, Duration::from_millis(10)), Err(WaitEnd::Timeout)));
    }
}
