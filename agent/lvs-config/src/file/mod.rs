//! The RON file as written: serde types that mirror the text one to one.
//! Defaults live here; meaning and cross-checks live in `validate`.
//!
//! `role`, `health` and `expect_status` use newtype variants, which the reader
//! accepts unwrapped (`Director(vips: ...)`) thanks to ron's
//! `unwrap_variant_newtypes`; `implicit_some` lets optional fields be written
//! without `Some(...)`. Both are switched on in `load`.

mod director;
mod health;
mod network;
mod real_server;
mod service;

pub use director::{Director, IpvsSysctls, SyncDaemon, Timeouts, Vip};
pub use health::{Health, HttpCheck, TcpCheck, UdpCheck};
pub use network::{Interface, Route};
pub use real_server::{Arp, RealServerRole, Restart, StaticHttp, Workload};
pub use service::{
    Initial, Persistence, PersistenceEngine, Quorum, RealServer, SchedFlag, Service, SorryServer, Tunnel, WhenDown,
};

use serde::{Deserialize, Serialize};
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
    /// The management API (docs/API.md); no listener without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<Management>,
}

/// `management: Management(listen: ["192.0.2.10:9443"], pki: "/config/pki")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Management {
    /// Address and port pairs to listen on, e.g. "192.0.2.10:9443".
    pub listen: Vec<String>,
    /// The folder with ca.pem and server.pem; the config partition's pki/ when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Role {
    Director(Director),
    RealServer(RealServerRole),
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
