//! The IPVS table the director should have now: the config, adjusted by the
//! real servers' health, the services' quorum and the operator's overrides.
//! Pure; the reconciler plans it against the kernel.
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

use super::targets::Slot;
use lvs_config::file::WhenDown;
use lvs_config::model::{Director, Quorum};
use lvs_ipvs::{Dest, ServiceKey, Table, VirtualService};
use std::collections::BTreeMap;

/// What an operator changed at run time, over the config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// A weight in place of the configured one; a down server still gets 0.
    /// Sorted by slot (a Vec rather than a map: a few entries, and less code
    /// in a binary with a size budget).
    weights: Vec<(Slot, u32)>,
}

impl Overrides {
    pub fn weight(&self, slot: &Slot) -> Option<u32> {
        self.weights.binary_search_by_key(slot, |(s, _)| *s).ok().map(|i| self.weights[i].1)
    }

    /// Sets (Some) or clears (None) one; returns the one it replaces.
    pub fn set(&mut self, slot: Slot, weight: Option<u32>) -> Option<u32> {
        match (self.weights.binary_search_by_key(&slot, |(s, _)| *s), weight) {
            (Ok(i), Some(w)) => Some(std::mem::replace(&mut self.weights[i].1, w)),
            (Ok(i), None) => Some(self.weights.remove(i).1),
            (Err(i), Some(w)) => {
                self.weights.insert(i, (slot, w));
                None
            }
            (Err(_), None) => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Slot, u32)> + '_ {
        self.weights.iter().copied()
    }
}

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
    let mut services = BTreeMap::new();
    let mut table = Table { services: Vec::new(), timeouts: director.timeouts, daemons: director.sync_daemons.clone() };
    for spec in &director.services {
        let key = spec.service.key;
        let slot = |addr| Slot { service: key, real_server: addr };
        let weight = |d: &Dest| overrides.weight(&slot(d.addr)).unwrap_or(d.weight);
        let up_weight: u64 =
            spec.real_servers.iter().filter(|r| up(&slot(r.dest.addr))).map(|r| u64::from(weight(&r.dest))).sum();
        let service_up = quorum_met(spec.quorum, up_weight, was_up.get(&key).copied().unwrap_or(false));
        let sorry = spec.sorry_server.filter(|_| !service_up);

        let mut dests = Vec::with_capacity(spec.real_servers.len() + 1);
        for r in &spec.real_servers {
            let serving = up(&slot(r.dest.addr)) && sorry.is_none();
            match (serving, spec.when_down) {
                (true, _) => dests.push(Dest { weight: weight(&r.dest), ..r.dest }),
                (false, WhenDown::Quiesce) => dests.push(Dest { weight: 0, ..r.dest }),
                (false, WhenDown::Remove) => {}
            }
        }
        dests.extend(sorry);
        table.services.push(VirtualService { service: spec.service.clone(), dests });
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

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_ipvs::Protocol;

    #[test]
    fn overrides_are_set_replaced_and_cleared() {
        let slot = |rs: &str| Slot {
            service: ServiceKey::Inet { protocol: Protocol::Tcp, addr: "192.0.2.80:80".parse().unwrap() },
            real_server: rs.parse().unwrap(),
        };
        let mut o = Overrides::default();
        assert_eq!(o.set(slot("192.0.2.22:80"), Some(2)), None);
        assert_eq!(o.set(slot("192.0.2.21:80"), Some(1)), None);
        assert_eq!(o.set(slot("192.0.2.22:80"), Some(3)), Some(2));
        assert_eq!(o.iter().collect::<Vec<_>>(), [(slot("192.0.2.21:80"), 1), (slot("192.0.2.22:80"), 3)]);
        assert_eq!(o.set(slot("192.0.2.21:80"), None), Some(1));
        assert_eq!(o.set(slot("192.0.2.21:80"), None), None);
        assert_eq!((o.weight(&slot("192.0.2.21:80")), o.weight(&slot("192.0.2.22:80"))), (None, Some(3)));
    }
}
