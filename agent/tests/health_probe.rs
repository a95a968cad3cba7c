//! Host tests of the probe checkers and the probe engine: real sockets on
//! 127.0.0.1 inside a network namespace each test makes (root), against
//! servers that refuse, hang, answer slowly or wrongly, flood and flap.
//!
//! Timing bounds allow a busy 2-core CI machine half a second of slack, but a
//! probe that ignored its timeout would overrun them: the slow servers answer
//! later than timeout + slack.

use lvs_agent::health::engine::{self, EngineError, Event, Options};
use lvs_agent::health::probe::{Probe, Verdict};
use lvs_agent::health::target::{Check, Outcome, Target};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

mod common;
#[path = "health_probe/servers.rs"]
mod servers;

use servers::*;

const MS: Duration = Duration::from_millis(1);
/// What a busy CI machine may add to any wait.
const SLACK: Duration = Duration::from_millis(500);

fn in_lo(body: impl FnOnce() + Send + 'static) {
    common::netns::in_netns(|| {
        lvs_agent::net::loopback::up().unwrap();
        body();
    });
}

fn target(addr: SocketAddr, check: Check, timeout: Duration) -> Target {
    Target { addr, check, interval: Duration::from_secs(1), timeout }
}

fn http(expect_body: Option<&str>, max_bytes: usize) -> Check {
    Check::Http {
        path: "/health".into(),
        host: None,
        expect_status: vec![200..=200],
        expect_body: expect_body.map(String::from),
        max_bytes,
    }
}

fn udp(payload: &[u8], expect: Option<&[u8]>) -> Check {
    Check::Udp { payload: payload.to_vec(), expect: expect.map(<[u8]>::to_vec) }
}

/// One probe on a runtime of its own: the verdict and how long it took.
fn probe(target: Target) -> (Verdict, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let verdict = runtime.block_on(Probe::new(target).run());
    (verdict, started.elapsed())
}

fn passes(target: Target, detail: &str) {
    let (verdict, took) = probe(target);
    assert_eq!(verdict, Verdict { passed: true, detail: detail.into() });
    assert!(took < SLACK, "a passing probe on loopback took {took:?}");
}

fn fails_at_once(target: Target, detail: &str) {
    let (verdict, took) = probe(target);
    assert_eq!(verdict, Verdict { passed: false, detail: detail.into() });
    assert!(took < SLACK, "failing at once took {took:?}");
}

fn times_out(target: Target, detail: &str) {
    let timeout = target.timeout;
    let (verdict, took) = probe(target);
    assert_eq!(verdict, Verdict { passed: false, detail: detail.into() });
    assert!(took >= timeout && took < timeout.saturating_add(SLACK), "timeout {timeout:?}, took {took:?}");
}

#[test]
fn tcp_connects_is_refused_or_times_out_connecting() {
    in_lo(|| {
        let (open, _listener) = silent_server();
        passes(target(open, Check::Tcp, 300 * MS), "connected");
        fails_at_once(target(closed_port(), Check::Tcp, 300 * MS), "connection refused");
        let (unanswered, _keep, _queued) = unanswered_port();
        times_out(target(unanswered, Check::Tcp, 300 * MS), "timeout after 300ms while connecting");
    });
}

#[test]
fn http_status_and_body() {
    in_lo(|| {
        let (ok, requests) = http_answer("200 OK", "all ok");
        passes(target(ok, http(None, 100), 300 * MS), "HTTP 200");
        let request = requests.recv().unwrap();
        let host = format!("127.0.0.1:{}", ok.port());
        assert_eq!(
            request,
            format!("GET /health HTTP/1.0\r\nHost: {host}\r\nUser-Agent: lvs-agent\r\nConnection: close\r\n\r\n")
        );
        passes(target(ok, http(Some("ok"), 100), 300 * MS), "HTTP 200, body has \"ok\"");
        fails_at_once(target(ok, http(Some("fine"), 100), 300 * MS), "HTTP 200, body lacks \"fine\"");

        let named = Check::Http {
            path: "/".into(),
            host: Some("www.example.com".into()),
            expect_status: vec![200..=299, 301..=301],
            expect_body: None,
            max_bytes: 0,
        };
        let (moved, requests) = http_answer("301 Moved Permanently", "");
        passes(target(moved, named.clone(), 300 * MS), "HTTP 301");
        assert!(requests.recv().unwrap().contains("\r\nHost: www.example.com\r\n"));

        let (down, _) = http_answer("503 Service Unavailable", "");
        fails_at_once(target(down, http(None, 100), 300 * MS), "HTTP 503, expected 200");
        fails_at_once(target(down, named, 300 * MS), "HTTP 503, expected 200-299, 301");
    });
}

#[test]
fn http_refused_hanging_closing_and_not_http() {
    in_lo(|| {
        fails_at_once(target(closed_port(), http(None, 100), 300 * MS), "connection refused");
        let (hang, _listener) = silent_server();
        times_out(target(hang, http(None, 100), 300 * MS), "timeout after 300ms while reading the status line");
        let (closes, _) = http_server(|_| (Duration::ZERO, Vec::new()));
        fails_at_once(target(closes, http(None, 100), 300 * MS), "connection closed before the status line");
        let (ssh, _) = http_server(|_| (Duration::ZERO, b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()));
        fails_at_once(target(ssh, http(None, 100), 300 * MS), "not an HTTP response: \"SSH-2.0-OpenSSH_9.2\"");
        let (headers_only, _) = http_server(|_| (Duration::ZERO, b"HTTP/1.1 200 OK\r\nServer: x\r\n".to_vec()));
        fails_at_once(target(headers_only, http(Some("ok"), 100), 300 * MS), "connection closed in the headers");
        let (stalls, _) = http_server(|_| (10 * SLACK, b"HTTP/1.1 200 OK\r\n".to_vec()));
        times_out(target(stalls, http(None, 100), 300 * MS), "timeout after 300ms while reading the status line");
    });
}

#[test]
fn http_answer_just_before_and_after_the_timeout() {
    in_lo(|| {
        let answer = b"HTTP/1.1 200 OK\r\n\r\nok".to_vec();
        let just_before = answer.clone();
        let (before, _) = http_server(move |_| (600 * MS, just_before.clone()));
        let (verdict, took) = probe(target(before, http(Some("ok"), 100), 1000 * MS));
        assert_eq!(verdict.detail, "HTTP 200, body has \"ok\"");
        assert!(took >= 600 * MS && took < 1000 * MS, "took {took:?}");

        // Answers 400 ms after the timeout, beyond the slack: a probe that
        // waited for it would pass, or take too long.
        let (after, _) = http_server(move |_| (1400 * MS, answer.clone()));
        let (verdict, took) = probe(target(after, http(Some("ok"), 100), 1000 * MS));
        assert_eq!(verdict.detail, "timeout after 1s while reading the status line");
        assert!(took >= 1000 * MS && took < 1400 * MS, "took {took:?}");

        // Headers at once, then a body later than the timeout: one deadline for all of it.
        let (trickle, _) = http_parts(|_| {
            vec![(Duration::ZERO, b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nno".to_vec()), (1400 * MS, b"ok".to_vec())]
        });
        times_out(target(trickle, http(Some("ok"), 100), 300 * MS), "timeout after 300ms while reading the body");
    });
}

#[test]
fn http_reads_at_most_max_bytes() {
    in_lo(|| {
        let endless = endless_body();
        let (verdict, took) = probe(target(endless, http(Some("ok"), 64), 2000 * MS));
        assert_eq!(verdict.detail, "HTTP 200, body lacks \"ok\" in its first 64 bytes");
        assert!(took < SLACK, "stopped reading after 64 bytes, not at the timeout: {took:?}");

        let body = format!("{}ok", "x".repeat(100));
        let (late_ok, _) = http_answer("200 OK", &body);
        fails_at_once(
            target(late_ok, http(Some("ok"), 64), 300 * MS),
            "HTTP 200, body lacks \"ok\" in its first 64 bytes",
        );
        passes(target(late_ok, http(Some("ok"), 102), 300 * MS), "HTTP 200, body has \"ok\"");
        // Without a needle the body is not read at all.
        passes(target(endless, http(None, 64), 300 * MS), "HTTP 200");
    });
}

#[test]
fn udp_reply_silence_and_port_unreachable() {
    in_lo(|| {
        let echo = udp_echo(None);
        passes(target(echo, udp(b"ping", None), 300 * MS), "reply of 4 bytes");
        let pong = udp_echo(Some(b"pong!"));
        passes(target(pong, udp(b"ping", Some(b"pong")), 300 * MS), "reply has \"pong\"");
        fails_at_once(target(pong, udp(b"ping", Some(b"PONG")), 300 * MS), "reply of 5 bytes lacks \"PONG\"");
        let (silent, _socket) = udp_silent();
        times_out(target(silent, udp(b"ping", None), 300 * MS), "timeout after 300ms while waiting for a reply");
        fails_at_once(target(udp_closed(), udp(b"ping", None), 300 * MS), "port unreachable");
    });
}

/// A director probing thousands of servers a second must not keep a closing
/// socket per probe for a minute: every probe ends with a reset, or after the
/// server's own close (the server then holds the TIME_WAIT, as with any
/// HTTP/1.0 client). Sockets of ours are those whose remote port is a server's.
#[test]
fn probes_leave_no_closing_socket_behind() {
    in_lo(|| {
        let (open, _listener) = silent_server();
        passes(target(open, Check::Tcp, 300 * MS), "connected");
        let (ok, _) = http_answer("200 OK", "all ok");
        passes(target(ok, http(None, 100), 300 * MS), "HTTP 200");
        passes(target(ok, http(Some("ok"), 100), 300 * MS), "HTTP 200, body has \"ok\"");
        times_out(target(open, http(None, 100), 300 * MS), "timeout after 300ms while reading the status line");
        let endless = endless_body();
        passes(target(endless, http(None, 64), 300 * MS), "HTTP 200");
        std::thread::sleep(100 * MS);
        let servers = [open.port(), ok.port(), endless.port()];
        let closing = closing_sockets_to(&servers);
        assert!(closing.is_empty(), "sockets of the prober's left closing: {closing:?}");
    });
}

/// Lines of this namespace's /proc/net/tcp in FIN_WAIT1, FIN_WAIT2,
/// TIME_WAIT or CLOSING whose remote port is one of `ports`.
fn closing_sockets_to(ports: &[u16]) -> Vec<String> {
    // thread-self: /proc/net would show the namespace of the process's main thread.
    let table = std::fs::read_to_string("/proc/thread-self/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields[2].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            ["04", "05", "06", "0B"].contains(&fields[3]) && remote_port.is_some_and(|p| ports.contains(&p))
        })
        .map(String::from)
        .collect()
}

fn outcome(events: &Receiver<Event>) -> Outcome {
    loop {
        match events.recv_timeout(10 * SLACK).expect("an outcome") {
            Event::Outcome(o) => return o,
            Event::Tick(_) => {}
        }
    }
}

fn every(interval: Duration, timeout: Duration, addr: SocketAddr, check: Check) -> Target {
    Target { addr, check, interval, timeout }
}

#[test]
fn engine_spreads_first_probes_and_keeps_to_the_schedule() {
    in_lo(|| {
        let (open, _listener) = silent_server();
        let targets = (0..5).map(|_| every(200 * MS, 100 * MS, open, Check::Tcp)).collect();
        let (engine, events) = engine::start(targets, Options::default()).unwrap();
        let mut dues: Vec<Vec<Instant>> = vec![Vec::new(); 5];
        while dues.iter().any(|d| d.len() < 4) {
            let o = outcome(&events);
            assert!(o.passed, "{o:?}");
            assert!(o.started - o.due < SLACK, "late by {:?}", o.started - o.due);
            dues[o.target].push(o.due);
        }
        let stats = engine.stop();
        for (id, d) in dues.iter().enumerate() {
            // 1 s / 5 targets: first probes 40 ms apart, to the nanosecond.
            assert_eq!(d[0] - dues[0][0], id as u32 * 40 * MS, "target {id}");
            for k in 1..4 {
                assert_eq!(d[k] - d[0], k as u32 * 200 * MS, "target {id} drifted");
            }
        }
        assert!(stats.probes >= 20 && stats.skipped == 0 && stats.dropped == 0, "{stats:?}");
        assert!(stats.worst_lateness < SLACK, "{stats:?}");
        assert!(stats.cpu_user + stats.cpu_system > Duration::ZERO, "{stats:?}");
    });
}

#[test]
fn engine_skips_the_slots_of_a_probe_still_running() {
    in_lo(|| {
        let (hang, _listener) = silent_server();
        let slow = every(100 * MS, 250 * MS, hang, http(None, 100));
        let (engine, events) = engine::start(vec![slow], Options::default()).unwrap();
        let seen: Vec<Outcome> = (0..3).map(|_| outcome(&events)).collect();
        let stats = engine.stop();
        for o in &seen {
            assert_eq!(o.detail, "timeout after 250ms while reading the status line");
            assert!(o.ended - o.started >= 250 * MS && o.ended - o.started < 250 * MS + SLACK);
        }
        for pair in seen.windows(2) {
            let gap = pair[1].due - pair[0].due;
            // Due at 0, 100 and 200 ms while running until 250: the next is at 300.
            assert!(gap >= 300 * MS && gap.as_nanos() % (100 * MS).as_nanos() == 0, "gap {gap:?}");
        }
        assert!(stats.skipped >= 2 * stats.probes && stats.probes >= 3, "{stats:?}");
    });
}

#[test]
fn engine_runs_many_probes_at_once_each_with_its_own_deadline() {
    in_lo(|| {
        let (hang, _listener) = silent_server();
        let (ok, _) = http_answer("200 OK", "ok");
        let n = 100;
        let targets = (0..n)
            .map(|i| every(2000 * MS, 500 * MS, if i % 2 == 0 { hang } else { ok }, http(Some("ok"), 100)))
            .collect();
        let (engine, events) = engine::start(targets, Options::default()).unwrap();
        let mut seen = vec![false; n];
        while seen.iter().any(|s| !s) {
            let o = outcome(&events);
            if seen[o.target] {
                continue;
            }
            seen[o.target] = true;
            let took = o.ended - o.started;
            if o.target % 2 == 0 {
                assert_eq!(o.detail, "timeout after 500ms while reading the status line");
                assert!(took >= 500 * MS && took < 500 * MS + SLACK, "{o:?}");
            } else {
                assert_eq!(o.detail, "HTTP 200, body has \"ok\"");
            }
        }
        let stats = engine.stop();
        // 50 hanging probes of 500 ms each start 20 ms apart: about 13 at once.
        assert!(stats.peak_in_flight >= 8, "{stats:?}");
        assert!(stats.worst_lateness < SLACK && stats.skipped == 0, "{stats:?}");
    });
}

#[test]
fn engine_reports_a_flapping_server_probe_by_probe() {
    in_lo(|| {
        let mut listener = Some(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = listener.as_ref().unwrap().local_addr().unwrap();
        let (flapping_http, _) = http_server(|n| {
            let status = if n % 2 == 0 { "200 OK" } else { "503 Service Unavailable" };
            (Duration::ZERO, format!("HTTP/1.1 {status}\r\n\r\n").into_bytes())
        });
        let targets = vec![
            every(150 * MS, 100 * MS, addr, Check::Tcp),
            every(150 * MS, 100 * MS, flapping_http, http(None, 100)),
        ];
        let (engine, events) = engine::start(targets, Options::default()).unwrap();
        let (mut tcp, mut web) = (Vec::new(), Vec::new());
        while tcp.len() < 6 || web.len() < 6 {
            let o = outcome(&events);
            if o.target == 0 {
                tcp.push(o.detail);
                // Up, down, up...: toggled between one probe and the next.
                listener = match listener {
                    Some(_) => None,
                    None => Some(TcpListener::bind(addr).unwrap()),
                };
            } else {
                web.push(o.detail);
            }
        }
        engine.stop();
        assert_eq!(tcp[..6], ["connected", "connection refused"].repeat(3));
        assert_eq!(web[..6], ["HTTP 200", "HTTP 503, expected 200"].repeat(3));
    });
}

#[test]
fn engine_ticks_for_the_full_check_and_stops() {
    in_lo(|| {
        let (engine, events) = engine::start(Vec::new(), Options { tick: Some(50 * MS) }).unwrap();
        let started = Instant::now();
        for _ in 0..3 {
            assert!(matches!(events.recv_timeout(10 * SLACK), Ok(Event::Tick(_))));
        }
        assert!(started.elapsed() >= 150 * MS - 5 * MS);
        engine.stop();
        while let Ok(Event::Tick(_)) = events.recv_timeout(SLACK) {}
        assert!(events.recv_timeout(SLACK).is_err(), "the channel closes when the engine stops");
    });
}

/// Hands each batch over with when it came.
struct Timed(std::sync::mpsc::SyncSender<(Instant, Vec<Outcome>)>);

impl engine::Sink for Timed {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let n = batch.len();
        self.0.try_send((Instant::now(), batch)).map_or(n, |()| 0)
    }
    fn tick(&self, _: Instant) -> bool {
        true
    }
}

#[test]
fn engine_hands_outcomes_over_in_batches_within_the_batch_wait() {
    in_lo(|| {
        let (open, _listener) = silent_server();
        // 300 first probes spread over 1 s: about 3 per 10 ms.
        let n = 300;
        let targets = (0..n).map(|_| every(1000 * MS, 500 * MS, open, Check::Tcp)).collect();
        let (tx, batches) = std::sync::mpsc::sync_channel(1024);
        let engine = engine::start_with(targets, Options::default(), Box::new(Timed(tx))).unwrap();
        let (mut seen, mut count) = (vec![false; n], 0);
        while seen.iter().any(|s| !s) {
            let (at, batch) = batches.recv_timeout(10 * SLACK).expect("a batch");
            assert!(!batch.is_empty() && batch.len() <= engine::BATCH_MAX, "{}", batch.len());
            // Handed over BATCH_WAIT after the first outcome, not when the batch fills.
            let waited = at - batch[0].ended;
            assert!(waited >= engine::BATCH_WAIT - MS && waited < engine::BATCH_WAIT + SLACK, "{waited:?}");
            assert!(batch.windows(2).all(|w| w[0].ended <= w[1].ended), "in the order they ended");
            for o in &batch {
                seen[o.target] = true;
            }
            count += 1;
        }
        let stats = engine.stop();
        assert!(count < n / 2, "{count} batches for {n} outcomes");
        assert_eq!(stats.dropped, 0, "{stats:?}");
    });
}

#[test]
fn engine_refuses_an_interval_or_timeout_of_zero() {
    let t = every(Duration::ZERO, MS, "127.0.0.1:80".parse().unwrap(), Check::Tcp);
    assert!(matches!(
        engine::start(vec![t.clone()], Options::default()),
        Err(EngineError::ZeroInterval { target: 0, .. })
    ));
    let t = Target { interval: MS, timeout: Duration::ZERO, ..t };
    let err = engine::start(vec![t], Options::default()).err().unwrap();
    assert_eq!(err.to_string(), "target 0 (127.0.0.1:80) has a timeout of 0: every probe would fail");
}
