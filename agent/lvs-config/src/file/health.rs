//! Health checks as written: TCP connect, HTTP request, UDP datagram.

use crate::values::{Span, StatusSpec};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

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
