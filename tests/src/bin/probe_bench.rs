//! `make bench`, second part: the probe engine against 10,000 backends.
//!
//! In a network namespace of its own, this process serves 10,000 backends on
//! 127.1.0.1 to 127.1.49.200 port 80 (one tokio thread: half accept and close,
//! half answer `HTTP/1.1 200 OK` with body "ok"), then runs itself again as
//! `probe_bench --engine`: a child holding only the engine and a receiver that
//! counts outcomes, as the agent would. Every backend is probed every second
//! (half TCP, a quarter HTTP by status, a quarter HTTP with a body needle) for
//! BENCH_PROBE_SECONDS (60). The child prints the engine thread's CPU time
//! (per probe and as a share of one core), its own RSS, the probes done and
//! failed, the worst timer lateness and the skipped slots. BENCH_PROBE_TARGETS
//! changes the 10,000. Not a test: it fails only when it cannot run.

use lvs_agent::health::engine::{self, Event, Options, Stats};
use lvs_agent::health::target::{Check, Target};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

fn fail(message: String) -> ! {
    eprintln!("probe_bench: {message}");
    std::process::exit(1);
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(127, 1, (i / 200) as u8, (i % 200 + 1) as u8), 80))
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

fn targets(n: usize) -> Vec<Target> {
    (0..n).map(|i| Target { addr: addr(i), check: check(i), interval: INTERVAL, timeout: TIMEOUT }).collect()
}

fn main() {
    let n = env_number("BENCH_PROBE_TARGETS", 10_000);
    let seconds = env_number("BENCH_PROBE_SECONDS", 60) as u64;
    if n == 0 || n > 200 * 250 {
        fail("BENCH_PROBE_TARGETS from 1 to 50000".into());
    }
    if std::env::args().nth(1).as_deref() == Some("--engine") {
        return engine_child(n, Duration::from_secs(seconds));
    }
    if !nix::unistd::geteuid().is_root() {
        fail("needs root: it makes a network namespace for its 10,000 backends (sudo make bench)".into());
    }
    // Before any thread exists, so every thread and the child share the namespace.
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| fail(format!("unshare: {e}")));
    lvs_agent::net::loopback::up().unwrap_or_else(|e| fail(e.to_string()));
    raise_file_limit(n as u64 + 4096);

    let listeners: Vec<(std::net::TcpListener, bool)> = (0..n)
        .map(|i| {
            let l = std::net::TcpListener::bind(addr(i)).unwrap_or_else(|e| fail(format!("bind {}: {e}", addr(i))));
            l.set_nonblocking(true).unwrap_or_else(|e| fail(format!("nonblocking: {e}")));
            (l, !matches!(check(i), Check::Tcp))
        })
        .collect();
    std::thread::spawn(move || serve(listeners));

    println!(
        "probe bench: {n} targets ({} TCP, {} HTTP by status, {} HTTP with a body needle) every {:?}, timeout {:?}, for {seconds} s",
        (0..n).filter(|i| i % 4 < 2).count(),
        (0..n).filter(|i| i % 4 == 2).count(),
        (0..n).filter(|i| i % 4 == 3).count(),
        INTERVAL,
        TIMEOUT,
    );
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(format!("current_exe: {e}")));
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

/// The backends, on one thread: every listener is a task.
fn serve(listeners: Vec<(std::net::TcpListener, bool)>) {
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

/// The agent's side: the engine, and a receiver that counts what it gets.
fn engine_child(n: usize, run_for: Duration) {
    let floor = kernel_floor(n);
    let (engine, events) = engine::start(targets(n), Options::default()).unwrap_or_else(|e| fail(e.to_string()));
    let started = Instant::now();
    let (mut passed, mut failed, mut first_failure) = (0u64, 0u64, None);
    let (mut lateness, mut duration) = (Histogram::default(), Histogram::default());
    let mut next_report = started + Duration::from_secs(10);
    while started.elapsed() < run_for {
        let Ok(event) = events.recv_timeout(Duration::from_millis(100)) else { continue };
        if let Event::Outcome(o) = event {
            lateness.add(o.started - o.due);
            duration.add(o.ended - o.started);
            if o.passed {
                passed += 1;
            } else {
                failed += 1;
                first_failure.get_or_insert_with(|| format!("{}: {}", o.target, o.detail));
            }
        }
        if Instant::now() >= next_report {
            let s = engine.stats();
            eprintln!("  {:>3} s: {} probes, {} failed, worst lateness {:?}", started.elapsed().as_secs(), s.probes, failed, s.worst_lateness);
            next_report += Duration::from_secs(10);
        }
    }
    let wall = started.elapsed();
    let stats = engine.stop();
    report(n, wall, stats, passed, failed, first_failure);
    println!("lateness:           {}", lateness.summary());
    println!("probe durations:    {}", duration.summary());
    println!("kernel floor:       {floor:.1} µs of CPU per plain blocking TCP connect + reset on this loopback (no engine)");
}

/// What a TCP probe costs with no engine at all: blocking connects to the
/// TCP backends, each closed by a reset, one after another for a second. On
/// loopback the connecting thread also pays the backend's half of the
/// handshake, so this is the part of the engine's figure no engine can save.
fn kernel_floor(n: usize) -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    use nix::sys::socket::{setsockopt, sockopt};
    let cpu = || getrusage(UsageWho::RUSAGE_THREAD).map(|u| secs(u.user_time()) + secs(u.system_time())).unwrap_or(0.0);
    let (before, started) = (cpu(), Instant::now());
    let mut count = 0u64;
    for i in (0..n).filter(|i| i % 4 < 2).cycle() {
        if started.elapsed() >= Duration::from_secs(1) {
            break;
        }
        if let Ok(stream) = std::net::TcpStream::connect(addr(i)) {
            let _ = setsockopt(&stream, sockopt::Linger, &nix::libc::linger { l_onoff: 1, l_linger: 0 });
            count += 1;
        }
    }
    (cpu() - before) / count.max(1) as f64 * 1e6
}

/// Durations in 0.1 ms steps up to 1 s, for percentiles.
struct Histogram(Vec<u64>);

impl Default for Histogram {
    fn default() -> Self {
        Histogram(vec![0; 10_001])
    }
}

impl Histogram {
    fn add(&mut self, d: Duration) {
        let step = (d.as_micros() / 100).min(10_000) as usize;
        self.0[step] += 1;
    }

    fn percentile(&self, p: f64) -> f64 {
        let total: u64 = self.0.iter().sum();
        let want = (total as f64 * p).ceil() as u64;
        let mut seen = 0;
        for (step, count) in self.0.iter().enumerate() {
            seen += count;
            if seen >= want.max(1) {
                return step as f64 / 10.0;
            }
        }
        1000.0
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms",
            self.percentile(0.5),
            self.percentile(0.99),
            self.percentile(0.999)
        )
    }
}

fn report(n: usize, wall: Duration, stats: Stats, passed: u64, failed: u64, first_failure: Option<String>) {
    let cpu = stats.cpu_user + stats.cpu_system;
    let share = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
    let per_probe = cpu.as_secs_f64() / stats.probes.max(1) as f64 * 1e6;
    let (rss, peak) = (status_kib("VmRSS:"), status_kib("VmHWM:"));
    let process = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| secs(u.user_time()) + secs(u.system_time()))
        .unwrap_or(0.0);
    println!("wall time:          {:.1} s", wall.as_secs_f64());
    println!("probes done:        {} ({passed} passed, {failed} failed{})", stats.probes,
        first_failure.map(|f| format!("; first: target {f}")).unwrap_or_default());
    println!("skipped slots:      {}   dropped outcomes: {}", stats.skipped, stats.dropped);
    println!("worst lateness:     {:.1} ms   peak in flight: {}", stats.worst_lateness.as_secs_f64() * 1e3, stats.peak_in_flight);
    println!(
        "engine thread CPU:  {:.2} s user + {:.2} s system = {share:.1}% of one core, {per_probe:.1} µs per probe",
        stats.cpu_user.as_secs_f64(),
        stats.cpu_system.as_secs_f64()
    );
    println!("whole child CPU:    {process:.2} s (with the receiver)");
    println!("child RSS:          {:.1} MiB now, {:.1} MiB peak", rss / 1024.0, peak / 1024.0);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "goals:              under 10% of one core: {}; under 50 MiB RSS: {}; {n} targets probed {:.2} times a second each",
        verdict(share < 10.0),
        verdict(peak / 1024.0 < 50.0),
        stats.probes as f64 / wall.as_secs_f64() / n as f64
    );
}

fn secs(t: nix::sys::time::TimeVal) -> f64 {
    t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6
}

/// A `Vm...:` figure of /proc/self/status, in KiB.
fn status_kib(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}
