//! The desired table from health: one test per rule (quiesce, remove, restore,
//! sorry server, quorum and its hysteresis, overrides), and a property: no
//! table ever gives a down server a weight.

mod common;
use common::{director, parse};
use lvs_agent::keeper::{desired, quorum_met, Desired, Overrides};
use lvs_config::file::WhenDown;
use lvs_config::model::Slot;
use lvs_config::model::{Director, Quorum, RealServerSpec, Role, ServiceSpec};
use lvs_ipvs::{Dest, Protocol, Service, ServiceKey};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn model(services: &str) -> Director {
    let loaded = parse(&director(services)).unwrap_or_else(|e| panic!("{e}"));
    let Role::Director(d) = loaded.model.role else { panic!() };
    d
}

fn key(vip: &str) -> ServiceKey {
    ServiceKey::Inet { protocol: Protocol::Tcp, addr: vip.parse().unwrap() }
}

fn slot(vip: &str, rs: &str) -> Slot {
    Slot { service: key(vip), real_server: rs.parse().unwrap() }
}

/// The desired table with these real servers down and these services up before.
fn with_down(d: &Director, down: &[Slot], was_up: &[&str], overrides: &Overrides) -> Desired {
    let down: BTreeSet<Slot> = down.iter().copied().collect();
    let was_up = was_up.iter().map(|v| (key(v), true)).collect();
    desired(d, &|s| !down.contains(s), &was_up, overrides)
}

/// "addr=weight" for each dest of the service, in order.
fn weights(d: &Desired, vip: &str) -> Vec<String> {
    d.table.service(&key(vip)).unwrap().dests.iter().map(|d| format!("{}={}", d.addr, d.weight)).collect()
}

const TWO: &str = r#"Service(address: "192.0.2.80:80", health: Tcp(), sorry_server: SorryServer(address: "192.0.2.30"), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 3),
            ])"#;
const VIP: &str = "192.0.2.80:80";

#[test]
fn every_server_up_gets_its_configured_weight_and_no_sorry_server() {
    let d = with_down(&model(TWO), &[], &[], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=2", "192.0.2.22:80=3"]);
    assert!(d.services[&key(VIP)].up);
    assert!(!d.services[&key(VIP)].sorry);
}

#[test]
fn a_down_server_is_quiesced_by_default() {
    let d = with_down(&model(TWO), &[slot(VIP, "192.0.2.21:80")], &[VIP], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=3"]);
    assert_eq!(d.services[&key(VIP)].up_weight, 3);
}

#[test]
fn a_down_server_is_removed_when_the_service_says_so() {
    let m = model(&TWO.replace("health: Tcp(),", "health: Tcp(), when_down: Remove,"));
    let d = with_down(&m, &[slot(VIP, "192.0.2.21:80")], &[VIP], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.22:80=3"]);
}

#[test]
fn no_server_up_brings_in_the_sorry_server_and_one_back_up_takes_it_out() {
    let m = model(TWO);
    let all = [slot(VIP, "192.0.2.21:80"), slot(VIP, "192.0.2.22:80")];
    let d = with_down(&m, &all, &[VIP], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0", "192.0.2.30:80=1"]);
    assert!(!d.services[&key(VIP)].up && d.services[&key(VIP)].sorry);
    let d = with_down(&m, &all[..1], &[], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=3"]);
}

#[test]
fn healthy_servers_of_weight_zero_do_not_keep_a_service_up() {
    // keepalived's `!weight_sum`: weight 0 takes no new connection, so the sorry server does.
    let m = model(&TWO.replace("weight: 2", "weight: 0").replace("weight: 3", "weight: 0"));
    let d = with_down(&m, &[], &[VIP], &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0", "192.0.2.30:80=1"]);
}

#[test]
fn unchecked_servers_are_always_up() {
    let m = model(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", weight: 4)])"#);
    let d = desired(&m, &|_| true, &BTreeMap::new(), &Overrides::default());
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=4"]);
}

const QUORUM: &str = r#"Service(address: "192.0.2.80:80", health: Tcp(), quorum: Quorum(min_weight: 4, hysteresis: 2), SORRY real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 2),
                RealServer(address: "192.0.2.23", weight: 2),
            ])"#;

#[test]
fn under_quorum_the_sorry_server_takes_all_traffic() {
    let m = model(&QUORUM.replace("SORRY", r#"sorry_server: SorryServer(address: "192.0.2.30"),"#));
    let down = [slot(VIP, "192.0.2.21:80"), slot(VIP, "192.0.2.22:80")];
    let d = with_down(&m, &down, &[VIP], &Overrides::default());
    // .23 is healthy but taken out, as keepalived's perform_quorum_state does.
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0", "192.0.2.23:80=0", "192.0.2.30:80=1"]);
}

#[test]
fn under_quorum_without_a_sorry_server_the_healthy_servers_keep_serving() {
    let m = model(&QUORUM.replace("SORRY", ""));
    let down = [slot(VIP, "192.0.2.21:80"), slot(VIP, "192.0.2.22:80")];
    let d = with_down(&m, &down, &[VIP], &Overrides::default());
    assert!(!d.services[&key(VIP)].up);
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0", "192.0.2.23:80=2"]);
}

#[test]
fn quorum_comes_back_only_at_min_weight_plus_hysteresis() {
    let m = model(&QUORUM.replace("SORRY", r#"sorry_server: SorryServer(address: "192.0.2.30"),"#));
    let one_down = [slot(VIP, "192.0.2.21:80")];
    // Up before: 4 healthy is enough to stay up.
    assert!(with_down(&m, &one_down, &[VIP], &Overrides::default()).services[&key(VIP)].up);
    // Down before: 4 is not enough to come back, 6 is.
    let d = with_down(&m, &one_down, &[], &Overrides::default());
    assert!(!d.services[&key(VIP)].up);
    assert!(weights(&d, VIP).contains(&"192.0.2.30:80=1".to_string()));
    assert!(with_down(&m, &[], &[], &Overrides::default()).services[&key(VIP)].up);
    // The rule itself, at its edges.
    let q = Some(Quorum { min_weight: 4, hysteresis: 2 });
    assert_eq!([3, 4, 5, 6].map(|w| quorum_met(q, w, true)), [false, true, true, true]);
    assert_eq!([3, 4, 5, 6].map(|w| quorum_met(q, w, false)), [false, false, false, true]);
    assert_eq!([0, 1].map(|w| quorum_met(None, w, false)), [false, true]);
}

#[test]
fn an_override_replaces_the_weight_of_an_up_server_and_counts_for_quorum() {
    let m = model(&QUORUM.replace("SORRY", ""));
    let mut o = Overrides::default();
    o.set(slot(VIP, "192.0.2.21:80"), Some(7));
    o.set(slot(VIP, "192.0.2.22:80"), Some(9));
    let d = with_down(&m, &[slot(VIP, "192.0.2.22:80")], &[], &o);
    assert_eq!(weights(&d, VIP), ["192.0.2.21:80=7", "192.0.2.22:80=0", "192.0.2.23:80=2"]);
    assert_eq!(d.services[&key(VIP)].up_weight, 9);
    assert!(d.services[&key(VIP)].up);
}

#[test]
fn timeouts_and_sync_daemons_come_from_the_config() {
    let text = director(TWO).replace(
        "services: [",
        r#"timeouts: Timeouts(tcp: "900s"), sync_daemons: [SyncDaemon(state: Master, interface: "eth0")], services: ["#,
    );
    let Role::Director(m) = parse(&text).unwrap().model.role else { panic!() };
    let d = with_down(&m, &[], &[], &Overrides::default());
    assert_eq!(d.table.timeouts, m.table().timeouts);
    assert_eq!(d.table.daemons, m.table().daemons);
}

/// Services of up to 4 real servers each, with random weights, quorum, sorry
/// server and when_down, and a random set of down servers.
fn arb_case() -> impl Strategy<Value = (Director, BTreeSet<Slot>, BTreeMap<ServiceKey, bool>, Overrides)> {
    let service = (
        prop::collection::vec((0u32..5, any::<bool>(), prop::option::of(0u32..6)), 0..5),
        prop::option::of((1u32..8, 0u32..4)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    prop::collection::vec(service, 1..4).prop_map(|services| {
        let mut down = BTreeSet::new();
        let mut was_up = BTreeMap::new();
        let mut overrides = Overrides::default();
        let specs = services
            .into_iter()
            .enumerate()
            .map(|(i, (servers, quorum, sorry, remove, up_before))| {
                let key = ServiceKey::Inet {
                    protocol: Protocol::Tcp,
                    addr: format!("192.0.2.80:{}", 80 + i).parse().unwrap(),
                };
                was_up.insert(key, up_before);
                let real_servers = servers
                    .into_iter()
                    .enumerate()
                    .map(|(j, (weight, is_down, set))| {
                        let addr = format!("192.0.2.{}:{}", 21 + j, 80 + i).parse().unwrap();
                        let slot = Slot { service: key, real_server: addr };
                        if is_down {
                            down.insert(slot);
                        }
                        if let Some(w) = set {
                            overrides.set(slot, Some(w));
                        }
                        RealServerSpec { dest: Dest { weight, ..Dest::new(addr) }, health: None }
                    })
                    .collect();
                ServiceSpec {
                    service: Service::new(key),
                    real_servers,
                    sorry_server: sorry.then(|| Dest::new(format!("192.0.2.30:{}", 80 + i).parse().unwrap())),
                    quorum: quorum.map(|(min_weight, hysteresis)| Quorum { min_weight, hysteresis }),
                    when_down: if remove { WhenDown::Remove } else { WhenDown::Quiesce },
                    initial: Default::default(),
                }
            })
            .collect();
        let d = Director {
            vips: vec![],
            ip_forward: true,
            services: specs,
            timeouts: Default::default(),
            sync_daemons: vec![],
            own_whole_table: false,
            ipvs_sysctls: vec![],
        };
        (d, down, was_up, overrides)
    })
}

proptest! {
    #[test]
    fn a_down_server_never_has_a_weight((d, down, was_up, overrides) in arb_case()) {
        let out = desired(&d, &|s| !down.contains(s), &was_up, &overrides);
        for spec in &d.services {
            let key = spec.service.key;
            let vs = out.table.service(&key).unwrap();
            let health = out.services[&key];
            for dest in &vs.dests {
                let slot = Slot { service: key, real_server: dest.addr };
                prop_assert!(!down.contains(&slot) || dest.weight == 0, "{} is down with weight {}", dest.addr, dest.weight);
            }
            // The sorry server is in exactly when the service is down and has one.
            let sorry_in = spec.sorry_server.is_some_and(|s| vs.dests.iter().any(|d| d.addr == s.addr));
            prop_assert_eq!(sorry_in, !health.up && spec.sorry_server.is_some());
            prop_assert_eq!(health.sorry, sorry_in);
            // While the sorry server serves, no real server does.
            if sorry_in {
                prop_assert!(vs.dests.iter().filter(|d| Some(d.addr) != spec.sorry_server.map(|s| s.addr)).all(|d| d.weight == 0));
            }
        }
    }
}
