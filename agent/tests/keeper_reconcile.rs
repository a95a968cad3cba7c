//! The reconciler against the fake kernel: a transition costs exactly the
//! changes it implies and no dump; nothing changes, nothing is sent; the full
//! check repairs a flushed or edited table and retries what the kernel refused.

mod common;
use common::{director, parse};
use lvs_agent::health::state::Status;
use lvs_agent::health::target::{Outcome, TargetId};
use lvs_agent::keeper::{Event, ReconcileError, Reconciler};
use lvs_config::model::Slot;
use lvs_config::model::{Director, Role};
use lvs_ipvs::{
    ApplyError, Change, Dest, Errno, FakeIpvs, Ipvs, IpvsError, Protocol, Service, ServiceKey, Snapshot, Table,
    VirtualService,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The fake kernel, shared so that a test can look at it while the reconciler holds it.
#[derive(Clone, Default)]
struct Kernel(Rc<RefCell<FakeIpvs>>, Rc<std::cell::Cell<usize>>);

impl Ipvs for Kernel {
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
        self.0.borrow_mut().snapshot()
    }
    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        self.1.set(self.1.get() + 1);
        self.0.borrow_mut().apply(changes)
    }
}

impl Kernel {
    fn with_table(t: &Table) -> Kernel {
        Kernel(Rc::new(RefCell::new(FakeIpvs::with_table(t))), Rc::default())
    }
    fn sent(&self) -> Vec<String> {
        self.0.borrow().sent.iter().map(|c| c.to_string()).collect()
    }
    fn sent_since(&self, n: usize) -> Vec<String> {
        self.sent()[n..].to_vec()
    }
    /// How many times changes were sent (one netlink batch each).
    fn applies(&self) -> usize {
        self.1.get()
    }
    fn dumps(&self) -> usize {
        self.0.borrow().dumps
    }
    fn table(&self) -> Table {
        self.0.borrow_mut().dump().unwrap()
    }
    fn weights(&self, vip: &str) -> Vec<String> {
        let t = self.table();
        let Some(vs) = t.service(&key(vip)) else { return vec![] };
        vs.dests.iter().map(|d| format!("{}={}", d.addr, d.weight)).collect()
    }
}

fn model(services: &str) -> Director {
    model_text(&director(services))
}

fn model_text(text: &str) -> Director {
    let loaded = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let Role::Director(d) = loaded.model.role else { panic!() };
    d
}

fn key(vip: &str) -> ServiceKey {
    ServiceKey::Inet { protocol: Protocol::Tcp, addr: vip.parse().unwrap() }
}

fn slot(vip: &str, rs: &str) -> Slot {
    Slot { service: key(vip), real_server: rs.parse().unwrap() }
}

fn outcome(target: TargetId, passed: bool, detail: &str) -> Outcome {
    let now = Instant::now();
    Outcome { target, passed, detail: detail.to_string(), due: now, started: now, ended: now }
}

fn target(r: &Reconciler, vip: &str, rs: &str) -> TargetId {
    r.watches().expect("checked real servers").probes().target_of(&slot(vip, rs)).expect("a checked real server")
}

fn lines(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.to_string()).collect()
}

const VIP: &str = "192.0.2.80:80";
const TWO: &str = r#"Service(address: "192.0.2.80:80", health: Http(), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 3),
            ])"#;

#[test]
fn the_first_full_check_programs_the_table_with_unproven_servers_quiesced() {
    let mut k = Kernel::default();
    let mut r = Reconciler::new(model(TWO), &mut k);
    let report = r.full_check(Instant::now());
    assert!(report.error.is_none());
    assert!(report.events.iter().all(|e| !matches!(e, Event::DriftRepaired(_))), "{:?}", report.events);
    assert_eq!(lines(&report.events)[0], "service TCP 192.0.2.80:80 down: healthy weight 0");
    drop(r);
    assert_eq!(k.weights(VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0"]);
}

#[test]
fn each_transition_is_one_edit_and_nothing_else_reaches_the_kernel() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let (sent, dumps) = (probe.sent().len(), probe.dumps());
    let t21 = target(&r, VIP, "192.0.2.21:80");

    let report = r.on_outcome(&outcome(t21, true, "HTTP 200"));
    assert_eq!(
        lines(&report.events),
        [
            "192.0.2.21:80 http up after 1 pass: HTTP 200",
            "service TCP 192.0.2.80:80 up: healthy weight 2",
            "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 2",
        ]
    );
    assert_eq!(probe.sent_since(sent), ["~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 2"]);

    // Passes while up, and failures short of `fall`, send nothing.
    for passed in [true, true, false, false, true, false, false] {
        assert!(r.on_outcome(&outcome(t21, passed, "x")).events.is_empty());
    }
    assert_eq!(probe.sent().len(), sent + 1);
    let report = r.on_outcome(&outcome(t21, false, "timeout after 1s"));
    assert_eq!(lines(&report.events)[0], "192.0.2.21:80 http down after 3 failures: timeout after 1s");
    assert_eq!(probe.sent_since(sent + 1), ["~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 0"]);
    // Transitions are planned against the known table: no dump after the full check.
    assert_eq!(probe.dumps(), dumps);
}

#[test]
fn a_full_check_with_nothing_to_do_sends_nothing() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let sent = probe.sent().len();
    let report = r.full_check(Instant::now());
    assert!(report.events.is_empty() && report.error.is_none());
    assert_eq!(probe.sent().len(), sent);
}

#[test]
fn a_flushed_table_is_restored_by_the_next_full_check_and_each_repair_logged() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let t22 = target(&r, VIP, "192.0.2.22:80");
    r.on_outcome(&outcome(t22, true, "HTTP 200"));
    let before = probe.table();

    // ipvsadm -C
    probe.0.borrow_mut().state_mut().services.clear();
    let report = r.full_check(Instant::now());
    assert!(report.error.is_none());
    assert_eq!(
        lines(&report.events),
        [
            "drift repaired: + TCP 192.0.2.80:80 scheduler wlc (someone changed the table by hand?)",
            "drift repaired: + TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 0 (someone changed the table by hand?)",
            "drift repaired: + TCP 192.0.2.80:80 -> 192.0.2.22:80 Route weight 3 (someone changed the table by hand?)",
        ]
    );
    assert_eq!(probe.table(), before);
}

#[test]
fn a_deleted_or_reweighted_dest_is_repaired() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let before = probe.table();
    // ipvsadm -d -t 192.0.2.80:80 -r 192.0.2.21:80; ipvsadm -e ... -r 192.0.2.22:80 -w 9
    let edit = Dest { weight: 9, ..Dest::new("192.0.2.22:80".parse().unwrap()) };
    probe
        .0
        .borrow_mut()
        .apply(&[Change::DelDest(key(VIP), "192.0.2.21:80".parse().unwrap()), Change::EditDest(key(VIP), edit)])
        .unwrap();
    let report = r.full_check(Instant::now());
    let drift: Vec<_> = report.events.iter().filter(|e| matches!(e, Event::DriftRepaired(_))).collect();
    assert_eq!(drift.len(), 2, "{:?}", report.events);
    // The kernel appends a re-added dest: compare as sets.
    let sorted = |t: Table| {
        let mut w: Vec<_> = t.services[0].dests.iter().map(|d| (d.addr, d.weight)).collect();
        w.sort();
        w
    };
    assert_eq!(sorted(probe.table()), sorted(before));
}

#[test]
fn a_refused_change_is_reported_and_retried_at_the_next_full_check() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let t21 = target(&r, VIP, "192.0.2.21:80");
    let at = probe.sent().len();
    probe.0.borrow_mut().fail_at = Some((at, Errno::ENOMEM));

    let report = r.on_outcome(&outcome(t21, true, "HTTP 200"));
    assert!(matches!(report.error, Some(ReconcileError::Refused(_))), "{:?}", report.error);
    assert!(report.changes().is_empty());
    assert!(report.error.unwrap().to_string().contains("tried again at the next full check"));
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=0", "192.0.2.22:80=0"]);

    let report = r.full_check(Instant::now());
    assert!(report.error.is_none());
    assert_eq!(lines(&report.events), ["retried: ~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 2"]);
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2", "192.0.2.22:80=0"]);
}

#[test]
fn one_probe_shared_by_two_services_moves_both() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let d = model(
        r#"Service(address: "192.0.2.80:80", health: Tcp(), real_servers: [RealServer(address: "192.0.2.21")]),
            Service(address: "192.0.2.80:8080", forwarding: Nat, health: Tcp(port: 80), real_servers: [RealServer(address: "192.0.2.21:80", weight: 5)])"#,
    );
    let mut r = Reconciler::new(d, &mut k);
    assert_eq!(r.targets().len(), 1);
    r.full_check(Instant::now());
    let sent = probe.sent().len();
    let report = r.on_outcome(&outcome(0, true, "connected"));
    assert_eq!(lines(&report.events)[0], "192.0.2.21:80 tcp up after 1 pass: connected");
    assert_eq!(report.events.iter().filter(|e| matches!(e, Event::Transition(_))).count(), 1);
    assert_eq!(
        probe.sent_since(sent),
        ["~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 1", "~ TCP 192.0.2.80:8080 -> 192.0.2.21:80 Masq weight 5",]
    );
}

#[test]
fn the_sorry_server_comes_in_when_the_last_server_falls_and_leaves_when_one_is_back() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let d = model(
        r#"Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 1, fall: 1), sorry_server: SorryServer(address: "192.0.2.30"), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
            ])"#,
    );
    let mut r = Reconciler::new(d, &mut k);
    r.full_check(Instant::now());
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2"]);
    let sent = probe.sent().len();
    let report = r.on_outcome(&outcome(0, false, "connection refused"));
    assert!(lines(&report.events).contains(
        &"service TCP 192.0.2.80:80 down: healthy weight 0; sorry server 192.0.2.30:80 takes the traffic".to_string()
    ));
    assert_eq!(
        probe.sent_since(sent),
        ["+ TCP 192.0.2.80:80 -> 192.0.2.30:80 Route weight 1", "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 0",]
    );
    r.on_outcome(&outcome(0, true, "connected"));
    assert_eq!(
        probe.sent_since(sent + 2),
        ["~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 2", "- TCP 192.0.2.80:80 -> 192.0.2.30:80",]
    );
    assert_eq!(r.status(&slot(VIP, "192.0.2.21:80")), Status::Up);
}

/// A reload carries each service's quorum state: a service inside its
/// hysteresis band stays up, as it would have without the reload.
#[test]
fn a_reload_keeps_a_service_up_inside_its_hysteresis_band() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let text = r#"Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 1, fall: 1),
            quorum: Quorum(min_weight: 4, hysteresis: 2), sorry_server: SorryServer(address: "192.0.2.30"), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 2),
                RealServer(address: "192.0.2.23", weight: 2),
            ])"#;
    let mut r = Reconciler::new(model(text), &mut k);
    r.full_check(Instant::now());
    let fallen = target(&r, VIP, "192.0.2.23:80");
    let report = r.on_outcome(&outcome(fallen, false, "connection refused"));
    assert!(
        !lines(&report.events).iter().any(|l| l.contains("sorry server")),
        "4 of 6 is still up: {:?}",
        report.events
    );
    let carried = r.carried();
    assert_eq!(carried.quorum, [(key(VIP), true)].into());
    drop(r);
    let sent = probe.sent().len();

    let mut again = Reconciler::new(model(text), &mut k);
    again.resume(&carried);
    let report = again.full_check(Instant::now());
    assert!(!lines(&report.events).iter().any(|l| l.contains("down")), "{:?}", report.events);
    drop(again);
    assert_eq!(probe.sent_since(sent), Vec::<String>::new(), "a reload that changes nothing sends nothing");
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2", "192.0.2.22:80=2", "192.0.2.23:80=0"]);
}

#[test]
fn when_down_remove_deletes_and_adds_back() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let d = model(&TWO.replace("health: Http(),", "health: Http(rise: 1, fall: 1), when_down: Remove,"));
    let mut r = Reconciler::new(d, &mut k);
    r.full_check(Instant::now());
    assert_eq!(probe.weights(VIP), Vec::<String>::new());
    let t21 = target(&r, VIP, "192.0.2.21:80");
    r.on_outcome(&outcome(t21, true, "HTTP 200"));
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2"]);
    let sent = probe.sent().len();
    r.on_outcome(&outcome(t21, false, "HTTP 500"));
    assert_eq!(probe.sent_since(sent), ["- TCP 192.0.2.80:80 -> 192.0.2.21:80"]);
}

#[test]
fn services_the_file_does_not_name_are_left_alone_unless_it_owns_the_table() {
    let other = Table {
        services: vec![VirtualService {
            service: Service::new(key("192.0.2.99:80")),
            dests: vec![Dest::new("192.0.2.50:80".parse().unwrap())],
        }],
        ..Table::default()
    };
    let mut k = Kernel::with_table(&other);
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    assert!(probe.table().service(&key("192.0.2.99:80")).is_some());
    drop(r);

    let owned = director(TWO).replace("services: [", "own_whole_table: true, services: [");
    let mut k = Kernel::with_table(&other);
    let probe = k.clone();
    let mut r = Reconciler::new(model_text(&owned), &mut k);
    r.full_check(Instant::now());
    assert!(probe.table().service(&key("192.0.2.99:80")).is_none());
}

#[test]
fn an_operator_weight_is_one_edit_and_a_down_server_stays_at_zero() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let t21 = target(&r, VIP, "192.0.2.21:80");
    r.on_outcome(&outcome(t21, true, "HTTP 200"));
    let sent = probe.sent().len();
    let report = r.set_weight("TCP 192.0.2.80:80", "192.0.2.21".parse().unwrap(), Some(7)).unwrap();
    assert_eq!(
        lines(&report.events),
        [
            "weight of 192.0.2.21:80 in TCP 192.0.2.80:80: 7 by the operator (configured 2)",
            "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 7",
        ]
    );
    let report = r.set_weight("TCP 192.0.2.80:80", "192.0.2.22".parse().unwrap(), Some(7)).unwrap();
    assert_eq!(
        lines(&report.events),
        ["weight of 192.0.2.22:80 in TCP 192.0.2.80:80: 7 by the operator (configured 3); down: 0 until up",]
    );
    assert_eq!(probe.sent_since(sent), ["~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 7"]);
    r.set_weight("TCP 192.0.2.80:80", "192.0.2.21:80".parse().unwrap(), None).unwrap();
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2", "192.0.2.22:80=0"]);
    // The down server comes up at the operator's weight, not the configured one.
    let t22 = target(&r, VIP, "192.0.2.22:80");
    r.on_outcome(&outcome(t22, true, "HTTP 200"));
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2", "192.0.2.22:80=7"]);
    assert_eq!(r.carried().weights, [(slot(VIP, "192.0.2.22:80"), 7)].into());
}

#[test]
fn an_operator_weight_names_a_service_and_real_server_the_config_has() {
    let mut k = Kernel::default();
    let r = Reconciler::new(model(TWO), &mut k);
    assert_eq!(r.slot("tcp 192.0.2.80:80", "192.0.2.22".parse().unwrap()), Ok((slot(VIP, "192.0.2.22:80"), 3)));
    assert_eq!(
        r.slot("UDP 192.0.2.80:80", "192.0.2.22:80".parse().unwrap()).unwrap_err().to_string(),
        "no service UDP 192.0.2.80:80 in the config (it has: TCP 192.0.2.80:80)"
    );
    assert_eq!(
        r.slot("TCP 192.0.2.80:80", "192.0.2.23:80".parse().unwrap()).unwrap_err().to_string(),
        "TCP 192.0.2.80:80 has no real server 192.0.2.23:80 (it has: 192.0.2.21:80, 192.0.2.22:80)"
    );
}

#[test]
fn full_checks_come_at_the_shortest_interval_but_not_under_a_second() {
    let mut k = Kernel::default();
    let d = model(
        r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "5s"), real_servers: [RealServer(address: "192.0.2.21")]),
            Service(address: "192.0.2.80:81", health: Tcp(interval: "3s"), real_servers: [RealServer(address: "192.0.2.21:81")])"#,
    );
    let mut r = Reconciler::new(d, &mut k);
    assert_eq!(r.full_check_interval(), Duration::from_secs(3));
    let now = Instant::now();
    assert_eq!(r.next_full_check(now), now);
    r.full_check(now);
    assert_eq!(r.next_full_check(now), now + Duration::from_secs(3));
    drop(r);
    let fast = model(
        r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "100ms", timeout: "50ms"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    assert_eq!(Reconciler::new(fast, &mut k).full_check_interval(), Duration::from_secs(1));
}

/// A check interval past the clock's range ("500000000000y", once accepted by
/// `check`) puts the next full check far off; it must not panic the IPVS thread.
#[test]
fn a_check_interval_past_the_clocks_range_does_not_panic_the_full_check() {
    let mut k = Kernel::default();
    let mut d = model(
        r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "5s"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    // Set after validation, so that the test does not depend on what validation lets through.
    let huge = humantime::parse_duration("500000000000y").unwrap();
    d.services[0].real_servers[0].health.as_mut().unwrap().target.interval = huge;
    let mut r = Reconciler::new(d, &mut k);
    assert_eq!(r.full_check_interval(), huge);
    let now = Instant::now();
    r.full_check(now);
    let next = r.next_full_check(now);
    assert!(next > now + Duration::from_secs(365 * 24 * 3600), "{:?}", next.duration_since(now));
}

#[test]
fn a_batch_of_outcomes_is_judged_in_order_and_sent_once() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    r.full_check(Instant::now());
    let (applies, dumps) = (probe.applies(), probe.dumps());
    let (t21, t22) = (target(&r, VIP, "192.0.2.21:80"), target(&r, VIP, "192.0.2.22:80"));
    let batch = [
        outcome(t21, true, "HTTP 200"),
        outcome(t22, true, "HTTP 200"),
        // Judged after the pass before it: one failure of fall 3 changes nothing.
        outcome(t21, false, "HTTP 503, expected 200"),
    ];
    let report = r.on_outcomes(&batch);
    assert_eq!(
        lines(&report.events),
        [
            "192.0.2.21:80 http up after 1 pass: HTTP 200",
            "192.0.2.22:80 http up after 1 pass: HTTP 200",
            "service TCP 192.0.2.80:80 up: healthy weight 5",
            "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 2",
            "~ TCP 192.0.2.80:80 -> 192.0.2.22:80 Route weight 3",
        ]
    );
    assert_eq!((probe.applies() - applies, probe.dumps() - dumps), (1, 0), "two transitions, one batch sent, no dump");
    assert!(r.on_outcomes(&[]).events.is_empty());
    assert_eq!(probe.applies() - applies, 1);
}

#[test]
fn an_outcome_before_the_first_full_check_dumps_first() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let mut r = Reconciler::new(model(TWO), &mut k);
    let t21 = target(&r, VIP, "192.0.2.21:80");
    let report = r.on_outcome(&outcome(t21, true, "HTTP 200"));
    assert!(report.error.is_none());
    assert_eq!(probe.dumps(), 1);
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=2", "192.0.2.22:80=0"]);
}

/// A reload whose checks are unchanged keeps every watch's rise/fall
/// streak: a server two of three failures toward down is still two of three
/// after the reload, and goes down at the next failure.
#[test]
fn a_reload_keeps_the_streak_of_a_watch_judged_as_before() {
    let mut k = Kernel::default();
    let probe = k.clone();
    let before = r#"Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 2, fall: 3), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 3),
            ])"#;
    // Another weight and another service: the checks of 192.0.2.80:80 are the same.
    let after = r#"Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 2, fall: 3), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
                RealServer(address: "192.0.2.22", weight: 5),
            ]),
            Service(address: "192.0.2.81:80", real_servers: [RealServer(address: "192.0.2.23")])"#;
    let mut r = Reconciler::new(model(before), &mut k);
    r.full_check(Instant::now());
    let t21 = target(&r, VIP, "192.0.2.21:80");
    for _ in 0..2 {
        assert!(r.on_outcome(&outcome(t21, false, "connection refused")).events.is_empty());
    }
    let report = r.reload(model(after));
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(
        lines(&report.events),
        [
            "+ TCP 192.0.2.81:80 scheduler wlc",
            "+ TCP 192.0.2.81:80 -> 192.0.2.23:80 Route weight 1",
            "~ TCP 192.0.2.80:80 -> 192.0.2.22:80 Route weight 5",
        ],
        "the config's changes, and no transition"
    );
    assert_eq!(target(&r, VIP, "192.0.2.21:80"), t21, "the same target: the probes go on");
    assert_eq!(r.status(&slot(VIP, "192.0.2.21:80")), Status::Up);
    let report = r.on_outcome(&outcome(t21, false, "connection refused"));
    assert_eq!(lines(&report.events)[0], "192.0.2.21:80 tcp down after 3 failures: connection refused");
    drop(r);
    assert_eq!(probe.weights(VIP), ["192.0.2.21:80=0", "192.0.2.22:80=5"]);
}

/// A watch judged otherwise after the reload (another fall) starts its count
/// again from the status it had.
#[test]
fn a_reload_that_changes_a_check_resumes_its_status_but_not_its_streak() {
    let mut k = Kernel::default();
    let text = |fall: u32| {
        format!(
            r#"Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 2, fall: {fall}), real_servers: [
                RealServer(address: "192.0.2.21", weight: 2),
            ])"#
        )
    };
    let mut r = Reconciler::new(model(&text(3)), &mut k);
    r.full_check(Instant::now());
    let t21 = target(&r, VIP, "192.0.2.21:80");
    for _ in 0..2 {
        assert!(r.on_outcome(&outcome(t21, false, "connection refused")).events.is_empty());
    }
    r.reload(model(&text(2)));
    let t21 = target(&r, VIP, "192.0.2.21:80");
    assert!(r.on_outcome(&outcome(t21, false, "connection refused")).events.is_empty(), "1 of 2 after the reload");
    let report = r.on_outcome(&outcome(t21, false, "connection refused"));
    assert_eq!(lines(&report.events)[0], "192.0.2.21:80 tcp down after 2 failures: connection refused");
}
