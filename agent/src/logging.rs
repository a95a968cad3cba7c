//! Log lines as the console and the lab read them: `<who>: T=<uptime> <message>`.
//!
//! simplelog writes every line to stderr (the console under PID 1) and, once a
//! file is attached, to that file too (/run/lvs/*.log), with no prefix of its own.

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

/// Seconds since boot (CLOCK_BOOTTIME), the clock the boot table is measured in.
pub fn uptime() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME).map(Duration::from).unwrap_or_default()
}

/// Prefix for one line: `lvs-init: T=1.234`.
pub fn prefix() -> String {
    format!("{}: T={:.3}", WHO.get().copied().unwrap_or("lvs-agent"), uptime().as_secs_f64())
}

/// Writes to stderr and, when attached, to the log file, starting every line
/// with the prefix: so lines from any `log` call (health, workloads, the IPVS
/// client) read like `note!`'s, and the lab and the boot table can find them.
///
/// A line goes out in one write, prefix and newline included: simplelog
/// writes the message and its newline separately, and PID 1 and the agent
/// share the console, so two writes let the other's line land in between
/// (`... readylvs-init: T=4.786 run started`).
struct Tee {
    file: Arc<Mutex<Option<File>>>,
    line: Vec<u8>,
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
        for piece in buf.split_inclusive(|b| *b == b'\n') {
            if self.line.is_empty() {
                self.line.extend_from_slice(format!("{} ", prefix()).as_bytes());
            }
            self.line.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                let line = std::mem::take(&mut self.line);
                self.emit(&line)?;
            }
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
    let _ = WriteLogger::init(level, config, Tee { file, line: Vec::new() });
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
/// in front of it (and of every other `log` line).
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
