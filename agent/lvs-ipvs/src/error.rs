//! Errors of the IPVS module: the kernel's answer to one change names the change
//! and the errno, so a person can act on it.

use super::{Change, ServiceKey};
use std::fmt;

/// What the kernel said, with the errno's name, number and meaning for IPVS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EEXIST: Errno = Errno(17);
    pub const EINVAL: Errno = Errno(22);
    pub const ERANGE: Errno = Errno(34);
    pub const EPERM: Errno = Errno(1);
    pub const ENOMEM: Errno = Errno(12);
    pub const ENODEV: Errno = Errno(19);
    pub const EAFNOSUPPORT: Errno = Errno(97);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            12 => "ENOMEM",
            17 => "EEXIST",
            19 => "ENODEV",
            22 => "EINVAL",
            34 => "ERANGE",
            95 => "EOPNOTSUPP",
            97 => "EAFNOSUPPORT",
            _ => "errno",
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    /// The kernel refused one change.
    #[error("cannot {} {}: {errno}{}", change.verb(), change.object(), hint(change, *errno))]
    Refused { change: Box<Change>, errno: Errno },
    /// The kernel refused a command that is not a change of the table (zero, flush).
    #[error("cannot {command}: {errno}{}", command_hint(command, *errno))]
    Command { command: Command, errno: Errno },
    /// A dump or query failed.
    #[error("cannot read {what} from the kernel: {errno}")]
    Query { what: String, errno: Errno },
    /// The generic netlink socket or family is not there (ip_vs not loaded, not root).
    #[error("{0}")]
    Unavailable(String),
    /// The kernel sent something this module cannot read.
    #[error("cannot decode the kernel's answer ({what}): {detail}")]
    Decode { what: String, detail: String },
    /// Socket I/O failed.
    #[error("netlink I/O failed ({what}): {detail}")]
    Io { what: String, detail: String },
}

/// A request to the kernel that does not change what the table holds, or
/// empties it: the commands outside [`Change`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// IPVS_CMD_ZERO: the counters of one service and its real servers, or of all.
    Zero(Option<ServiceKey>),
    /// IPVS_CMD_FLUSH: every service and real server goes.
    Flush,
}

impl fmt::Display for Command {
    /// What was asked, after "cannot": `zero the counters of TCP 192.0.2.1:80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Zero(Some(key)) => write!(f, "zero the counters of {key}"),
            Command::Zero(None) => f.write_str("zero the counters of every service"),
            Command::Flush => f.write_str("flush every service"),
        }
    }
}

fn command_hint(command: &Command, errno: Errno) -> &'static str {
    match (command, errno) {
        (Command::Zero(Some(_)), Errno::ESRCH) => ": the service does not exist",
        (_, Errno::EPERM) => ": needs CAP_NET_ADMIN (run as root)",
        _ => "",
    }
}

/// What the kernel's errno most likely means for this change (ip_vs_ctl.c's reasons).
fn hint(change: &Change, errno: Errno) -> String {
    let text = match (change, errno) {
        (Change::AddService(s) | Change::EditService(s), Errno::ENOENT) => format!(
            ": the kernel has no scheduler `{}` (module ip_vs_{} missing){}",
            s.scheduler,
            s.scheduler,
            s.pe.as_ref().map(|pe| format!(" or no persistence engine `{pe}`")).unwrap_or_default()
        ),
        (Change::AddService(_) | Change::AddDest(..), Errno::EEXIST) => ": it exists already".to_string(),
        (Change::EditService(_) | Change::DelService(_) | Change::AddDest(..), Errno::ESRCH) => {
            ": the service does not exist".to_string()
        }
        (Change::EditDest(..) | Change::DelDest(..), Errno::ENOENT) => ": the real server does not exist".to_string(),
        (Change::AddDest(..) | Change::EditDest(..), Errno::ERANGE) => {
            ": weight above 2147483647, or lower threshold above upper".to_string()
        }
        (Change::AddDest(..) | Change::EditDest(..), Errno::EINVAL) => {
            ": the address is not unicast for this host (with no interface up, not even lo, the \
             kernel takes every IPv4 address for broadcast), a GUE tunnel has no port, or the \
             address family differs from the service's without tunnel forwarding"
                .to_string()
        }
        (Change::StartDaemon(_), Errno::EINVAL) => {
            ": a service has a real server of another address family (the sync protocol cannot \
             carry its connections), or the group is not multicast"
                .to_string()
        }
        (Change::StartDaemon(d), Errno::ENODEV) => format!(": the director has no interface `{}`", d.interface),
        (Change::StartDaemon(d), Errno::EEXIST) => format!(": a {} daemon runs already", d.state.name()),
        (Change::StopDaemon(_), Errno::ESRCH) => ": none runs".to_string(),
        (_, Errno::EPERM) => ": needs CAP_NET_ADMIN (run as root)".to_string(),
        _ => String::new(),
    };
    text
}

/// A list of changes stopped at one the kernel refused.
#[derive(Debug, thiserror::Error)]
#[error("{error} (after {applied} of {total} changes)")]
pub struct ApplyError {
    /// How many changes took effect before the refused one.
    pub applied: usize,
    pub total: usize,
    pub error: IpvsError,
}
