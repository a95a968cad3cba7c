//! The keeper with a fake kernel: its own clock, operator weights, reloads.
use super::*;
use crate::health::target::Outcome;
use lvs_config::model::{Director, Role};
use lvs_ipvs::{ApplyError, Change, FakeIpvs, Snapshot};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The fake kernel, seen by the test while the keeper's thread holds it.
#[derive(Clone, Default)]
struct Kernel(Arc<Mutex<FakeIpvs>>);

impl Ipvs for Kernel {
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
        self.0.lock().unwrap().snapshot()
    }
    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        self.0.lock().unwrap().apply(changes)
    }
}

impl Kernel {
    fn weights(&self) -> Vec<u32> {
        let table = self.0.lock().unwrap().dump().unwrap();
        table.services.iter().flat_map(|s| s.dests.iter().map(|d| d.weight)).collect()
    }

    /// Waits until the table holds these weights, or fails.
    fn wait_for(&self, want: &[u32], within: Duration) {
        let start = Instant::now();
        while self.weights() != want {
            assert!(start.elapsed() < within, "weights {:?}, not {want:?}, after {within:?}", self.weights());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

const TEXT: &str = r#"Appliance(role: Director(vips: [], services: [
    Service(address: "192.0.2.80:80", initial: Up, health: Tcp(), real_servers: [RealServer(address: "192.0.2.21", weight: 2)]),
]))"#;

/// The director of `text`, with no probe engine: an interval of 0 (which
/// validation refuses in a file) makes the engine refuse to start, so the
/// test feeds the outcomes itself.
fn director(text: &str) -> Director {
    let loaded = lvs_config::parse(text, std::path::Path::new("t.ron")).unwrap();
    let Role::Director(mut director) = loaded.model.role else { panic!() };
    for health in director.services.iter_mut().flat_map(|s| &mut s.real_servers).filter_map(|rs| rs.health.as_mut()) {
        health.target.interval = Duration::ZERO;
    }
    director
}

fn saved_config(text: &str) -> SavedConfig {
    SavedConfig { path: "t.ron".into(), hash: String::new(), applied_at_ms: 0, text: text.into() }
}

fn start(kernel: &Kernel, state: &std::path::Path) -> Keeper {
    start_text(kernel, state, TEXT)
}

fn start_text(kernel: &Kernel, state: &std::path::Path, text: &str) -> Keeper {
    let (director, config) = (director(text), saved_config(text));
    let k = kernel.clone();
    Keeper::start_with(
        Start { director, config, store: Store::new(state), saved: None },
        Box::new(move || Ok(Box::new(k) as Box<dyn Ipvs>)),
    )
}

#[test]
fn drift_is_repaired_on_the_keepers_own_clock_without_a_probe_engine() {
    let kernel = Kernel::default();
    let state = tempfile::tempdir().unwrap();
    let keeper = start(&kernel, state.path());
    assert_eq!(kernel.weights(), [2], "programmed before start returns");
    // Someone runs `ipvsadm -C`: the next full check (1 s) puts it back, with no probe running.
    let flushed = Instant::now();
    kernel
        .0
        .lock()
        .unwrap()
        .apply(&[Change::DelService(lvs_ipvs::ServiceKey::Inet {
            protocol: lvs_ipvs::Protocol::Tcp,
            addr: "192.0.2.80:80".parse().unwrap(),
        })])
        .unwrap();
    kernel.wait_for(&[2], Duration::from_secs(5));
    assert!(flushed.elapsed() < Duration::from_millis(3500), "repaired after {:?}", flushed.elapsed());
    // Full checks are spaced: no dump storm while nothing happens.
    let dumps = kernel.0.lock().unwrap().dumps;
    std::thread::sleep(Duration::from_millis(500));
    assert!(kernel.0.lock().unwrap().dumps <= dumps + 1);
    keeper.stop();
}

#[test]
fn an_operator_weight_is_applied_and_saved_and_a_wrong_one_refused() {
    let kernel = Kernel::default();
    let state = tempfile::tempdir().unwrap();
    let keeper = start(&kernel, state.path());
    let request = |rs: &str, w: &str| crate::run::weight_requests::parse("TCP 192.0.2.80:80", rs, w).unwrap();
    let answer = keeper.set_weight(request("192.0.2.21", "7")).unwrap();
    assert_eq!(
        answer,
        "weight of 192.0.2.21:80 in TCP 192.0.2.80:80: 7 by the operator (configured 2); 1 IPVS change sent"
    );
    assert_eq!(kernel.weights(), [7]);
    let saved = Store::new(state.path()).load().unwrap().unwrap();
    assert_eq!(
        saved.weights.iter().map(|w| (w.service.as_str(), w.weight)).collect::<Vec<_>>(),
        [("TCP 192.0.2.80:80", 7)]
    );
    let refused = keeper.set_weight(request("192.0.2.22", "7")).unwrap_err().to_string();
    assert_eq!(refused, "TCP 192.0.2.80:80 has no real server 192.0.2.22:80 (it has: 192.0.2.21:80)");
    let answer = keeper.set_weight(request("192.0.2.21", "clear")).unwrap();
    assert_eq!(answer, "weight of 192.0.2.21:80 in TCP 192.0.2.80:80: the configured 2; 1 IPVS change sent");
    assert_eq!(kernel.weights(), [2]);
    keeper.stop();
    assert!(Store::new(state.path()).load().unwrap().unwrap().weights.is_empty());
}

fn failed(target: usize) -> Outcome {
    let now = Instant::now();
    Outcome { target, passed: false, detail: "connection refused".into(), due: now, started: now, ended: now }
}

#[test]
fn a_reload_with_the_same_checks_keeps_the_streaks_and_the_probes() {
    let kernel = Kernel::default();
    let state = tempfile::tempdir().unwrap();
    let text = |weight: u32| {
        format!(
            r#"Appliance(role: Director(vips: [], services: [
                Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 2, fall: 3), real_servers: [
                    RealServer(address: "192.0.2.21", weight: 2), RealServer(address: "192.0.2.22", weight: {weight})]),
            ]))"#
        )
    };
    let keeper = start_text(&kernel, state.path(), &text(3));
    assert_eq!(kernel.weights(), [2, 3]);
    // Two failures of three toward down, from the engine's first generation.
    keeper.tx.send(Msg::Outcomes(1, vec![failed(0), failed(0)])).unwrap();
    let answer = keeper.reload(director(&text(4)), saved_config(&text(4))).unwrap();
    assert_eq!(answer, "1 IPVS changes");
    assert_eq!(kernel.weights(), [2, 4], "still up after the reload");
    // The same generation goes on, and its next failure is the third.
    keeper.tx.send(Msg::Outcomes(1, vec![failed(0)])).unwrap();
    kernel.wait_for(&[0, 4], Duration::from_secs(5));
    keeper.stop();
}

#[test]
fn health_is_each_checked_real_servers_state_after_the_outcomes_before_it() {
    let kernel = Kernel::default();
    let state = tempfile::tempdir().unwrap();
    let text = r#"Appliance(role: Director(vips: [], services: [
        Service(address: "192.0.2.80:80", initial: Up, health: Tcp(rise: 1, fall: 1), real_servers: [
            RealServer(address: "192.0.2.21"), RealServer(address: "192.0.2.22")]),
        Service(address: "192.0.2.81:80", real_servers: [RealServer(address: "192.0.2.23")]),
    ]))"#;
    let keeper = start_text(&kernel, state.path(), text);
    let health = || {
        let (done, rows) = mpsc::channel();
        keeper.health(done).unwrap();
        let rows = rows.recv_timeout(Duration::from_secs(5)).unwrap();
        rows.into_iter().map(|r| format!("{} {} {}", r.service, r.real_server, r.state)).collect::<Vec<_>>()
    };
    assert_eq!(health(), ["TCP 192.0.2.80:80 192.0.2.21:80 up", "TCP 192.0.2.80:80 192.0.2.22:80 up"]);
    // An outcome queued before the question is judged before it is answered.
    keeper.tx.send(Msg::Outcomes(1, vec![failed(1)])).unwrap();
    assert_eq!(health(), ["TCP 192.0.2.80:80 192.0.2.21:80 up", "TCP 192.0.2.80:80 192.0.2.22:80 down"]);
    keeper.stop();
}

#[test]
fn without_ipvs_health_is_empty_and_weights_say_why() {
    let state = tempfile::tempdir().unwrap();
    let keeper = Keeper::start_with(
        Start { director: director(TEXT), config: saved_config(TEXT), store: Store::new(state.path()), saved: None },
        Box::new(|| Err(IpvsError::Unavailable("no such family".into()))),
    );
    let (done, rows) = mpsc::channel();
    keeper.health(done).unwrap();
    assert_eq!(rows.recv_timeout(Duration::from_secs(5)).unwrap(), []);
    let request = crate::run::weight_requests::parse("TCP 192.0.2.80:80", "192.0.2.21", "0").unwrap();
    assert!(keeper.set_weight(request).unwrap_err().to_string().starts_with("no IPVS: "));
    keeper.stop();
}
