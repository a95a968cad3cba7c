//! One dump of the kernel's IPVS state with its counters: what `status` shows.
//! The planner needs only the [`Table`] inside it.

use super::{Dest, Service, SyncDaemon, Table, Timeouts, VirtualService};

/// IPVS counters (struct ip_vs_kstats via IPVS_*_ATTR_STATS64). The first five are
/// totals since the object was made or zeroed; the last five are the kernel's
/// estimated rates per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// IP_VS_VERSION_CODE: 0x010201 is 1.2.1.
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", (self.version >> 16) & 0xff, (self.version >> 8) & 0xff, self.version & 0xff)
    }
}

impl Default for Info {
    /// What a stock 6.1 kernel reports.
    fn default() -> Self {
        Info { version: 0x010201, conn_tab_size: 4096 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestEntry {
    pub dest: Dest,
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: Stats,
}

impl DestEntry {
    pub fn new(dest: Dest) -> DestEntry {
        DestEntry { dest, active_conns: 0, inactive_conns: 0, persistent_conns: 0, stats: Stats::default() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub service: Service,
    pub stats: Stats,
    pub dests: Vec<DestEntry>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub info: Info,
    pub services: Vec<ServiceEntry>,
    /// The kernel's actual timeouts (never 0 once read back).
    pub timeouts: Timeouts,
    pub daemons: Vec<SyncDaemon>,
}

impl Snapshot {
    /// The table without counters, in the kernel's order.
    pub fn table(&self) -> Table {
        Table {
            services: self
                .services
                .iter()
                .map(|s| VirtualService { service: s.service.clone(), dests: s.dests.iter().map(|d| d.dest).collect() })
                .collect(),
            timeouts: self.timeouts,
            daemons: self.daemons.clone(),
        }
    }
}
