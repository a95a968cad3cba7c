//! The IPVS table the director should have now: the config's table
//! (`Director::table`, the one place a table is made from the config),
//! adjusted by the real servers' health, the services' quorum and the
//! operator's overrides. Pure; the reconciler plans it against the kernel.
//!
//! keepalived's semantics (check/ipwrapper.c), which operators of LVS know:
//! - a server that goes down is quiesced (weight 0, `inhibit_on_failure`) or
//!   removed; back up, it gets its weight again;
//! - a service whose healthy weight is 0, or under its quorum, is down: its
//!   sorry server is added and its healthy servers are taken out the same way
//!   as failed ones (perform_quorum_state); when it is up again the sorry
//!   server goes and they come back;
//! - a service that loses its quorum without a sorry server keeps its healthy
//!   servers serving: keepalived then only notifies, and part of a service is
//!   better than none.
//!
//! The hysteresis follows this project's README rather than keepalived: up while
//! the healthy weight is at least `min_weight`, back up at `min_weight +
//! hysteresis` (keepalived goes down under `quorum - hysteresis` and comes back
//! at `quorum + hysteresis`).

use super::overrides::Overrides;
use lvs_config::file::WhenDown;
use lvs_config::model::{Director, Quorum, Slot};
use lvs_ipvs::{ServiceKey, Table};
use std::collections::BTreeMap;

/// How one service stands once health is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceHealth {
    /// Total weight of its healthy real servers.
    pub up_weight: u64,
    /// Whether it has its quorum (without one: whether `up_weight` is above 0).
    pub up: bool,
    /// Whether its sorry server is in the table.
    pub sorry: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub table: Table,
    pub services: BTreeMap<ServiceKey, ServiceHealth>,
}

/// The table for these health states. `up` says whether a real server is
/// healthy (unchecked ones are); `was_up` is each service's previous quorum
/// state, for the hysteresis (a service not in it counts as down, so a new
/// service needs `min_weight + hysteresis`, as keepalived's start does).
pub fn desired(
    director: &Director,
    up: &dyn Fn(&Slot) -> bool,
    was_up: &BTreeMap<ServiceKey, bool>,
    overrides: &Overrides,
) -> Desired {
    let mut table = director.table();
    let mut services = BTreeMap::new();
    // Director::table() makes one virtual service per spec, in the same order.
    for (spec, vs) in director.services.iter().zip(&mut table.services) {
        let key = spec.service.key;
        let slot = |addr| Slot { service: key, real_server: addr };
        let weight = |configured: u32, addr| overrides.weight(&slot(addr)).unwrap_or(configured);
        let up_weight: u64 =
            vs.dests.iter().filter(|d| up(&slot(d.addr))).map(|d| u64::from(weight(d.weight, d.addr))).sum();
        let service_up = quorum_met(spec.quorum, up_weight, was_up.get(&key).copied().unwrap_or(false));
        let sorry = spec.sorry_server.filter(|_| !service_up);
        vs.dests.retain_mut(|d| {
            let serving = up(&slot(d.addr)) && sorry.is_none();
            match (serving, spec.when_down) {
                (true, _) => d.weight = weight(d.weight, d.addr),
                (false, WhenDown::Quiesce) => d.weight = 0,
                (false, WhenDown::Remove) => return false,
            }
            true
        });
        vs.dests.extend(sorry);
        services.insert(key, ServiceHealth { up_weight, up: service_up, sorry: sorry.is_some() });
    }
    Desired { table, services }
}

/// Without a quorum a service is up while any weight is healthy (keepalived's
/// default quorum of 1); a healthy weight of 0 is down whatever the hysteresis.
pub fn quorum_met(quorum: Option<Quorum>, up_weight: u64, was_up: bool) -> bool {
    let Quorum { min_weight, hysteresis } = quorum.unwrap_or(Quorum { min_weight: 1, hysteresis: 0 });
    let needed = if was_up { u64::from(min_weight) } else { u64::from(min_weight) + u64::from(hysteresis) };
    up_weight > 0 && up_weight >= needed
}
