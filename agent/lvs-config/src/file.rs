//! The RON file as written: serde types that mirror the text one to one.
//! Defaults live here; meaning and cross-checks live in `validate`.
//!
//! `role`, `health` and `expect_status` use newtype variants, which the reader
//! accepts unwrapped (`Director(vips: ...)`) thanks to ron's
//! `unwrap_variant_newtypes`; `implicit_some` lets optional fields be written
//! without `Some(...)`. Both are switched on in `load`.

use super::values::{Endpoint, Span, StatusSpec};
use ipnet::IpNet;
use lvs_ipvs::{Family, Forward, Protocol, Scheduler, SyncState, TunnelCsum, TunnelKind};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::PathBuf;

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appliance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    pub role: Role,
    #[serde(default, skip_serializing_if = "is_default")]
    pub log_level: LogLevel,
    /// Where the agent keeps its state; the state partition when the image has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// "default", a network ("198.51.100.0/24") or a host ("198.51.100.7").
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Role {
    Director(Director),
    RealServer(RealServerRole),
}

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

/// `net.ipv4.vs.*` switches, each written as 1 or 0 when given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsSysctls {
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Health {
    /// Not probed: always up, as with plain ipvsadm.
    #[default]
    Off,
    Tcp(TcpCheck),
    Http(HttpCheck),
    Udp(UdpCheck),
}

/// How often and how patiently to probe; the same for every kind of check.
/// Defaults follow haproxy's: every 2 s, up after 2 passes, down after 3 failures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpCheck {
    /// Probe this address instead of the real server's (a health endpoint on
    /// another interface, a sidecar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// Probe this port instead of the real server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default = "interval")]
    pub interval: Span,
    #[serde(default = "timeout")]
    pub timeout: Span,
    #[serde(default = "rise")]
    pub rise: u32,
    #[serde(default = "fall")]
    pub fall: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    #[serde(default = "root_path")]
    pub path: String,
    /// The Host header; the real server's address when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default = "ok_status")]
    pub expect_status: Vec<StatusSpec>,
    /// A substring the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_body: Option<String>,
    /// Bytes of the answer read at most, so a huge or endless body cannot hold a probe.
    #[serde(default = "max_bytes")]
    pub max_bytes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default = "interval")]
    pub interval: Span,
    #[serde(default = "timeout")]
    pub timeout: Span,
    #[serde(default = "rise")]
    pub rise: u32,
    #[serde(default = "fall")]
    pub fall: u32,
}

/// One datagram out, a reply back: for DNS, syslog-style or game servers, which
/// a TCP connect cannot test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpCheck {
    /// Sent as is (UTF-8): no payload fits every UDP protocol, so there is no default.
    pub payload: String,
    /// A substring the reply must contain; any reply passes when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default = "interval")]
    pub interval: Span,
    #[serde(default = "timeout")]
    pub timeout: Span,
    #[serde(default = "rise")]
    pub rise: u32,
    #[serde(default = "fall")]
    pub fall: u32,
}

/// 64 KiB: a status page fits; a runaway body is cut off.
pub(crate) const MAX_BYTES_DEFAULT: u32 = 64 * 1024;

fn max_bytes() -> u32 {
    MAX_BYTES_DEFAULT
}
fn interval() -> Span {
    Span::from_secs(2)
}
fn timeout() -> Span {
    Span::from_secs(1)
}
fn rise() -> u32 {
    2
}
fn fall() -> u32 {
    3
}
fn root_path() -> String {
    "/".to_string()
}
fn ok_status() -> Vec<StatusSpec> {
    vec![StatusSpec(200..=200)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealServerRole {
    /// How the director reaches this server; decides VIP placement and sysctls.
    pub mode: Forward,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp: Option<Arp>,
    /// rp_filter for tunl0 and all in tun mode (0 when not given: decapsulated
    /// packets arrive on tunl0 from clients routed via another interface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp_filter: Option<u8>,
    /// In nat mode, the director's address: replies must go back through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<StaticHttp>,
    /// Programs of the image to run and keep running (nginx, busybox httpd, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<Workload>,
}

/// A program the agent runs, restarts with backoff when it exits, and stops at shutdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// A name for logs; the command's file name when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absolute path of the program in the image.
    pub command: PathBuf,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The environment, and nothing else: `{"KEY": "value"}`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub restart: Restart,
    /// How long SIGTERM has before SIGKILL at shutdown.
    #[serde(default = "stop_timeout", skip_serializing_if = "is_stop_timeout")]
    pub stop_timeout: Span,
}

fn stop_timeout() -> Span {
    Span::from_secs(5)
}
fn is_stop_timeout(s: &Span) -> bool {
    *s == stop_timeout()
}

/// When a workload that exited is started again (after a backoff of 1 s, doubling to 30 s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Restart {
    #[default]
    Always,
    OnFailure,
    Never,
}

/// ARP suppression, as `/proc/sys/net/ipv4/conf/<if>/arp_ignore` and `arp_announce`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arp {
    #[serde(default = "arp_ignore")]
    pub ignore: u8,
    #[serde(default = "arp_announce")]
    pub announce: u8,
    /// Default: lo and all (dr), tunl0 and all (tun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<String>>,
    /// Say that ARP for the VIP is handled another way (arptables, static ARP on
    /// the router), so that ignore 0 or announce 0 is allowed in dr and tun mode.
    #[serde(default, skip_serializing_if = "is_false")]
    pub handled_elsewhere: bool,
}

fn arp_ignore() -> u8 {
    1
}
fn arp_announce() -> u8 {
    2
}

/// The built-in static HTTP server, for demos and tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticHttp {
    #[serde(default = "http_port")]
    pub port: u16,
    /// A fixed body for every path; the hostname and a newline when neither this nor `root` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A folder of files to serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
}

fn http_port() -> u16 {
    80
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}
