//! The planner against the fake kernel: minimal changes, in an order that never
//! takes away a real server a service keeps, and a sync that undoes itself when
//! the kernel refuses a change.

use lvs_ipvs::fake::KERNEL_TIMEOUTS;
use lvs_ipvs::*;
use proptest::prelude::*;
use std::net::SocketAddr;

mod common;
use common::tables::{has_mixed_family, table};

fn tcp(addr: &str) -> ServiceKey {
    ServiceKey::Inet { protocol: Protocol::Tcp, addr: addr.parse().unwrap() }
}

fn dest(addr: &str, weight: u32) -> Dest {
    Dest { weight, ..Dest::new(addr.parse().unwrap()) }
}

fn vs(key: ServiceKey, scheduler: Scheduler, dests: &[Dest]) -> VirtualService {
    VirtualService { service: Service { scheduler, ..Service::new(key) }, dests: dests.to_vec() }
}

fn table_of(services: Vec<VirtualService>) -> Table {
    Table { services, ..Table::default() }
}

/// Sorted, so that tables compare regardless of the kernel's dump order.
fn normalized(t: &Table) -> Table {
    let mut t = t.clone();
    t.services.sort_by_key(|vs| vs.service.key);
    for vs in &mut t.services {
        vs.dests.sort_by_key(|d| d.addr);
    }
    t.daemons.sort_by_key(|d| d.state);
    t
}

fn web() -> ServiceKey {
    tcp("192.0.2.10:80")
}

#[test]
fn an_empty_kernel_gets_services_before_their_real_servers() {
    let desired = table_of(vec![vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1), dest("192.0.2.12:80", 1)])]);
    let changes = plan(&desired, &Table::default(), Ownership::NamedServices);
    let kinds: Vec<&str> = changes.iter().map(Change::verb).collect();
    assert_eq!(kinds, ["add", "add", "add"]);
    assert!(matches!(changes[0], Change::AddService(_)), "{changes:?}");
    let mut fake = FakeIpvs::new();
    fake.apply(&changes).unwrap();
    assert_eq!(normalized(&fake.dump().unwrap()).services, normalized(&desired).services);
}

#[test]
fn a_weight_change_is_one_edit_never_a_delete_and_add() {
    let before = table_of(vec![vs(web(), Scheduler::Wrr, &[dest("192.0.2.11:80", 2), dest("192.0.2.12:80", 1)])]);
    let after = table_of(vec![vs(web(), Scheduler::Wrr, &[dest("192.0.2.11:80", 2), dest("192.0.2.12:80", 5)])]);
    let mut fake = FakeIpvs::with_table(&before);
    let sent = sync(&mut fake, &after, Ownership::NamedServices).unwrap();
    assert_eq!(sent, vec![Change::EditDest(web(), dest("192.0.2.12:80", 5))]);
    assert_eq!(fake.sent, sent);
    assert_eq!(sent[0].to_string(), "~ TCP 192.0.2.10:80 -> 192.0.2.12:80 Route weight 5");
}

#[test]
fn new_real_servers_arrive_before_old_ones_leave() {
    let before = table_of(vec![vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1), dest("192.0.2.12:80", 1)])]);
    let after = table_of(vec![vs(web(), Scheduler::Lc, &[dest("192.0.2.12:80", 1), dest("192.0.2.13:80", 1)])]);
    let changes = plan(&after, &before, Ownership::NamedServices);
    assert_eq!(
        changes,
        vec![
            Change::EditService(after.services[0].service.clone()),
            Change::AddDest(web(), dest("192.0.2.13:80", 1)),
            Change::DelDest(web(), "192.0.2.11:80".parse().unwrap()),
        ]
    );
}

#[test]
fn services_the_config_does_not_name_are_left_alone_unless_it_owns_the_table() {
    let other = vs(tcp("192.0.2.20:443"), Scheduler::Wlc, &[dest("192.0.2.21:443", 1)]);
    let mine = vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1)]);
    let observed =
        table_of(vec![other.clone(), vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1), dest("192.0.2.99:80", 1)])]);
    let desired = table_of(vec![mine]);
    // Only the named service is trimmed.
    assert_eq!(
        plan(&desired, &observed, Ownership::NamedServices),
        vec![Change::DelDest(web(), "192.0.2.99:80".parse().unwrap())]
    );
    assert_eq!(
        plan(&desired, &observed, Ownership::WholeTable),
        vec![Change::DelDest(web(), "192.0.2.99:80".parse().unwrap()), Change::DelService(other.service.key)]
    );
}

#[test]
fn a_local_real_server_matches_whatever_method_was_asked() {
    // The kernel reports Local for a real server on one of the director's own addresses.
    let desired = table_of(vec![vs(web(), Scheduler::Rr, &[dest("192.0.2.10:80", 1)])]);
    let mut observed = desired.clone();
    observed.services[0].dests[0].forward = Forward::Local;
    assert!(plan(&desired, &observed, Ownership::NamedServices).is_empty());
}

#[test]
fn timeouts_the_config_leaves_at_zero_are_not_touched() {
    let mut desired = Table::default();
    assert!(plan(&desired, &Table { timeouts: KERNEL_TIMEOUTS, ..Table::default() }, Ownership::WholeTable).is_empty());
    desired.timeouts.udp = 60;
    desired.timeouts.tcp = 900;
    let changes = plan(&desired, &Table { timeouts: KERNEL_TIMEOUTS, ..Table::default() }, Ownership::WholeTable);
    assert_eq!(changes, vec![Change::SetTimeouts(Timeouts { tcp: 0, tcp_fin: 0, udp: 60 })]);
}

#[test]
fn a_sync_daemon_with_other_settings_is_restarted() {
    let daemon = |interface: &str| SyncDaemon::new(SyncState::Master, interface, 1);
    let observed = Table { daemons: vec![daemon("eth0")], ..Table::default() };
    let desired = Table { daemons: vec![daemon("eth1")], ..Table::default() };
    assert_eq!(
        plan(&desired, &observed, Ownership::NamedServices),
        vec![Change::StopDaemon(SyncState::Master), Change::StartDaemon(daemon("eth1"))]
    );
}

#[test]
fn a_daemon_matches_the_kernels_defaults_for_what_it_leaves_out() {
    let asked = SyncDaemon::new(SyncState::Master, "eth0", 1);
    let mut fake = FakeIpvs::new();
    let desired = Table { daemons: vec![asked.clone()], ..Table::default() };
    assert_eq!(sync(&mut fake, &desired, Ownership::WholeTable).unwrap(), vec![Change::StartDaemon(asked.clone())]);
    let running = fake.dump().unwrap().daemons;
    assert_eq!(running[0].mcast_port, Some(8848), "the kernel reports its default");
    assert!(plan(&desired, &fake.dump().unwrap(), Ownership::WholeTable).is_empty());

    // A setting the config does give must match.
    let other = SyncDaemon { mcast_port: Some(8849), mcast_ttl: Some(2), ..asked };
    let desired = Table { daemons: vec![other.clone()], ..Table::default() };
    let changes = sync(&mut fake, &desired, Ownership::WholeTable).unwrap();
    assert_eq!(changes, vec![Change::StopDaemon(SyncState::Master), Change::StartDaemon(other.clone())]);
    assert_eq!(changes[1].to_string(), "+ sync daemon master on eth0 id 1 port 8849 ttl 2");
    assert!(plan(&desired, &fake.dump().unwrap(), Ownership::WholeTable).is_empty());
}

#[test]
fn daemons_stop_before_and_start_after_real_servers_of_another_family() {
    let daemon = SyncDaemon::new(SyncState::Backup, "eth0", 3);
    let mixed = Dest { forward: Forward::Tunnel, ..Dest::new("[2001:db8::21]:80".parse().unwrap()) };
    let with_daemon = Table { daemons: vec![daemon.clone()], ..table_of(vec![vs(web(), Scheduler::Rr, &[])]) };
    let with_mixed = table_of(vec![vs(web(), Scheduler::Rr, &[mixed])]);
    let mut fake = FakeIpvs::with_table(&with_daemon);
    let changes = sync(&mut fake, &with_mixed, Ownership::WholeTable).unwrap();
    assert_eq!(changes, vec![Change::StopDaemon(SyncState::Backup), Change::AddDest(web(), mixed)]);
    let changes = sync(&mut fake, &with_daemon, Ownership::WholeTable).unwrap();
    assert_eq!(changes, vec![Change::DelDest(web(), mixed.addr), Change::StartDaemon(daemon)]);
}

#[test]
fn a_refused_change_leaves_the_table_as_it_was() {
    let before = table_of(vec![vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1)])]);
    let mut fake = FakeIpvs::with_table(&before);
    let original = fake.dump().unwrap();
    let desired = table_of(vec![
        vs(web(), Scheduler::Wrr, &[dest("192.0.2.11:80", 3), dest("192.0.2.12:80", 1)]),
        vs(tcp("192.0.2.20:80"), Scheduler::Twos, &[dest("192.0.2.21:80", 1)]),
    ]);
    let err = sync(&mut fake, &desired, Ownership::NamedServices).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot add service TCP 192.0.2.20:80: ENOENT (2)"), "{text}");
    assert!(text.contains("no scheduler `twos` (module ip_vs_twos missing)"), "{text}");
    assert!(matches!(err, SyncError::RolledBack { .. }), "{err:?}");
    assert_eq!(fake.dump().unwrap(), original);
}

#[test]
fn an_injected_failure_midway_is_undone_too() {
    let desired = table_of(vec![vs(web(), Scheduler::Rr, &[dest("192.0.2.11:80", 1), dest("192.0.2.12:80", 1)])]);
    let mut fake = FakeIpvs::new();
    fake.fail_at = Some((2, Errno::ENOMEM));
    let err = sync(&mut fake, &desired, Ownership::NamedServices).unwrap_err();
    assert!(
        err.to_string().contains("cannot add real server 192.0.2.12:80 of service TCP 192.0.2.10:80: ENOMEM (12)"),
        "{err}"
    );
    assert!(err.to_string().contains("after 2 of 3 changes"), "{err}");
    assert!(fake.dump().unwrap().services.is_empty());
}

#[test]
fn the_fake_answers_like_the_kernel() {
    let mut fake = FakeIpvs::new();
    let svc = Service::new(web());
    let d = dest("192.0.2.11:80", 1);
    let refused = |fake: &mut FakeIpvs, change: Change| match fake.apply(&[change]) {
        Err(ApplyError { error: IpvsError::Refused { errno, .. }, .. }) => errno,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(refused(&mut fake, Change::EditService(svc.clone())), Errno::ESRCH);
    assert_eq!(refused(&mut fake, Change::AddDest(web(), d)), Errno::ESRCH);
    fake.apply(&[Change::AddService(svc.clone())]).unwrap();
    assert_eq!(refused(&mut fake, Change::AddService(svc.clone())), Errno::EEXIST);
    assert_eq!(refused(&mut fake, Change::EditDest(web(), d)), Errno::ENOENT);
    assert_eq!(refused(&mut fake, Change::DelDest(web(), d.addr)), Errno::ENOENT);
    let mut bad = d;
    bad.lower_threshold = 5;
    assert_eq!(refused(&mut fake, Change::AddDest(web(), bad)), Errno::ERANGE);
    let v6: SocketAddr = "[2001:db8::1]:80".parse().unwrap();
    assert_eq!(refused(&mut fake, Change::AddDest(web(), Dest::new(v6))), Errno::EINVAL);
    fake.apply(&[Change::AddDest(web(), Dest { forward: Forward::Tunnel, ..Dest::new(v6) })]).unwrap();
    assert_eq!(refused(&mut fake, Change::StopDaemon(SyncState::Backup)), Errno::ESRCH);
}

/// Twos is not in Debian's 6.1 kernel: the fake refuses it as the kernel does,
/// which the property below does not want to hit.
fn loadable(mut t: Table) -> Table {
    for vs in &mut t.services {
        if vs.service.scheduler == Scheduler::Twos {
            vs.service.scheduler = Scheduler::Wlc;
        }
    }
    t
}

/// A kernel table that shares part of the desired one, with edits: what a running
/// director sees when its config changes. Independent random tables almost never
/// share a service, which would leave the edit paths untested.
fn nearby(desired: Table, other: Table, edits: Vec<(u8, u32)>) -> Table {
    let mut observed = other;
    for (vs, (edit, n)) in desired.services.into_iter().zip(edits) {
        let mut vs = vs;
        match edit % 5 {
            0 => continue,
            1 => vs.service.scheduler = Scheduler::KNOWN[(n % 13) as usize].clone(),
            2 => vs.dests.iter_mut().for_each(|d| d.weight = n % 100),
            3 => drop(vs.dests.pop()),
            _ => vs.dests.iter_mut().for_each(|d| d.upper_threshold = d.upper_threshold.max(n % 7)),
        }
        if observed.service(&vs.service.key).is_none() {
            observed.services.push(vs);
        }
    }
    observed
}

fn pair() -> impl Strategy<Value = (Table, Table)> {
    (
        table().prop_map(loadable),
        table().prop_map(loadable),
        proptest::collection::vec(any::<(u8, u32)>(), 6),
        any::<bool>(),
    )
        .prop_map(|(desired, other, edits, near)| {
            let mut observed = if near { nearby(desired.clone(), other, edits) } else { other };
            let mut desired = desired;
            // The kernel runs no sync daemon beside a real server of another
            // family, and the config refuses to ask for one.
            if has_mixed_family(&desired) || has_mixed_family(&observed) {
                desired.daemons.clear();
                observed.daemons.clear();
            }
            (desired, observed)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_plan_gives_the_desired_table_and_nothing_more_to_do(
        (desired, observed) in pair(),
        whole in any::<bool>(),
    ) {
        let owns = if whole { Ownership::WholeTable } else { Ownership::NamedServices };
        let mut fake = FakeIpvs::with_table(&observed);
        let changes = plan(&desired, &fake.dump().unwrap(), owns);
        fake.apply(&changes).unwrap_or_else(|e| panic!("{e}\n{changes:#?}"));
        let now = normalized(&fake.dump().unwrap());

        // Every named service is exactly as desired.
        for want in normalized(&desired).services {
            prop_assert_eq!(now.service(&want.service.key), Some(&want));
        }
        // Others are gone only when the config owns the table.
        for have in &observed.services {
            let kept = now.service(&have.service.key).is_some();
            let named = desired.service(&have.service.key).is_some();
            prop_assert_eq!(kept, named || !whole, "{}", have.service.key);
        }
        if whole {
            prop_assert_eq!(now.services.len(), desired.services.len());
            // The kernel fills in the multicast settings a daemon leaves out.
            let want = normalized(&desired).daemons;
            prop_assert_eq!(now.daemons.len(), want.len());
            for (want, have) in want.iter().zip(&now.daemons) {
                prop_assert!(want.satisfied_by(have), "{want:?} runs as {have:?}");
            }
        }
        for (want, have) in [(desired.timeouts.tcp, now.timeouts.tcp), (desired.timeouts.tcp_fin, now.timeouts.tcp_fin), (desired.timeouts.udp, now.timeouts.udp)] {
            prop_assert!(want == 0 || want == have);
        }
        let again = plan(&desired, &fake.dump().unwrap(), owns);
        prop_assert!(again.is_empty(), "{again:#?}");
    }

    #[test]
    fn a_plan_never_deletes_a_real_server_it_keeps((desired, observed) in pair()) {
        for change in plan(&desired, &observed, Ownership::WholeTable) {
            if let Change::DelDest(key, addr) = change {
                let kept = desired.service(&key).is_some_and(|vs| vs.dests.iter().any(|d| d.addr == addr));
                prop_assert!(!kept, "{key} -> {addr} is deleted but desired");
            }
        }
    }
}
