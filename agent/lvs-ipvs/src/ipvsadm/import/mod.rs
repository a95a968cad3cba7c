//! Reads ipvsadm rules and replays them, line by line, against a table.
//!
//! Accepted: `ipvsadm-save -n` output; ipvsadm command lines as scripts and
//! blog posts write them (`ipvsadm -A ...`, `/sbin/ipvsadm ...`, `# ipvsadm ...`
//! at a root prompt, `[root@ds1 ~]# ipvsadm ...`), with trailing `#` comments,
//! and several commands on a line (`a; b`, `a && b`): each is read, and one
//! that is not ipvsadm's is skipped with a warning.
//! A line the kernel would refuse given the lines before it (adding what exists,
//! editing what does not) is skipped with a warning, as it failed when the
//! script ran; `strict` makes those errors.

mod dest;
mod replay;
mod service;
mod words;

use super::args::{Args, ArgsParser};
use crate::{SyncDaemon, SyncState};
use dest::dest_command;
use replay::Replay;
use service::{key, service};
use std::fmt;
use std::net::IpAddr;
use words::{line_commands, Words};

/// The longest line import reads: an ipvsadm command line is a few hundred
/// bytes, and ipvsadm -R itself reads words of at most 4096 bytes. The bound
/// keeps the work a line costs small, whatever the input.
pub const MAX_LINE_BYTES: usize = 4096;

/// The most input an importer should read: ipvsadm-save writes about 50
/// bytes a real server, so this is some 300,000 of them. Each line costs a
/// bounded amount of work, so the whole import is bounded with it.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

/// How much of a line an error or a warning shows.
const SHOWN_CHARS: usize = 300;

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Refuse, rather than skip, lines the kernel would refuse.
    pub strict: bool,
}

/// Something import did or skipped that the user should know of: the line,
/// as shown in [`ImportError`], and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportWarning {
    pub line: usize,
    pub text: String,
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}\n  | {}", self.line, self.message, self.text)
    }
}

/// The line that stopped the import. `text` is the line as shown: trimmed,
/// control characters escaped, and cut short past 300 characters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{line}: error: {message}\n  | {text}")]
pub struct ImportError {
    pub line: usize,
    pub text: String,
    pub message: String,
}

/// Which input lines made one object of the imported table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The line that added it: `-A`, `-a` or `--start-daemon`.
    pub added: usize,
    /// The last line that set its settings: `added`, or a later `-E` or `-e`.
    pub set: usize,
}

impl Origin {
    fn at(line: usize) -> Origin {
        Origin { added: line, set: line }
    }
}

/// Where a service and its real servers came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceOrigin {
    pub origin: Origin,
    /// One per real server, in the order of the table's.
    pub dests: Vec<Origin>,
}

/// The lines behind an imported table, in the table's order: so that what
/// is found wrong with the table later can be told of by its input line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    /// One per `table.services`.
    pub services: Vec<ServiceOrigin>,
    /// One per `table.daemons`.
    pub daemons: Vec<Origin>,
    /// The last `--set` line that changed a timeout.
    pub timeouts: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct Imported {
    pub table: crate::Table,
    pub origins: Origins,
    pub warnings: Vec<ImportWarning>,
}

/// Why one command was not applied.
enum Reject {
    /// The command itself is wrong: always an error.
    Bad(String),
    /// The command is well formed, but the kernel would refuse it at this point.
    Refused(String),
}

type Step = Result<Option<String>, Reject>;

fn bad<T>(message: impl Into<String>) -> Result<T, Reject> {
    Err(Reject::Bad(message.into()))
}

fn refused<T>(message: impl Into<String>) -> Result<T, Reject> {
    Err(Reject::Refused(message.into()))
}

pub fn import(input: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut replay = Replay::default();
    let mut warnings = Vec::new();
    let mut parser = ArgsParser::new();
    for (i, text) in input.lines().enumerate() {
        let line = i + 1;
        let error = |message: String| ImportError { line, text: show_line(text), message: escaped(&message) };
        let warn = |message: String| ImportWarning { line, text: show_line(text), message: escaped(&message) };
        if text.len() > MAX_LINE_BYTES {
            return Err(error(format!(
                "the line is {} bytes long; import reads lines of at most {MAX_LINE_BYTES} bytes \
                 (an ipvsadm command line is a few hundred): shorten it, or remove it if it is not ipvsadm's",
                text.len()
            )));
        }
        for command in line_commands(text) {
            let words = match command {
                Words::None => continue,
                Words::Other(cmd) => {
                    let message = format!("skipped: `{cmd}` is not an ipvsadm command");
                    if options.strict {
                        return Err(error(message));
                    }
                    warnings.push(warn(message));
                    continue;
                }
                Words::Bad(message) => return Err(error(message)),
                Words::Ipvsadm(words) => words,
            };
            let args = parser.parse(&words).map_err(|e| error(e.to_string()))?;
            match apply(&mut replay, line, &args) {
                Ok(None) => {}
                Ok(Some(note)) => warnings.push(warn(note)),
                Err(Reject::Bad(message)) => return Err(error(message)),
                Err(Reject::Refused(message)) if options.strict => return Err(error(message)),
                Err(Reject::Refused(message)) => warnings.push(warn(format!("skipped: {message}"))),
            }
        }
    }
    let (table, origins) = replay.finish();
    Ok(Imported { table, origins, warnings })
}

/// A line as errors and warnings show it: trimmed, with control characters
/// escaped so that it cannot pass for more output, and cut short past 300 characters.
pub fn show_line(text: &str) -> String {
    let text = text.trim();
    let mut out = escaped(&text.chars().take(SHOWN_CHARS).collect::<String>());
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push_str(&format!("... ({} bytes in all)", text.len()));
    }
    out
}

fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

fn apply(replay: &mut Replay, line: usize, a: &Args) -> Step {
    if a.add_service || a.edit_service {
        let (service, note) = service(a)?;
        let key = service.key;
        return match (replay.service_mut(&key), a.add_service) {
            (Some(_), true) => refused(format!("service {key} already exists")),
            (None, false) => refused(format!("no such service {key}")),
            (Some(slot), false) => {
                slot.service = service;
                slot.origin.set = line;
                Ok(note)
            }
            (None, true) => {
                replay.add_service(service, line);
                Ok(note)
            }
        };
    }
    if a.delete_service {
        let key = key(a)?;
        return if replay.remove_service(&key) { Ok(None) } else { refused(format!("no such service {key}")) };
    }
    if a.clear {
        let n = replay.clear_services();
        return Ok((n > 0).then(|| format!("-C removes the {n} service(s) defined before it")));
    }
    if a.add_server || a.edit_server || a.delete_server {
        return dest_command(replay, line, a);
    }
    if let Some(values) = &a.set {
        if let Some(v) = values.iter().find(|v| **v > 86400 * 31) {
            return bad(format!("timeout {v} is above ipvsadm's 31 days"));
        }
        let t = &mut replay.timeouts;
        let mut changed = false;
        for (slot, v) in [&mut t.tcp, &mut t.tcp_fin, &mut t.udp].into_iter().zip(values) {
            // 0 leaves a timeout as it is, as in ipvsadm.
            if *v != 0 {
                *slot = *v;
                changed = true;
            }
        }
        if changed {
            replay.timeouts_line = Some(line);
        }
        return Ok(None);
    }
    if let Some(state) = &a.start_daemon {
        let state = sync_state(state)?;
        if replay.daemons.iter().any(|(d, _)| d.state == state) {
            return refused(format!("a {} sync daemon is already running", state.name()));
        }
        let mcast_group = match &a.mcast_group {
            None => None,
            Some(text) => match text.parse::<IpAddr>() {
                Ok(g) if g.is_multicast() => Some(g),
                Ok(g) => return bad(format!("--mcast-group {g} is not a multicast address")),
                Err(_) => return bad(format!("--mcast-group `{text}` is not an IP address")),
            },
        };
        let daemon = SyncDaemon {
            sync_maxlen: a.sync_maxlen,
            mcast_group,
            mcast_port: a.mcast_port,
            mcast_ttl: a.mcast_ttl,
            ..SyncDaemon::new(
                state,
                a.mcast_interface.clone().unwrap_or_else(|| "eth0".to_string()),
                a.syncid.unwrap_or(0),
            )
        };
        replay.daemons.push((daemon, Origin::at(line)));
        return Ok(None);
    }
    if let Some(state) = &a.stop_daemon {
        let state = sync_state(state)?;
        let before = replay.daemons.len();
        replay.daemons.retain(|(d, _)| d.state != state);
        return if replay.daemons.len() == before {
            refused(format!("no {} sync daemon runs", state.name()))
        } else {
            Ok(None)
        };
    }
    // -L, -S, -Z, -R, -h, -v: they read, zero counters or print; the rules stay as they are.
    Ok(None)
}

fn sync_state(s: &str) -> Result<SyncState, Reject> {
    match s {
        "master" => Ok(SyncState::Master),
        "backup" => Ok(SyncState::Backup),
        other => bad(format!("sync daemon state `{other}` is not master or backup")),
    }
}
