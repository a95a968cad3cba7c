//! The validated, normalized appliance: defaults resolved, ports filled in,
//! strings parsed. Everything downstream (planner, network setup, probes) reads this.

use super::file::{Initial, LogLevel, WhenDown};
use crate::probe::Target;
use ipnet::IpNet;
use lvs_ipvs::{Dest, Forward, Ownership, Service, ServiceKey, SyncDaemon, Table, Timeouts, VirtualService};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where the agent keeps state when the config does not say.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/lvs-agent";

#[derive(Clone, Debug, PartialEq)]
pub struct Appliance {
    pub hostname: Option<String>,
    pub interfaces: Vec<Interface>,
    pub routes: Vec<Route>,
    pub role: Role,
    pub log_level: LogLevel,
    pub state_dir: PathBuf,
    pub management: Option<Management>,
}

/// Where the management API's pki folder is when the config does not say:
/// beside the config file on the config partition (`lvs-image build --pki`).
pub const DEFAULT_PKI_DIR: &str = "/config/pki";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Management {
    pub listen: Vec<SocketAddr>,
    pub pki: PathBuf,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    pub name: String,
    pub addresses: Vec<IpNet>,
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// 0.0.0.0/0 or ::/0 for a default route.
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub interface: Option<String>,
    pub metric: Option<u32>,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.destination.prefix_len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    Director(Director),
    RealServer(RealServer),
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Director(_) => "director",
            Role::RealServer(_) => "real server",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Director {
    pub vips: Vec<Vip>,
    pub ip_forward: bool,
    pub services: Vec<ServiceSpec>,
    pub timeouts: Timeouts,
    pub sync_daemons: Vec<SyncDaemon>,
    pub own_whole_table: bool,
    /// `net.ipv4.vs.<name>` = value, for those the config sets; the switches
    /// as 0 or 1.
    pub ipvs_sysctls: Vec<(&'static str, u32)>,
}

impl Director {
    /// The IPVS table this director wants, every real server at its configured weight.
    pub fn table(&self) -> Table {
        Table {
            services: self
                .services
                .iter()
                .map(|s| VirtualService {
                    service: s.service.clone(),
                    dests: s.real_servers.iter().map(|r| r.dest).collect(),
                })
                .collect(),
            timeouts: self.timeouts,
            daemons: self.sync_daemons.clone(),
        }
    }

    /// Which services of the kernel's table this director may change.
    pub fn ownership(&self) -> Ownership {
        if self.own_whole_table {
            Ownership::WholeTable
        } else {
            Ownership::NamedServices
        }
    }

    pub fn real_server_count(&self) -> usize {
        self.services.iter().map(|s| s.real_servers.len()).sum()
    }
}

/// One real server of one service: the unit that gets a weight, a health
/// status and an operator's override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub service: ServiceKey,
    pub real_server: SocketAddr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vip {
    pub address: IpAddr,
    pub interface: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    pub service: Service,
    pub real_servers: Vec<RealServerSpec>,
    pub sorry_server: Option<Dest>,
    pub quorum: Option<Quorum>,
    pub when_down: WhenDown,
    pub initial: Initial,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RealServerSpec {
    pub dest: Dest,
    /// The service's check, or this server's own; None when not probed.
    pub health: Option<Health>,
}

/// A real server's check, resolved: the target is what the probe engine gets
/// (address and port overrides applied); rise and fall stay with the health core.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    pub target: Target,
    pub rise: u32,
    pub fall: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quorum {
    pub min_weight: u32,
    pub hysteresis: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RealServer {
    pub mode: Forward,
    pub vips: Vec<IpAddr>,
    pub arp: Arp,
    /// rp_filter value and the interfaces it is written to (tun mode).
    pub rp_filter: Option<(u8, Vec<String>)>,
    pub gateway: Option<IpAddr>,
    pub http: Option<StaticHttp>,
    pub workloads: Vec<Workload>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: String,
    pub command: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub restart: super::file::Restart,
    pub stop_timeout: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arp {
    pub ignore: u8,
    pub announce: u8,
    pub interfaces: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StaticHttp {
    pub port: u16,
    pub content: HttpContent,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HttpContent {
    Body(String),
    Root(PathBuf),
}
