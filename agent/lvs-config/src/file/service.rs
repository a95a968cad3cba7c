//! One virtual service: its key, scheduling, persistence, forwarding, its real
//! servers and what happens when they fail (the check itself is in `health`).

use super::{is_default, is_false, Health};
use crate::values::{Endpoint, Span};
use lvs_ipvs::{Family, Forward, Protocol, Scheduler, TunnelCsum, TunnelKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    /// Only for fwmark services, which have no address to tell the family by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(default = "tcp", skip_serializing_if = "is_tcp")]
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "is_default")]
    pub scheduler: Scheduler,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduler_flags: Vec<SchedFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub one_packet: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    pub forwarding: Forward,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Tunnel>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub health: Health,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server: Option<SorryServer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<Quorum>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub when_down: WhenDown,
    #[serde(default, skip_serializing_if = "is_default")]
    pub initial: Initial,
    #[serde(default)]
    pub real_servers: Vec<RealServer>,
}

/// What happens to a real server whose check fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WhenDown {
    /// Weight 0: no new connections, but established ones finish (keepalived's
    /// inhibit_on_failure, ldirectord's quiescent).
    #[default]
    Quiesce,
    /// Taken out of the table: its connections break at their next packet.
    Remove,
}

/// A checked real server's state before its first check has answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Initial {
    /// No traffic until the first passing check (keepalived's alpha mode).
    #[default]
    Down,
    /// Traffic at once; down only after `fall` failures.
    Up,
}

fn tcp() -> Protocol {
    Protocol::Tcp
}
fn is_tcp(p: &Protocol) -> bool {
    *p == Protocol::Tcp
}

/// ipvsadm's `-b` names. sh and mh read bits 1 and 2; bit 3 has no scheduler yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchedFlag {
    ShFallback,
    ShPort,
    MhFallback,
    MhPort,
    Flag1,
    Flag2,
    Flag3,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persistence {
    /// 360 s when not given, as ipvsadm's bare `-p` and keepalived's default.
    #[serde(default = "persistence_timeout")]
    pub timeout: Span,
    /// IPv4: a netmask ("255.255.255.0") or prefix ("/24"); IPv6: a prefix ("/64").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<PersistenceEngine>,
}

pub(crate) const PERSISTENCE_TIMEOUT_SECS: u64 = 360;

fn persistence_timeout() -> Span {
    Span::from_secs(PERSISTENCE_TIMEOUT_SECS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersistenceEngine {
    Sip,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: TunnelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub checksum: TunnelCsum,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealServer {
    /// The port may be left out: it is then the service's port.
    pub address: Endpoint,
    /// Taken as i64 so that a negative or too large weight gets our message, not a type error.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding: Option<Forward>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Tunnel>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub upper_threshold: u32,
    #[serde(default, skip_serializing_if = "is_default")]
    pub lower_threshold: u32,
    /// Replaces the service's health check for this real server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

fn one() -> i64 {
    1
}
fn is_one(w: &i64) -> bool {
    *w == 1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SorryServer {
    pub address: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding: Option<Forward>,
}

/// The service is up while the weight of its healthy real servers is at least
/// `min_weight`; once down, it needs `min_weight + hysteresis` to come back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quorum {
    pub min_weight: u32,
    #[serde(default, skip_serializing_if = "is_default")]
    pub hysteresis: u32,
}
