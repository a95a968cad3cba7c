//! Scheduler names and the three scheduler-private flag bits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A scheduling algorithm, by the name of its kernel module (`ip_vs_<name>`).
///
/// `Other` keeps a name the kernel reported that this list does not know (an
/// out-of-tree module); a config file cannot name one, so it is not deserializable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Twos,
    #[serde(skip)]
    Other(String),
}

impl Scheduler {
    /// Every scheduler the stock kernel ships, in the order ipvsadm's manual lists them.
    pub const KNOWN: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
        Scheduler::Twos,
    ];

    /// The name the kernel and ipvsadm use.
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
            Scheduler::Twos => "twos",
            Scheduler::Other(name) => name,
        }
    }

    /// The kernel module that implements it.
    pub fn module(&self) -> String {
        format!("ip_vs_{}", self.name())
    }

    /// The names of the known schedulers, comma separated, for error messages.
    pub fn known_names() -> String {
        Self::KNOWN.iter().map(Scheduler::name).collect::<Vec<_>>().join(", ")
    }

    /// Whether scheduler flags mean anything to this scheduler: only sh and mh read them.
    pub fn takes_flags(&self) -> bool {
        matches!(self, Scheduler::Sh | Scheduler::Mh)
    }
}

impl Default for Scheduler {
    /// wlc, as ipvsadm and the kernel choose when none is named.
    fn default() -> Self {
        Scheduler::Wlc
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scheduler or scheduler flag name that is not one of the kernel's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    #[error("unknown scheduler `{name}`; the kernel has {}", Scheduler::known_names())]
    UnknownScheduler { name: String },
    #[error(
        "unknown scheduler flag `{name}`; ipvsadm knows sh-fallback, sh-port, \
         mh-fallback, mh-port, flag-1, flag-2 and flag-3"
    )]
    UnknownFlag { name: String },
}

impl FromStr for Scheduler {
    type Err = SchedulerError;

    /// Only known names parse: an unknown one would fail in the kernel with ENOENT,
    /// and saying so here, with the valid names, is kinder.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::KNOWN
            .iter()
            .find(|k| k.name() == s)
            .cloned()
            .ok_or_else(|| SchedulerError::UnknownScheduler { name: s.to_string() })
    }
}

/// The scheduler-private flag bits (IP_VS_SVC_F_SCHED1..3). sh and mh give bits 1
/// and 2 the names `*-fallback` and `*-port`; bit 3 has no name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchedFlags {
    pub fallback: bool,
    pub port: bool,
    pub flag3: bool,
}

impl SchedFlags {
    pub fn is_empty(&self) -> bool {
        !(self.fallback || self.port || self.flag3)
    }

    /// ipvsadm's `-b` spelling for this scheduler, e.g. `sh-fallback,sh-port`.
    /// Schedulers without names for the bits get `flag-1,flag-2,flag-3`.
    pub fn ipvsadm_names(&self, scheduler: &Scheduler) -> Vec<String> {
        let prefix = match scheduler {
            Scheduler::Sh => Some("sh"),
            Scheduler::Mh => Some("mh"),
            _ => None,
        };
        let mut out = Vec::new();
        let named = [(self.fallback, "fallback", 1), (self.port, "port", 2)];
        for (set, name, bit) in named {
            if set {
                out.push(match prefix {
                    Some(p) => format!("{p}-{name}"),
                    None => format!("flag-{bit}"),
                });
            }
        }
        if self.flag3 {
            out.push("flag-3".to_string());
        }
        out
    }

    /// Reads one of ipvsadm's `-b` names into these flags.
    pub fn set_by_name(&mut self, name: &str) -> Result<(), SchedulerError> {
        match name {
            "sh-fallback" | "mh-fallback" | "flag-1" => self.fallback = true,
            "sh-port" | "mh-port" | "flag-2" => self.port = true,
            "flag-3" => self.flag3 = true,
            other => return Err(SchedulerError::UnknownFlag { name: other.to_string() }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_refused_with_the_known_ones() {
        assert_eq!("mh".parse::<Scheduler>(), Ok(Scheduler::Mh));
        let e = "roundrobin".parse::<Scheduler>().unwrap_err();
        assert_eq!(e, SchedulerError::UnknownScheduler { name: "roundrobin".to_string() });
        assert_eq!(
            e.to_string(),
            "unknown scheduler `roundrobin`; the kernel has rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos"
        );
        let mut flags = SchedFlags::default();
        flags.set_by_name("mh-fallback").unwrap();
        assert!(flags.fallback);
        assert_eq!(
            flags.set_by_name("sh-fallbak").unwrap_err().to_string(),
            "unknown scheduler flag `sh-fallbak`; ipvsadm knows sh-fallback, sh-port, \
             mh-fallback, mh-port, flag-1, flag-2 and flag-3"
        );
    }
}
