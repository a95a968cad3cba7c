//! The director role: VIPs, timeouts, sync daemons and `net.ipv4.vs.*`
//! sysctls (its services are in `service`).

use super::{is_default, is_false, is_true, yes, Service};
use crate::values::Span;
use lvs_ipvs::SyncState;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Director {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<Vip>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ip_forward: bool,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_daemons: Vec<SyncDaemon>,
    /// When true the agent owns the whole IPVS table and removes services it
    /// does not name; otherwise it touches only its own services.
    #[serde(default, skip_serializing_if = "is_false")]
    pub own_whole_table: bool,
    /// The `net.ipv4.vs.*` sysctls to set; those left out keep the kernel's value.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ipvs_sysctls: IpvsSysctls,
}

/// `net.ipv4.vs.*` settings, written when given: the switches as 1 or 0,
/// `conn_reuse_mode` as its number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsSysctls {
    /// What a new connection that reuses the client port of an old one gets:
    /// a bitmap, 0 to 3 (kernel default 1). Taken as i64 so that a value out
    /// of range gets our message, not a type error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn_reuse_mode: Option<i64>,
    /// Keep netfilter connection tracking for IPVS connections (needed when
    /// iptables NAT or conntrack rules must see NAT-forwarded traffic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conntrack: Option<bool>,
    /// Drop connections to a real server that was removed, at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_nodest_conn: Option<bool>,
    /// Expire persistence templates of a quiesced (weight 0) real server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_quiescent_template: Option<bool>,
    /// Take over TCP connections from the middle (after a failover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sloppy_tcp: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vip {
    pub address: IpAddr,
    pub interface: String,
}

/// As `ipvsadm --set tcp tcpfin udp`; a field left out keeps the kernel's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_fin: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncDaemon {
    pub state: SyncState,
    pub interface: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub sync_id: u8,
    // The numbers are taken as i64 so that one out of range gets our message,
    // not a type error.
    /// `--sync-maxlen`: largest sync message payload; the kernel's default is
    /// the interface MTU (1500 for a master) minus IP and UDP headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_maxlen: Option<i64>,
    /// `--mcast-group`: an IPv4 or IPv6 multicast group (default 224.0.0.81).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_group: Option<IpAddr>,
    /// `--mcast-port` (default 8848).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_port: Option<i64>,
    /// `--mcast-ttl` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_ttl: Option<i64>,
}
