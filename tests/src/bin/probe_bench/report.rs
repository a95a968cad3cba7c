//! The figures the bench prints, and the goals they are judged against.

use super::floor::Floor;
use lvs_agent::health::engine::Stats;
use std::time::Duration;

/// Issue 6: the probe engine's share of one core, and its process's RSS.
const GOAL_CORE_PERCENT: f64 = 10.0;
const GOAL_RSS_MIB: f64 = 50.0;

/// Durations in 0.1 ms steps up to 1 s, for percentiles.
pub struct Histogram(Vec<u64>);

impl Default for Histogram {
    fn default() -> Self {
        Histogram(vec![0; 10_001])
    }
}

impl Histogram {
    pub fn add(&mut self, d: Duration) {
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

    pub fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms",
            self.percentile(0.5),
            self.percentile(0.99),
            self.percentile(0.999)
        )
    }
}

/// What the engine child counted besides the engine's own stats.
pub struct Seen {
    pub passed: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    pub lateness: Histogram,
    pub duration: Histogram,
}

pub fn print(n: usize, wall: Duration, stats: Stats, seen: Seen, floor: &Floor) {
    let cpu = stats.cpu_user + stats.cpu_system;
    let share = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
    let per_probe = cpu.as_secs_f64() / stats.probes.max(1) as f64 * 1e6;
    let user = stats.cpu_user.as_secs_f64() / stats.probes.max(1) as f64 * 1e6;
    let rate = stats.probes as f64 / wall.as_secs_f64();
    let (rss, peak) = (status_kib("VmRSS:") / 1024.0, status_kib("VmHWM:") / 1024.0);
    let process = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| secs(u.user_time()) + secs(u.system_time()))
        .unwrap_or(0.0);
    let above = per_probe - floor.per_probe_us;
    println!("wall time:          {:.1} s", wall.as_secs_f64());
    println!(
        "probes done:        {} ({} passed, {} failed{}), {rate:.0} a second",
        stats.probes,
        seen.passed,
        seen.failed,
        seen.first_failure.map(|f| format!("; first: target {f}")).unwrap_or_default()
    );
    println!("skipped slots:      {}   dropped outcomes: {}", stats.skipped, stats.dropped);
    println!(
        "lateness:           worst {:.1} ms; {}   peak in flight: {}",
        stats.worst_lateness.as_secs_f64() * 1e3,
        seen.lateness.summary(),
        stats.peak_in_flight
    );
    println!("probe durations:    {}", seen.duration.summary());
    println!(
        "engine thread CPU:  {:.2} s user + {:.2} s system = {share:.1}% of one core: {per_probe:.1} µs per probe ({user:.1} user + {:.1} system)",
        stats.cpu_user.as_secs_f64(),
        stats.cpu_system.as_secs_f64(),
        per_probe - user
    );
    println!(
        "kernel floor:       {:.1} µs per probe ({} probes of the same mix, no engine: batched non-blocking connects, poll, [request, read], reset)",
        floor.per_probe_us, floor.probes
    );
    println!(
        "engine - floor:     {above:.1} µs per probe = {:.1}% of one core at {rate:.0} probes a second",
        above * rate / 1e4
    );
    println!("whole child CPU:    {process:.2} s (with the receiver and the floor)");
    println!("child RSS:          {rss:.1} MiB now, {peak:.1} MiB peak");
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "goals:              under {GOAL_CORE_PERCENT}% of one core: {} ({share:.1}%); under {GOAL_RSS_MIB} MiB RSS: {} ({peak:.1} MiB); {n} targets probed {:.2} times a second each",
        verdict(share < GOAL_CORE_PERCENT),
        verdict(peak < GOAL_RSS_MIB),
        rate / n as f64
    );
}

pub fn secs(t: nix::sys::time::TimeVal) -> f64 {
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
