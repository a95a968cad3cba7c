//! `make bench`, second part: the probe engine against 10,000 backends.
//!
//! This process serves 10,000 backends (one tokio thread: half accept and
//! close, half answer `HTTP/1.1 200 OK` with body "ok") in a network namespace
//! of its own, then runs itself again as `probe_bench --engine` in the
//! prober's namespace (see `topology`: a separate one over veth by default,
//! BENCH_PROBE_TOPOLOGY=loopback for the same one): a child holding only the
//! engine and a receiver that counts outcomes, as the agent would. The child
//! first measures the kernel floor of the same probes (`floor`), then every
//! backend is probed every second (half TCP, a quarter HTTP by status, a
//! quarter HTTP with a body needle) for BENCH_PROBE_SECONDS (60), and it prints
//! (`report`) the engine thread's CPU per probe, the floor and the difference,
//! its share of one core, the RSS, lateness and whether the goals are met.
//! BENCH_PROBE_TARGETS changes the 10,000. Not a test: it fails only when it
//! cannot run.

mod floor;
mod report;
mod topology;

use lvs_agent::health::engine::{self, Options, Sink};
use lvs_agent::health::target::{Check, Outcome, Target};
use report::{Histogram, Seen};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use topology::Topology;

const INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
const FLOOR_TIME: Duration = Duration::from_secs(2);

fn fail(message: String) -> ! {
    eprintln!("probe_bench: {message}");
    std::process::exit(1);
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn check(i: usize) -> Check {
    let http = |body: Option<&str>| Check::Http {
        path: "/health".into(),
        host: None,
        expect_status: vec![200..=299],
        expect_body: body.map(String::from),
        max_bytes: 1024,
    };
    match i % 4 {
        0 | 1 => Check::Tcp,
        2 => http(None),
        _ => http(Some("ok")),
    }
}

fn targets(topology: Topology, n: usize) -> Vec<Target> {
    (0..n).map(|i| Target { addr: topology.addr(i), check: check(i), interval: INTERVAL, timeout: TIMEOUT }).collect()
}

fn main() {
    let n = env_number("BENCH_PROBE_TARGETS", 10_000);
    let seconds = env_number("BENCH_PROBE_SECONDS", 60) as u64;
    let topology = Topology::from_env().unwrap_or_else(|e| fail(e));
    if n == 0 || n > Topology::MAX_TARGETS {
        fail(format!("BENCH_PROBE_TARGETS from 1 to {}", Topology::MAX_TARGETS));
    }
    if std::env::args().nth(1).as_deref() == Some("--engine") {
        return engine_child(topology, n, Duration::from_secs(seconds));
    }
    if !nix::unistd::geteuid().is_root() {
        fail("needs root: it makes network namespaces for its 10,000 backends (sudo make bench)".into());
    }
    // Before any thread exists, so that threads started here are in the backends' namespace.
    let prober_ns = topology.enter_backend_side(n).unwrap_or_else(|e| fail(e));
    raise_file_limit(n as u64 + 4096);

    let listeners: Vec<(std::net::TcpListener, bool)> = (0..n)
        .map(|i| {
            let addr = topology.addr(i);
            let l = std::net::TcpListener::bind(addr).unwrap_or_else(|e| fail(format!("bind {addr}: {e}")));
            l.set_nonblocking(true).unwrap_or_else(|e| fail(format!("nonblocking: {e}")));
            (l, !matches!(check(i), Check::Tcp))
        })
        .collect();
    let split = topology.split();
    let backend_cpu = split.as_ref().map(|s| s.backend);
    std::thread::spawn(move || serve(listeners, backend_cpu));
    if let Some(ns) = prober_ns {
        topology::enter_prober_side(ns).unwrap_or_else(|e| fail(e));
    }

    println!(
        "probe bench: {n} targets ({} TCP, {} HTTP by status, {} HTTP with a body needle) every {:?}, timeout {:?}, for {seconds} s",
        (0..n).filter(|i| i % 4 < 2).count(),
        (0..n).filter(|i| i % 4 == 2).count(),
        (0..n).filter(|i| i % 4 == 3).count(),
        INTERVAL,
        TIMEOUT,
    );
    println!("topology:           {}", topology.describe(split.as_ref()));
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(format!("current_exe: {e}")));
    // The child inherits this thread's network namespace: the prober's.
    let status = std::process::Command::new(exe)
        .arg("--engine")
        .status()
        .unwrap_or_else(|e| fail(format!("cannot run the engine child: {e}")));
    if !status.success() {
        fail(format!("the engine child failed: {status}"));
    }
}

/// Each process needs a file per backend (the listeners here, at worst a
/// probe per target in the child) and some room for connections.
fn raise_file_limit(want: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or_else(|e| fail(format!("getrlimit: {e}")));
    let (soft, hard) = if want > hard { (want, want) } else { (want.max(soft), hard) };
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap_or_else(|e| {
        fail(format!("cannot raise the open file limit to {want} (hard limit {hard}): {e}; lower BENCH_PROBE_TARGETS"))
    });
}

/// The backends, on one thread (on `cpu` when given): every listener is a task.
fn serve(listeners: Vec<(std::net::TcpListener, bool)>, cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        topology::pin(&topology::one_cpu(cpu)).unwrap_or_else(|e| fail(e));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    runtime.block_on(async {
        for (listener, http) in listeners {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| fail(format!("{e}")));
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) if http => {
                            tokio::spawn(answer(stream));
                        }
                        Ok(_) => {}
                        // Out of files for a moment: let the other tasks close some.
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
            });
        }
        std::future::pending::<()>().await
    });
}

async fn answer(mut stream: tokio::net::TcpStream) {
    let mut request = [0u8; 512];
    if stream.read(&mut request).await.is_ok() {
        let _ = stream.write_all(RESPONSE).await;
    }
}

/// The engine's outcomes as the agent takes them: a batch (at most
/// `engine::BATCH_MAX`, or what 10 ms gathered) a message, one wake-up of the
/// receiver each. The queue holds as many batches as two rounds have
/// outcomes: bounded, and never the reason for a drop here.
struct Batches(SyncSender<Vec<Outcome>>);

impl Sink for Batches {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let n = batch.len();
        if self.0.try_send(batch).is_ok() {
            0
        } else {
            n
        }
    }

    fn tick(&self, _: Instant) -> bool {
        true
    }
}

/// The agent's side: the floor, then the engine and a receiver that counts
/// what it gets.
fn engine_child(topology: Topology, n: usize, run_for: Duration) {
    // The floor and the engine's thread (which inherits it) off the backends'
    // CPU; the receiver, as the agent's main loop, wherever the scheduler likes.
    let everywhere =
        nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap_or_else(|e| fail(e.to_string()));
    let split = topology.split();
    if let Some(split) = &split {
        topology::pin(&split.prober).unwrap_or_else(|e| fail(e));
    }
    let floor = floor::measure(&targets(topology, n), FLOOR_TIME);
    let (sender, batches) = sync_channel(2 * n + 16);
    let engine = engine::start_with(targets(topology, n), Options::default(), Box::new(Batches(sender)))
        .unwrap_or_else(|e| fail(e.to_string()));
    if split.is_some() {
        topology::pin(&everywhere).unwrap_or_else(|e| fail(e));
    }
    let started = Instant::now();
    let mut seen = Seen {
        passed: 0,
        failed: 0,
        first_failure: None,
        lateness: Histogram::default(),
        duration: Histogram::default(),
    };
    let mut next_report = started + Duration::from_secs(10);
    while started.elapsed() < run_for {
        let Ok(batch) = batches.recv_timeout(Duration::from_millis(100)) else { continue };
        for o in batch {
            seen.lateness.add(o.started - o.due);
            seen.duration.add(o.ended - o.started);
            if o.passed {
                seen.passed += 1;
            } else {
                seen.failed += 1;
                seen.first_failure.get_or_insert_with(|| format!("{}: {}", o.target, o.detail));
            }
        }
        if Instant::now() >= next_report {
            let s = engine.stats();
            eprintln!(
                "  {:>3} s: {} probes, {} failed, worst lateness {:?}",
                started.elapsed().as_secs(),
                s.probes,
                seen.failed,
                s.worst_lateness
            );
            next_report += Duration::from_secs(10);
        }
    }
    let wall = started.elapsed();
    let stats = engine.stop();
    report::print(n, wall, stats, seen, &floor);
}
