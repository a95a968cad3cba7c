//! Counters the engine thread bumps and any thread reads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How the engine is doing, for logs and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Probes finished, passed or failed.
    pub probes: u64,
    /// Slots not probed because the target's previous probe was still running.
    pub skipped: u64,
    /// Outcomes not delivered because the receiver was gone or its queue full.
    pub dropped: u64,
    /// The most probes running at once.
    pub peak_in_flight: u64,
    /// The worst `started - due` seen: how late the thread woke for a probe.
    pub worst_lateness: Duration,
    /// CPU time of the engine's thread, user and system, as of its last
    /// once-a-second sample (exact after `stop`).
    pub cpu_user: Duration,
    pub cpu_system: Duration,
}

#[derive(Default)]
pub struct Counters {
    probes: AtomicU64,
    skipped: AtomicU64,
    dropped: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    worst_lateness_ns: AtomicU64,
    cpu_user_ns: AtomicU64,
    cpu_system_ns: AtomicU64,
}

// Relaxed throughout: one thread writes, and readers want a recent figure,
// not an ordering with anything else.
impl Counters {
    pub fn started(&self, lateness: Duration) {
        self.worst_lateness_ns.fetch_max(lateness.as_nanos() as u64, Relaxed);
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Relaxed);
    }

    pub fn ended(&self, skipped: u64) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.probes.fetch_add(1, Relaxed);
        self.skipped.fetch_add(skipped, Relaxed);
    }

    pub fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
    }

    /// Samples the calling thread's CPU time: call it on the engine thread.
    pub fn sample_cpu(&self) {
        if let Ok(usage) = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD) {
            let ns = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000_000 + t.tv_usec() as u64 * 1000;
            self.cpu_user_ns.store(ns(usage.user_time()), Relaxed);
            self.cpu_system_ns.store(ns(usage.system_time()), Relaxed);
        }
    }

    pub fn snapshot(&self) -> Stats {
        Stats {
            probes: self.probes.load(Relaxed),
            skipped: self.skipped.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            peak_in_flight: self.peak_in_flight.load(Relaxed),
            worst_lateness: Duration::from_nanos(self.worst_lateness_ns.load(Relaxed)),
            cpu_user: Duration::from_nanos(self.cpu_user_ns.load(Relaxed)),
            cpu_system: Duration::from_nanos(self.cpu_system_ns.load(Relaxed)),
        }
    }
}
