//! `lvs-agent status --json`: the snapshot as one JSON document.
//!
//! The shape is a contract for scripts, so it lives in these view structs
//! rather than in serde derives on the shared ipvs types, and it only grows:
//! fields are added, never renamed or removed, without bumping
//! [`JSON_SCHEMA_VERSION`]. Every field is always present (`null` where a
//! value does not apply). Lists follow the text listing's order (ipvsadm's
//! sort unless `nosort`). Example, abridged:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "info": { "version": "1.2.1", "version_code": 66049, "conn_tab_size": 4096 },
//!   "services": [ {
//!     "name": "TCP  192.0.2.1:80",
//!     "key": { "type": "inet", "family": "ipv4", "protocol": "tcp", "address": "192.0.2.1", "port": 80 },
//!     "scheduler": "sh", "sched_flags": ["sh-fallback"],
//!     "persistence": { "timeout": 360, "netmask": "255.255.255.0", "prefix_len": 24 },
//!     "one_packet": false, "pe": null,
//!     "stats": { "conns": 0, "inpkts": 0, "outpkts": 0, "inbytes": 0, "outbytes": 0,
//!                "cps": 0, "inpps": 0, "outpps": 0, "inbps": 0, "outbps": 0 },
//!     "dests": [ {
//!       "name": "192.0.2.10:80", "family": "ipv4", "address": "192.0.2.10", "port": 80,
//!       "forward": "Route", "weight": 1, "upper_threshold": 0, "lower_threshold": 0,
//!       "tunnel": null, "active_conns": 0, "inactive_conns": 0, "persistent_conns": 0,
//!       "stats": { … }
//!     } ]
//!   } ],
//!   "timeouts": { "tcp": 900, "tcp_fin": 120, "udp": 300 },
//!   "daemons": [ { "state": "master", "interface": "eth0", "sync_id": 1,
//!                  "sync_maxlen": null, "mcast_group": null, "mcast_port": null, "mcast_ttl": null } ]
//! }
//! ```
//!
//! Strings are ipvsadm's where ipvsadm has one: `name` is its first column,
//! `forward` its Forward column (`Masq`, `Local`, `Tunnel`, `Route`),
//! `sched_flags` its `-b` names, `tunnel.info` its TunnelInfo column.
//! Addresses are bare (no brackets, no port) in `address` and `mcast_group`.

use super::addr::{addr_port, ntop};
use super::daemons::DaemonStatus;
use super::layout::{sched_flag_names, service_name, tunnel_info};
use super::{order, Options};
use lvs_ipvs::{
    DestEntry, Family, Forward, Info, PersistMask, Persistence, Protocol, ServiceEntry, ServiceKey, Snapshot, Stats,
    Timeouts, TunnelCsum, TunnelKind,
};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Bumped only if a field changes meaning or goes away.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub schema_version: u32,
    pub info: InfoView,
    pub services: Vec<ServiceView>,
    pub timeouts: TimeoutsView,
    pub daemons: Vec<DaemonView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoView {
    /// Dotted, as in ipvsadm's first line: "1.2.1".
    pub version: String,
    /// The kernel's IP_VS_VERSION_CODE, e.g. 66049 (0x010201).
    pub version_code: u32,
    pub conn_tab_size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// ipvsadm's first column: "TCP  192.0.2.1:80", "FWM  7 IPv6".
    pub name: String,
    pub key: ServiceKeyView,
    pub scheduler: String,
    pub sched_flags: Vec<String>,
    /// `null` when the service is not persistent.
    pub persistence: Option<PersistenceView>,
    pub one_packet: bool,
    /// Persistence engine ("sip"), or `null`.
    pub pe: Option<String>,
    pub stats: StatsView,
    pub dests: Vec<DestView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServiceKeyView {
    Inet {
        /// "ipv4" or "ipv6".
        family: String,
        /// "tcp", "udp" or "sctp".
        protocol: String,
        address: String,
        port: u16,
    },
    Fwmark {
        family: String,
        fwmark: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistenceView {
    /// Seconds.
    pub timeout: u32,
    /// As ipvsadm's `mask`: a dotted netmask for IPv4, a prefix length for IPv6.
    pub netmask: String,
    /// The mask as a prefix length for either family (leading one bits for IPv4).
    pub prefix_len: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestView {
    /// ipvsadm's address column: "192.0.2.10:80", "[2001:db8::10]:80".
    pub name: String,
    pub family: String,
    pub address: String,
    pub port: u16,
    /// "Masq", "Local", "Tunnel" or "Route".
    pub forward: String,
    pub weight: u32,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    /// Encapsulation; `null` unless `forward` is "Tunnel".
    pub tunnel: Option<TunnelView>,
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: StatsView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelView {
    /// "ipip", "gue" or "gre".
    #[serde(rename = "type")]
    pub kind: String,
    /// GUE's UDP port; 0 for the others.
    pub port: u16,
    /// "nocsum", "csum" or "remcsum".
    pub csum: String,
    /// ipvsadm's TunnelInfo column: "ipip", "gue:6080:-c", "gre:+c".
    pub info: String,
}

/// Totals since the object was made or zeroed, then the kernel's per-second estimates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutsView {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonView {
    /// "master" or "backup".
    pub state: String,
    pub interface: String,
    pub sync_id: u8,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<String>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

fn family(f: Family) -> String {
    match f {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
    .to_string()
}

impl From<&Stats> for StatsView {
    fn from(s: &Stats) -> Self {
        StatsView {
            conns: s.conns,
            inpkts: s.inpkts,
            outpkts: s.outpkts,
            inbytes: s.inbytes,
            outbytes: s.outbytes,
            cps: s.cps,
            inpps: s.inpps,
            outpps: s.outpps,
            inbps: s.inbps,
            outbps: s.outbps,
        }
    }
}

impl From<&Info> for InfoView {
    fn from(i: &Info) -> Self {
        InfoView { version: i.version_string(), version_code: i.version, conn_tab_size: i.conn_tab_size }
    }
}

impl From<&Timeouts> for TimeoutsView {
    fn from(t: &Timeouts) -> Self {
        TimeoutsView { tcp: t.tcp, tcp_fin: t.tcp_fin, udp: t.udp }
    }
}

impl From<&DaemonStatus> for DaemonView {
    fn from(d: &DaemonStatus) -> Self {
        DaemonView {
            state: d.state.name().to_string(),
            interface: d.interface.clone(),
            sync_id: d.sync_id,
            sync_maxlen: d.sync_maxlen,
            mcast_group: d.mcast_group.as_ref().map(ntop),
            mcast_port: d.mcast_port,
            mcast_ttl: d.mcast_ttl,
        }
    }
}

impl From<&ServiceKey> for ServiceKeyView {
    fn from(k: &ServiceKey) -> Self {
        match k {
            ServiceKey::Inet { protocol, addr } => ServiceKeyView::Inet {
                family: family(k.family()),
                protocol: match protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Sctp => "sctp",
                }
                .to_string(),
                address: ntop(&addr.ip()),
                port: addr.port(),
            },
            ServiceKey::Fwmark { family: f, mark } => ServiceKeyView::Fwmark { family: family(*f), fwmark: *mark },
        }
    }
}

impl From<&Persistence> for PersistenceView {
    fn from(p: &Persistence) -> Self {
        let (netmask, prefix_len) = match p.netmask {
            // A kernel mask need not be contiguous; count its leading ones all the same.
            PersistMask::V4(m) => (m.to_string(), u32::from(m).leading_ones() as u8),
            PersistMask::V6(len) => (len.to_string(), len),
        };
        PersistenceView { timeout: p.timeout, netmask, prefix_len }
    }
}

fn dest_view(d: &DestEntry) -> DestView {
    let addr: SocketAddr = d.dest.addr;
    let tunnel = (d.dest.forward == Forward::Tunnel).then(|| {
        let t = &d.dest.tunnel;
        TunnelView {
            kind: match t.kind {
                TunnelKind::Ipip => "ipip",
                TunnelKind::Gue => "gue",
                TunnelKind::Gre => "gre",
            }
            .to_string(),
            port: t.port,
            csum: match t.csum {
                TunnelCsum::NoChecksum => "nocsum",
                TunnelCsum::Checksum => "csum",
                TunnelCsum::RemoteChecksum => "remcsum",
            }
            .to_string(),
            info: tunnel_info(d.dest.forward, t),
        }
    });
    DestView {
        name: addr_port(&addr),
        family: family(Family::of(&addr.ip())),
        address: ntop(&addr.ip()),
        port: addr.port(),
        forward: d.dest.forward.label().to_string(),
        weight: d.dest.weight,
        upper_threshold: d.dest.upper_threshold,
        lower_threshold: d.dest.lower_threshold,
        tunnel,
        active_conns: d.active_conns,
        inactive_conns: d.inactive_conns,
        persistent_conns: d.persistent_conns,
        stats: StatsView::from(&d.stats),
    }
}

pub fn service_view(entry: &ServiceEntry, opts: &Options) -> ServiceView {
    let svc = &entry.service;
    ServiceView {
        name: service_name(&svc.key),
        key: ServiceKeyView::from(&svc.key),
        scheduler: svc.scheduler.name().to_string(),
        sched_flags: sched_flag_names(&svc.scheduler, &svc.sched_flags).into_iter().map(String::from).collect(),
        persistence: svc.persistence.as_ref().map(PersistenceView::from),
        one_packet: svc.one_packet,
        pe: svc.pe.clone().filter(|pe| !pe.is_empty()),
        stats: StatsView::from(&entry.stats),
        dests: order::dests(&entry.dests, opts.nosort).into_iter().map(dest_view).collect(),
    }
}

impl StatusView {
    pub fn new(snapshot: &Snapshot, opts: &Options) -> StatusView {
        StatusView {
            schema_version: JSON_SCHEMA_VERSION,
            info: InfoView::from(&snapshot.info),
            services: order::services(&snapshot.services, opts.nosort)
                .into_iter()
                .map(|s| service_view(s, opts))
                .collect(),
            timeouts: TimeoutsView::from(&snapshot.timeouts),
            daemons: snapshot.daemons.iter().map(|d| DaemonView::from(&DaemonStatus::from(d))).collect(),
        }
    }
}

fn pretty<T: Serialize>(value: &T) -> String {
    // Plain data of strings and integers: serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(value).expect("view structs serialise");
    text.push('\n');
    text
}

pub fn render(snapshot: &Snapshot, opts: &Options) -> String {
    pretty(&StatusView::new(snapshot, opts))
}

pub fn render_service(entry: &ServiceEntry, opts: &Options) -> String {
    pretty(&service_view(entry, opts))
}
