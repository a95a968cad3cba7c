//! Log lines as the console and the lab read them: `<who>: T=<uptime> <message>`.
//!
//! simplelog writes every line to stderr (the console under PID 1) and, once a
//! file is attached, to that file too (/run/lvs/*.log), with no prefix of its own.
//!
//! Messages carry text from outside: hostnames and paths from a config, a
//! probe's detail from what a real server answered, a workload's output. None
//! of it may forge a line, as `x\nlvs-agent: T=1.000 ready` would, so every
//! message goes through [`render`] first: control characters are escaped
//! (`\r`, `\u{1b}`), and a message of several lines (a config error and its
//! help) goes out with every line after the first marked as a continuation:
//! the same prefix, then [`CONTINUATION`]. Each physical line thus starts
//! with its writer's prefix, and no continuation reads as a message of its
//! own. The lab finds a writer's prefix anywhere in a console line (firmware
//! can leave bytes before it), so a message that says `lvs-init: T=` would
//! still read as PID 1's line: a message's `: T=` is written `: T\u{3d}`.
//!
//! Every record, as written, also goes to [`ring`]: the last lines for the
//! management API's `logs`, and its followers.

pub mod ring;

use lvs_config::file::LogLevel;
use simplelog::{ConfigBuilder, LevelFilter, WriteLogger};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Who is speaking: "lvs-init" or "lvs-agent".
static WHO: OnceLock<&'static str> = OnceLock::new();
static FILE: OnceLock<Arc<Mutex<Option<File>>>> = OnceLock::new();

/// What follows the prefix on the second and later lines of one message. A
/// log reader (the lab's) finds the first prefix on a line and looks at what
/// the text after it starts with (`ready`, `state: restored`): a
/// continuation's text starts with these spaces, so it never matches.
pub const CONTINUATION: &str = "  ";

/// Seconds since boot (CLOCK_BOOTTIME), the clock the boot table is measured in.
pub fn uptime() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME).map(Duration::from).unwrap_or_default()
}

/// Prefix for one line: `lvs-init: T=1.234`.
pub fn prefix() -> String {
    format!("{}: T={:.3}", WHO.get().copied().unwrap_or("lvs-agent"), uptime().as_secs_f64())
}

/// Whether `c` is escaped in a log line: control characters but the newline
/// (which [`render`] turns into a continuation) and the tab (which moves
/// nothing back), and the Unicode line and paragraph separators.
fn escaped(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{2028}' || c == '\u{2029}'
}

/// `message` as the log writes it after `prefix`, without the final newline:
/// control characters escaped as Rust writes them (`\r`, `\0`, `\u{1b}`),
/// the `=` of a prefix's `: T=` too (`\u{3d}`), trailing newlines dropped,
/// and every later line led by `prefix` and [`CONTINUATION`].
pub fn render(prefix: &str, message: &str) -> String {
    let mut body = String::with_capacity(message.len());
    for c in message.trim_end_matches('\n').chars() {
        if escaped(c) {
            body.extend(c.escape_debug());
        } else {
            body.push(c);
        }
    }
    let body = body.replace(": T=", ": T\\u{3d}");
    let mut out = String::with_capacity(prefix.len() + body.len() + 1);
    for (n, line) in body.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(prefix);
        out.push(' ');
        if n > 0 {
            out.push_str(CONTINUATION);
        }
        out.push_str(line);
    }
    out
}

/// Between `log` and simplelog: renders each message (see [`render`]) and
/// hands simplelog the result, which it writes with its newline. Levels are
/// the `log` crate's (`set_level`): simplelog itself lets everything through.
struct Escaping {
    inner: Box<WriteLogger<Tee>>,
}

impl log::Log for Escaping {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = render(&prefix(), &record.args().to_string());
        ring::RING.push(&text);
        self.inner.log(
            &log::Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{text}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Writes to stderr and, when attached, to the log file.
///
/// A message goes out in one write, newline included: simplelog writes the
/// text and its newline separately, and PID 1 and the agent share the
/// console, so two writes let the other's line land in between
/// (`... readylvs-init: T=4.786 run started`). The rendered text has no
/// newline at its end, so the write that ends in one is simplelog's.
struct Tee {
    file: Arc<Mutex<Option<File>>>,
    pending: Vec<u8>,
}

impl Tee {
    fn emit(&self, bytes: &[u8]) -> io::Result<()> {
        // The console matters more than the file: a file error must not stop it.
        io::stderr().write_all(bytes)?;
        if let Ok(mut file) = self.file.lock() {
            if let Some(f) = file.as_mut() {
                let _ = f.write_all(bytes);
            }
        }
        Ok(())
    }
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if buf.ends_with(b"\n") {
            let message = std::mem::take(&mut self.pending);
            self.emit(&message)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Starts logging for `who` at `level`. A second call changes nothing.
pub fn init(who: &'static str, level: LevelFilter) {
    let _ = WHO.set(who);
    let file = FILE.get_or_init(|| Arc::new(Mutex::new(None))).clone();
    let config = ConfigBuilder::new()
        .set_time_level(LevelFilter::Off)
        .set_max_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_thread_level(LevelFilter::Off)
        .set_location_level(LevelFilter::Off)
        .build();
    let inner = WriteLogger::new(LevelFilter::Trace, config, Tee { file, pending: Vec::new() });
    if log::set_logger(Box::leak(Box::new(Escaping { inner }))).is_ok() {
        log::set_max_level(level);
    }
}

pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

/// From now on, also append every line to `path`.
pub fn attach_file(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    if let Some(slot) = FILE.get() {
        if let Ok(mut file) = slot.lock() {
            *file = Some(f);
        }
    }
    Ok(())
}

/// A line of the log; the logger puts the `who: T=...` prefix the lab greps for
/// in front of it (and of every other `log` line), and escapes what could
/// forge one.
#[macro_export]
macro_rules! note {
    ($lvl:ident, $($arg:tt)*) => {
        log::$lvl!($($arg)*)
    };
}

/// The log level a config asks for.
pub fn level_filter(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "lvs-agent: T=5.000";

    #[test]
    fn one_line_stays_as_it_is() {
        assert_eq!(render(P, "config: applied 2 changes"), "lvs-agent: T=5.000 config: applied 2 changes");
        assert_eq!(render(P, "tab\tstays, \u{e9} too\n"), "lvs-agent: T=5.000 tab\tstays, \u{e9} too");
        assert_eq!(render(P, ""), "lvs-agent: T=5.000 ");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            render(P, "a\rb\0c\u{1b}[2Jd\u{7f}e\u{85}f\u{2028}g"),
            "lvs-agent: T=5.000 a\\rb\\0c\\u{1b}[2Jd\\u{7f}e\\u{85}f\\u{2028}g"
        );
    }

    #[test]
    fn later_lines_are_continuations_of_the_first() {
        assert_eq!(
            render(P, "config: invalid, the running config stays: a.ron:2:5: error: x\n  help: y\n\n"),
            "lvs-agent: T=5.000 config: invalid, the running config stays: a.ron:2:5: error: x\n\
             lvs-agent: T=5.000     help: y"
        );
        let forged = render(P, "hostname x\nlvs-agent: T=1.000 ready\r\nlvs-init: T=1.000 run exited status=0");
        let lines: Vec<&str> = forged.lines().collect();
        assert_eq!(
            lines,
            [
                "lvs-agent: T=5.000 hostname x",
                "lvs-agent: T=5.000   lvs-agent: T\\u{3d}1.000 ready\\r",
                "lvs-agent: T=5.000   lvs-init: T\\u{3d}1.000 run exited status=0",
            ]
        );
    }

    #[test]
    fn another_writers_prefix_in_a_message_is_defused() {
        assert_eq!(
            render(P, "workload web: lvs-init: T=1.000 agent exited (killed by SIGKILL)"),
            "lvs-agent: T=5.000 workload web: lvs-init: T\\u{3d}1.000 agent exited (killed by SIGKILL)"
        );
        assert_eq!(render(P, "a=1, T=2: ok"), "lvs-agent: T=5.000 a=1, T=2: ok");
    }
}
