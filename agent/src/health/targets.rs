//! From a director's model to what is probed: one target per distinct endpoint
//! and check, shared by every service and real server that uses it, and one
//! rise/fall watch per distinct way of judging a target's outcomes.

use super::target::{Target, TargetId};
use lvs_config::file::Initial;
use lvs_config::model::Director;
pub use lvs_config::model::Slot;
use std::collections::{BTreeMap, HashMap};

/// Index of a watch in [`Probes::watches`].
pub type WatchId = usize;

/// How a target's outcomes are judged. Two services probing the same target
/// with other rise, fall or initial settings judge it apart: one probe, two
/// verdicts. With the same settings they share one, so a transition is logged once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watch {
    pub target: TargetId,
    pub rise: u32,
    pub fall: u32,
    pub initial: Initial,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probes {
    /// For the engine: a TargetId is an index here.
    pub targets: Vec<Target>,
    pub watches: Vec<Watch>,
    /// Every checked real server; unchecked ones are absent (always up).
    pub slots: BTreeMap<Slot, WatchId>,
    /// The watches of each target, indexed by TargetId: an outcome costs the
    /// watches of its target, not a scan of every watch.
    by_target: Vec<Vec<WatchId>>,
}

impl Probes {
    pub fn of(director: &Director) -> Probes {
        let mut probes = Probes::default();
        // Hashed, so that 10,000 real servers cost 10,000 look-ups, not 50 million comparisons.
        let mut target_ids: HashMap<Target, TargetId> = HashMap::new();
        let mut watch_ids: HashMap<Watch, WatchId> = HashMap::new();
        for spec in &director.services {
            for rs in &spec.real_servers {
                let Some(health) = &rs.health else { continue };
                let target = *target_ids.entry(health.target.clone()).or_insert_with(|| {
                    probes.targets.push(health.target.clone());
                    probes.by_target.push(Vec::new());
                    probes.targets.len() - 1
                });
                let watch = Watch { target, rise: health.rise, fall: health.fall, initial: spec.initial };
                let id = *watch_ids.entry(watch).or_insert_with(|| {
                    probes.watches.push(watch);
                    probes.by_target[target].push(probes.watches.len() - 1);
                    probes.watches.len() - 1
                });
                probes.slots.insert(Slot { service: spec.service.key, real_server: rs.dest.addr }, id);
            }
        }
        probes
    }

    pub fn target_of(&self, slot: &Slot) -> Option<TargetId> {
        self.slots.get(slot).map(|w| self.watches[*w].target)
    }

    pub fn watch_of(&self, slot: &Slot) -> Option<WatchId> {
        self.slots.get(slot).copied()
    }

    /// The watches that judge this target's outcomes.
    pub fn watches_of(&self, target: TargetId) -> impl Iterator<Item = WatchId> + '_ {
        self.by_target.get(target).into_iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_config::model::Role;
    use lvs_ipvs::ServiceKey;
    use std::path::Path;

    fn director(services: &str) -> Director {
        let text = format!(r#"Appliance(role: Director(vips: [], services: [{services}]))"#);
        let loaded = lvs_config::parse(&text, Path::new("t.ron")).unwrap();
        let Role::Director(d) = loaded.model.role else { panic!() };
        d
    }

    #[test]
    fn the_same_endpoint_and_check_is_probed_once_for_every_service() {
        let d = director(
            r#"Service(address: "192.0.2.80:80", health: Http(path: "/h"), real_servers: [RealServer(address: "192.0.2.21"), RealServer(address: "192.0.2.22")]),
               Service(address: "192.0.2.81:80", health: Http(path: "/h", rise: 5), real_servers: [RealServer(address: "192.0.2.21")]),
               Service(address: "192.0.2.82:80", health: Http(path: "/other"), real_servers: [RealServer(address: "192.0.2.21")]),
               Service(address: "192.0.2.83:80", real_servers: [RealServer(address: "192.0.2.21")])"#,
        );
        let p = Probes::of(&d);
        // .21 /h, .22 /h, .21 /other: the second service's /h on .21 is the first's target.
        assert_eq!(p.targets.len(), 3);
        let slot = |vip: &str, rs: &str| Slot {
            service: ServiceKey::Inet { protocol: lvs_ipvs::Protocol::Tcp, addr: vip.parse().unwrap() },
            real_server: rs.parse().unwrap(),
        };
        let a = slot("192.0.2.80:80", "192.0.2.21:80");
        let b = slot("192.0.2.81:80", "192.0.2.21:80");
        assert_eq!(p.target_of(&a), p.target_of(&b));
        // Other rise: same probe, judged apart.
        assert_ne!(p.watch_of(&a), p.watch_of(&b));
        assert_eq!(
            p.watches_of(p.target_of(&a).unwrap()).collect::<Vec<_>>(),
            [p.watch_of(&a).unwrap(), p.watch_of(&b).unwrap()]
        );
        assert_eq!(p.watches_of(99).count(), 0);
        assert_ne!(p.target_of(&slot("192.0.2.82:80", "192.0.2.21:80")), p.target_of(&a));
        // Unchecked: not a slot of any probe.
        assert_eq!(p.target_of(&slot("192.0.2.83:80", "192.0.2.21:80")), None);
        assert_eq!(p.slots.len(), 4);
    }

    #[test]
    fn another_interval_is_another_target() {
        let d = director(
            r#"Service(address: "192.0.2.80:80", health: Tcp(), real_servers: [RealServer(address: "192.0.2.21")]),
               Service(address: "192.0.2.81:80", health: Tcp(interval: "5s"), real_servers: [RealServer(address: "192.0.2.21:80")])"#,
        );
        assert_eq!(Probes::of(&d).targets.len(), 2);
    }
}
