//! When each target is due. Pure, so the arithmetic is tested without clocks.
//!
//! A target is due at `first + k * interval` for every k: the schedule is
//! fixed at start and never drifts by how long probes take or how late the
//! thread woke. A slot whose due time passes while the target's previous probe
//! still runs is skipped, so there is at most one probe per target in flight.

use std::time::{Duration, Instant};

/// Target `index` of `count` is first due `index/count` of its interval after
/// `start`: 10,000 targets on 1 s start 100 µs apart, not all at once.
pub fn first_due(start: Instant, interval: Duration, index: usize, count: usize) -> Instant {
    let offset = interval.as_nanos() * index as u128 / count.max(1) as u128;
    start + Duration::from_nanos(offset as u64)
}

/// The slot after `due` for a probe that ended at `ended`, and how many slots
/// were skipped because the probe was still running when they came.
pub fn next_due(due: Instant, interval: Duration, ended: Instant) -> (Instant, u64) {
    let next = due + interval;
    if ended <= next {
        return (next, 0);
    }
    let skipped = (ended - next).as_nanos().div_ceil(interval.as_nanos()) as u64;
    (next + interval * skipped as u32, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn first_probes_spread_over_the_interval() {
        let t0 = Instant::now();
        let dues: Vec<_> = (0..4).map(|i| first_due(t0, 1000 * MS, i, 4) - t0).collect();
        assert_eq!(dues, [Duration::ZERO, 250 * MS, 500 * MS, 750 * MS]);
        assert_eq!(first_due(t0, 1000 * MS, 0, 0), t0);
    }

    #[test]
    fn next_slot_counts_from_due_not_from_the_end() {
        let t0 = Instant::now();
        // A probe that took 300 ms of a 1 s interval: next at 1 s, not 1.3 s.
        assert_eq!(next_due(t0, 1000 * MS, t0 + 300 * MS), (t0 + 1000 * MS, 0));
        // Ending exactly on the next due time still makes it.
        assert_eq!(next_due(t0, 1000 * MS, t0 + 1000 * MS), (t0 + 1000 * MS, 0));
    }

    #[test]
    fn slots_passed_while_running_are_skipped() {
        let t0 = Instant::now();
        assert_eq!(next_due(t0, 1000 * MS, t0 + 1001 * MS), (t0 + 2000 * MS, 1));
        assert_eq!(next_due(t0, 1000 * MS, t0 + 2000 * MS), (t0 + 2000 * MS, 1));
        assert_eq!(next_due(t0, 1000 * MS, t0 + 3500 * MS), (t0 + 4000 * MS, 3));
        assert_eq!(next_due(t0, 100 * MS, t0 + 250 * MS), (t0 + 300 * MS, 2));
    }
}
