//! End to end, as root in a network namespace the test makes: real servers on
//! 127.0.0.1 that refuse, hang, answer too slowly, slowly but in time, with a
//! wrong status or body, or flap on a script; the real probe engine handing
//! its batches to the real Reconciler; a fake kernel that records every
//! change it is sent. With rise 2 and fall 3, each server's transitions and
//! the weight edits the kernel gets are asserted exactly, as sequences: the
//! interleaving of servers and every timing are left free, so a loaded
//! machine changes nothing but how long the test takes.

use lvs_agent::health::engine::{self, Options, Sink};
use lvs_agent::health::target::Outcome;
use lvs_agent::keeper::{Event, Reconciler};
use lvs_config::model::{Director, Role};
use lvs_ipvs::{ApplyError, Change, FakeIpvs, Ipvs, IpvsError, Snapshot};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::{Duration, Instant};

mod common;
#[path = "health_probe/servers.rs"]
#[allow(dead_code)]
mod servers;

use servers::*;

const MS: Duration = Duration::from_millis(1);
/// The whole test must be done by then, however loaded the machine.
const LIMIT: Duration = Duration::from_secs(20);

#[derive(Clone, Default)]
struct Kernel(Rc<RefCell<FakeIpvs>>);

impl Ipvs for Kernel {
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
        self.0.borrow_mut().snapshot()
    }
    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        self.0.borrow_mut().apply(changes)
    }
}

/// Hands the engine's batches to the test thread as they are.
struct Batches(SyncSender<Vec<Outcome>>);

impl Sink for Batches {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let n = batch.len();
        self.0.try_send(batch).map_or(n, |()| 0)
    }
    fn tick(&self, _: Instant) -> bool {
        true
    }
}

/// Answers the n-th probe by the script ('+' passes, '-' answers 503), then passes for ever.
fn scripted(script: &'static str) -> SocketAddr {
    http_server(move |n| {
        let pass = script.as_bytes().get(n).is_none_or(|c| *c == b'+');
        let answer = if pass { "200 OK\r\n\r\nok" } else { "503 Service Unavailable\r\n\r\n" };
        (Duration::ZERO, format!("HTTP/1.1 {answer}").into_bytes())
    })
    .0
}

fn delayed(delay: Duration) -> SocketAddr {
    http_server(move |_| (delay, b"HTTP/1.1 200 OK\r\n\r\nok".to_vec())).0
}

fn director(services: &str) -> Director {
    let text = format!("Appliance(role: Director(vips: [], services: [{services}]))");
    let loaded = lvs_config::parse(&text, std::path::Path::new("e2e.ron")).unwrap_or_else(|e| panic!("{e}"));
    let Role::Director(d) = loaded.model.role else { panic!("not a director") };
    d
}

fn real_server(address: &str, weight: u32, probe: SocketAddr) -> String {
    format!(
        r#"RealServer(address: "{address}", weight: {weight}, health: Http(path: "/health", expect_body: "ok",
            address: "127.0.0.1", port: {}, interval: "250ms", timeout: "200ms", rise: 2, fall: 3))"#,
        probe.port()
    )
}

#[test]
fn transitions_follow_rise_and_fall_exactly_and_the_kernel_gets_exactly_their_weights() {
    common::netns::in_netns(|| {
        lvs_agent::net::loopback::up().unwrap();
        // Up at the first pass (a fresh server), down after 3 failures, up
        // after 2 passes; a failure between passes (and a pass between
        // failures) starts the count again.
        let flap = scripted("+---++--+---+-++");
        let steady = scripted("");
        let refuses = closed_port();
        let (hangs, _listener) = silent_server();
        let too_slow = delayed(600 * MS);
        let slow = delayed(40 * MS);
        let (wrong_status, _) = http_answer("503 Service Unavailable", "");
        let (wrong_body, _) = http_answer("200 OK", "nope");

        let d = director(&format!(
            r#"Service(address: "192.0.2.80:80", real_servers: [{}, {}]),
               Service(address: "192.0.2.81:80", initial: Up, real_servers: [{}, {}, {}, {}, {}, {}])"#,
            real_server("192.0.2.21", 5, flap),
            real_server("192.0.2.22", 1, steady),
            real_server("192.0.2.31", 1, refuses),
            real_server("192.0.2.32", 1, hangs),
            real_server("192.0.2.33", 1, too_slow),
            real_server("192.0.2.34", 1, slow),
            real_server("192.0.2.35", 1, wrong_status),
            real_server("192.0.2.36", 1, wrong_body),
        ));
        let name: BTreeMap<u16, &str> = [
            (flap.port(), "flap"),
            (steady.port(), "steady"),
            (refuses.port(), "refuses"),
            (hangs.port(), "hangs"),
            (too_slow.port(), "too slow"),
            (slow.port(), "slow"),
            (wrong_status.port(), "wrong status"),
            (wrong_body.port(), "wrong body"),
        ]
        .into();

        let mut kernel = Kernel::default();
        let fake = kernel.clone();
        let mut r = Reconciler::new(d, &mut kernel);
        assert!(r.full_check(Instant::now()).error.is_none());
        let programmed = fake.0.borrow().sent.len();

        let (tx, batches) = sync_channel(64);
        let handle = engine::start_with(r.targets().to_vec(), Options::default(), Box::new(Batches(tx))).unwrap();
        let ok = "HTTP 200, body has \"ok\"";
        let timeout = "timeout after 200ms while reading the status line";
        let expected: BTreeMap<&str, Vec<String>> = [
            (
                "flap",
                vec![
                    format!("up after 1 pass: {ok}"),
                    "down after 3 failures: HTTP 503, expected 200".to_string(),
                    format!("up after 2 passes: {ok}"),
                    "down after 3 failures: HTTP 503, expected 200".to_string(),
                    format!("up after 2 passes: {ok}"),
                ],
            ),
            ("steady", vec![format!("up after 1 pass: {ok}")]),
            ("refuses", vec!["down after 3 failures: connection refused".to_string()]),
            ("hangs", vec![format!("down after 3 failures: {timeout}")]),
            ("too slow", vec![format!("down after 3 failures: {timeout}")]),
            ("wrong status", vec!["down after 3 failures: HTTP 503, expected 200".to_string()]),
            ("wrong body", vec!["down after 3 failures: HTTP 200, body lacks \"ok\"".to_string()]),
        ]
        .into();

        let started = Instant::now();
        let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut probes: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut batch_count, mut outcome_count) = (0, 0);
        // Until every transition has come and the flapping server has passed
        // its whole script and 3 more probes, which must change nothing.
        while seen != expected || probes.get("flap").copied().unwrap_or(0) < 19 {
            assert!(started.elapsed() < LIMIT, "not done within {LIMIT:?}: transitions {seen:#?}");
            let Ok(batch) = batches.recv_timeout(LIMIT) else { panic!("no outcomes") };
            batch_count += 1;
            outcome_count += batch.len();
            for o in &batch {
                *probes.entry(name[&r.targets()[o.target].addr.port()]).or_default() += 1;
            }
            for event in r.on_outcomes(&batch).events {
                if let Event::Transition(line) = event {
                    // "127.0.0.1:PORT http up after 1 pass: ..."
                    let (addr, rest) = line.split_once(" http ").unwrap();
                    let port: u16 = addr.parse::<SocketAddr>().unwrap().port();
                    seen.entry(name[&port]).or_default().push(rest.to_string());
                }
            }
        }
        let stats = handle.stop();
        assert_eq!(seen, expected);
        assert!(probes["slow"] >= 10, "the slow server was probed and never fell: {probes:?}");
        assert_eq!(stats.dropped, 0, "{stats:?}");
        assert!(batch_count <= outcome_count, "{batch_count} batches for {outcome_count} outcomes");

        // The kernel got exactly the weight edits the transitions imply, in order, server by server.
        let sent: Vec<String> = fake.0.borrow().sent[programmed..].iter().map(|c| c.to_string()).collect();
        let edits = |rs: &str| -> Vec<String> {
            sent.iter()
                .filter(|c| c.contains(&format!("-> {rs}:80 ")))
                .map(|c| c.rsplit_once(" weight ").unwrap().1.to_string())
                .collect()
        };
        assert_eq!(edits("192.0.2.21"), ["5", "0", "5", "0", "5"], "flap; all sent: {sent:#?}");
        assert_eq!(edits("192.0.2.22"), ["1"], "steady");
        for rs in ["192.0.2.31", "192.0.2.32", "192.0.2.33", "192.0.2.35", "192.0.2.36"] {
            assert_eq!(edits(rs), ["0"], "{rs}");
        }
        assert_eq!(edits("192.0.2.34"), Vec::<String>::new(), "the slow server stays as it was");
        assert!(sent.iter().all(|c| c.starts_with("~ ")), "only edits, no adds or deletes: {sent:#?}");
        assert_eq!(sent.len(), 5 + 1 + 5);
    });
}
