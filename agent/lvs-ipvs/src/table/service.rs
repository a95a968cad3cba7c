//! What identifies a virtual service, and its own settings.

use super::Persistence;
use crate::{SchedFlags, Scheduler};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number the kernel keys services by.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// ipvsadm's option that names a service of this protocol.
    pub fn ipvsadm_option(self) -> &'static str {
        match self {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
            Protocol::Sctp => "--sctp-service",
        }
    }

    /// The upper-case name `ipvsadm -L` prints.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Family {
    #[default]
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// What identifies a virtual service: protocol, address and port, or a firewall mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Inet { protocol: Protocol, addr: SocketAddr },
    Fwmark { family: Family, mark: u32 },
}

impl ServiceKey {
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { addr, .. } => Family::of(&addr.ip()),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// The port real servers inherit when they name none; fwmark services have none.
    pub fn port(&self) -> Option<u16> {
        match self {
            ServiceKey::Inet { addr, .. } => Some(addr.port()),
            ServiceKey::Fwmark { .. } => None,
        }
    }
}

impl fmt::Display for ServiceKey {
    /// As `ipvsadm -Ln` names it: `TCP 192.0.2.1:80`, `FWM 7`, `FWM 7 IPv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => write!(f, "{} {}", protocol.label(), addr),
            ServiceKey::Fwmark { family: Family::Ipv4, mark } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark { family: Family::Ipv6, mark } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

/// One virtual service's own settings (its destinations live beside it in [`VirtualService`](super::VirtualService)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service {
    pub key: ServiceKey,
    pub scheduler: Scheduler,
    pub sched_flags: SchedFlags,
    pub persistence: Option<Persistence>,
    pub one_packet: bool,
    /// Persistence engine module name (`sip` is the only one upstream).
    pub pe: Option<String>,
}

impl Service {
    /// A service with the kernel's defaults: wlc, no persistence, no flags.
    pub fn new(key: ServiceKey) -> Service {
        Service {
            key,
            scheduler: Scheduler::default(),
            sched_flags: SchedFlags::default(),
            persistence: None,
            one_packet: false,
            pe: None,
        }
    }
}
