//! The real server role: VIPs, ARP, the built-in HTTP server and workloads.

use super::{is_default, is_false};
use crate::values::Span;
use lvs_ipvs::Forward;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::PathBuf;

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
