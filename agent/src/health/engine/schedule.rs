//! When each target is due. Pure, so the arithmetic is tested without clocks.
//!
//! A target is due at `first + k * interval` for every k: the schedule is
//! fixed at start and never drifts by how long probes take or how late the
//! thread woke. A slot whose due time passes while the target's previous probe
//! still runs is skipped, so there is at most one probe per target in flight.
//!
//! Intervals are a config's, and the engine does not count on validation to
//! keep them sane: moments are taken with [`after`], which cuts an absurd
//! interval ("500000000000y") to [`crate::deadline::FOREVER`] rather than panic.

use crate::deadline::after;
use std::time::{Duration, Instant};

/// Target `index` of `count` is first due `index/count` of its interval after
/// `start`: 10,000 targets on 1 s start 100 µs apart, not all at once.
pub fn first_due(start: Instant, interval: Duration, index: usize, count: usize) -> Instant {
    // index < count, so the offset is at most the interval; u128 holds the product.
    let offset = interval.as_nanos().saturating_mul(index as u128) / count.max(1) as u128;
    after(start, Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX)))
}

/// The slot after `due` for a probe that ended at `ended`, and how many slots
/// were skipped because the probe was still running when they came.
pub fn next_due(due: Instant, interval: Duration, ended: Instant) -> (Instant, u64) {
    let next = after(due, interval);
    if ended <= next {
        return (next, 0);
    }
    // A zero interval is refused before an engine starts; here it only must not divide by zero.
    let late = ended.saturating_duration_since(next).as_nanos();
    let skipped = u32::try_from(late.div_ceil(interval.as_nanos().max(1))).unwrap_or(u32::MAX);
    (after(next, interval.saturating_mul(skipped)), u64::from(skipped))
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

    #[test]
    fn an_interval_past_the_clocks_range_is_forever_not_a_panic() {
        let t0 = Instant::now();
        let forever = t0 + crate::deadline::FOREVER;
        for huge in [humantime::parse_duration("500000000000y").unwrap(), Duration::MAX] {
            assert!(first_due(t0, huge, 3, 4) <= forever);
            assert_eq!(first_due(t0, huge, 0, 4), t0);
            assert_eq!(next_due(t0, huge, t0 + 300 * MS), (forever, 0));
            assert_eq!(next_due(forever, huge, t0 + 300 * MS), (forever + crate::deadline::FOREVER, 0));
        }
        // A zero interval (refused before an engine starts) does not divide by zero.
        assert_eq!(next_due(t0, Duration::ZERO, t0 + 3 * MS).1, 3_000_000);
    }
}
