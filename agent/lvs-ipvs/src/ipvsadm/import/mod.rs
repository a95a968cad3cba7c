//! Reads ipvsadm rules and replays them, line by line, against a table.
//!
//! Accepted: `ipvsadm-save -n` output; ipvsadm command lines as scripts and
//! blog posts write them (`ipvsadm -A ...`, `/sbin/ipvsadm ...`, `# ipvsadm ...`
//! at a root prompt, `[root@ds1 ~]# ipvsadm ...`), with trailing `#` comments.
//! A line the kernel would refuse given the lines before it (adding what exists,
//! editing what does not) is skipped with a warning, as it failed when the
//! script ran; `strict` makes those errors.

mod dest;
mod service;
mod words;

use super::args::Args;
use crate::{SyncDaemon, SyncState, Table, VirtualService};
use dest::dest_command;
use service::{key, service};
use std::fmt;
use std::net::IpAddr;
use words::{ipvsadm_words, Words};

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Refuse, rather than skip, lines the kernel would refuse.
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportWarning {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{line}: error: {message}\n  | {text}")]
pub struct ImportError {
    pub line: usize,
    pub text: String,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Imported {
    pub table: Table,
    pub warnings: Vec<ImportWarning>,
}

/// Why one line was not applied.
enum Reject {
    /// The line itself is wrong: always an error.
    Bad(String),
    /// The line is well formed, but the kernel would refuse it at this point.
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
    let mut out = Imported::default();
    for (i, text) in input.lines().enumerate() {
        let line = i + 1;
        let error = |message: String| ImportError { line, text: text.trim().to_string(), message };
        let words = match ipvsadm_words(text) {
            Words::None => continue,
            Words::Other(cmd) => {
                let message = format!("skipped: `{cmd}` is not an ipvsadm command");
                if options.strict {
                    return Err(error(message));
                }
                out.warnings.push(ImportWarning { line, message });
                continue;
            }
            Words::Bad(message) => return Err(error(message)),
            Words::Ipvsadm(words) => words,
        };
        let args = Args::parse_words(&words).map_err(|e| error(e.to_string()))?;
        match apply(&mut out.table, &args) {
            Ok(None) => {}
            Ok(Some(note)) => out.warnings.push(ImportWarning { line, message: note }),
            Err(Reject::Bad(message)) => return Err(error(message)),
            Err(Reject::Refused(message)) if options.strict => return Err(error(message)),
            Err(Reject::Refused(message)) => {
                out.warnings.push(ImportWarning { line, message: format!("skipped: {message}") })
            }
        }
    }
    Ok(out)
}

fn apply(table: &mut Table, a: &Args) -> Step {
    if a.add_service || a.edit_service {
        let service = service(a)?;
        let key = service.key;
        return match (table.service_mut(&key), a.add_service) {
            (Some(_), true) => refused(format!("service {key} already exists")),
            (None, false) => refused(format!("no such service {key}")),
            (Some(vs), false) => {
                vs.service = service;
                Ok(None)
            }
            (None, true) => {
                table.services.push(VirtualService { service, dests: Vec::new() });
                Ok(None)
            }
        };
    }
    if a.delete_service {
        let key = key(a)?;
        let before = table.services.len();
        table.services.retain(|vs| vs.service.key != key);
        return if table.services.len() == before { refused(format!("no such service {key}")) } else { Ok(None) };
    }
    if a.clear {
        let n = table.services.len();
        table.services.clear();
        return Ok((n > 0).then(|| format!("-C removes the {n} service(s) defined before it")));
    }
    if a.add_server || a.edit_server || a.delete_server {
        return dest_command(table, a);
    }
    if let Some(values) = &a.set {
        let t = &mut table.timeouts;
        for (slot, v) in [&mut t.tcp, &mut t.tcp_fin, &mut t.udp].into_iter().zip(values) {
            if *v > 86400 * 31 {
                return bad(format!("timeout {v} is above ipvsadm's 31 days"));
            }
            // 0 leaves a timeout as it is, as in ipvsadm.
            if *v != 0 {
                *slot = *v;
            }
        }
        return Ok(None);
    }
    if let Some(state) = &a.start_daemon {
        let state = sync_state(state)?;
        if table.daemons.iter().any(|d| d.state == state) {
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
        table.daemons.push(SyncDaemon {
            sync_maxlen: a.sync_maxlen,
            mcast_group,
            mcast_port: a.mcast_port,
            mcast_ttl: a.mcast_ttl,
            ..SyncDaemon::new(
                state,
                a.mcast_interface.clone().unwrap_or_else(|| "eth0".to_string()),
                a.syncid.unwrap_or(0),
            )
        });
        return Ok(None);
    }
    if let Some(state) = &a.stop_daemon {
        let state = sync_state(state)?;
        let before = table.daemons.len();
        table.daemons.retain(|d| d.state != state);
        return if table.daemons.len() == before {
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
