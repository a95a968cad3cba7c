//! Moments ahead of a clock reading, without the panic of `Instant + Duration`.
//!
//! Durations here come from people: a health interval, a stop timeout, a
//! try's `--within`. `Instant + Duration` panics when the sum leaves the
//! clock's range ("500000000000y" does), and a panic on the IPVS thread or in
//! PID 1 has nothing to restart it. Every moment ahead is taken through
//! [`after`]; the crate's clippy lint `arithmetic_side_effects` (agent/Cargo.toml,
//! with agent/clippy.toml letting plain integers through) refuses a new `+`
//! or `-` on an `Instant`, a `SystemTime` or a `Duration`.

use std::time::{Duration, Instant};

/// Longer than anything this machine will run for, and short enough that
/// every clock reading plus it, plus the millisecond tokio's timer adds to a
/// deadline, stays in range: a longer duration means "not while we run" and
/// is cut to this.
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `d` after `t`, with `d` cut to [`FOREVER`]. Never panics: should even that
/// leave the clock's range, the farthest moment it can hold (within half) is
/// taken instead.
pub fn after(t: Instant, d: Duration) -> Instant {
    let mut d = d.min(FOREVER);
    loop {
        if let Some(later) = t.checked_add(d) {
            return later;
        }
        d /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_what_fits_and_cuts_what_does_not() {
        let t = Instant::now();
        assert_eq!(after(t, Duration::from_secs(2)).duration_since(t), Duration::from_secs(2));
        assert_eq!(after(t, Duration::ZERO), t);
        // 500000000000y, as a config or `try --within` can say it.
        let huge = humantime::parse_duration("500000000000y").unwrap();
        assert_eq!(after(t, huge).duration_since(t), FOREVER);
        assert_eq!(after(t, Duration::MAX).duration_since(t), FOREVER);
        // tokio adds a millisecond to every deadline it is given.
        assert!(after(t, Duration::MAX).checked_add(Duration::from_millis(1)).is_some());
    }
}
