//! A point in time after which a connection gets no more reads or writes.

use std::io;
use std::time::{Duration, Instant};

/// `None` is "never": a duration too long for the clock to add (checked, not
/// `+`, so that no limit can overflow an `Instant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    pub const NEVER: Deadline = Deadline(None);

    /// `within` from now.
    pub fn after(within: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(within))
    }

    /// Whichever of the two comes first.
    pub fn earliest(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }

    /// What is left of it at `now`: `None` for never, zero once it has passed.
    pub fn left_at(self, now: Instant) -> Option<Duration> {
        self.0.map(|at| at.saturating_duration_since(now))
    }

    pub fn has_passed_at(self, now: Instant) -> bool {
        self.left_at(now).is_some_and(|left| left.is_zero())
    }

    /// The timeout for one blocking read or write started now (`None`: no
    /// timeout), or `TimedOut` when nothing is left.
    pub fn io_timeout(self) -> io::Result<Option<Duration>> {
        match self.left_at(Instant::now()) {
            Some(left) if left.is_zero() => Err(io::Error::new(io::ErrorKind::TimedOut, "connection deadline passed")),
            left => Ok(left),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_of_two_and_never() {
        let now = Instant::now();
        let (soon, later) = (Deadline(Some(now)), Deadline(now.checked_add(Duration::from_secs(5))));
        assert_eq!(soon.earliest(later), soon);
        assert_eq!(later.earliest(soon), soon);
        assert_eq!(Deadline::NEVER.earliest(later), later);
        assert_eq!(later.earliest(Deadline::NEVER), later);
        assert_eq!(Deadline::NEVER.earliest(Deadline::NEVER), Deadline::NEVER);
    }

    #[test]
    fn a_duration_too_long_for_the_clock_is_never_and_does_not_panic() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::NEVER);
        assert_eq!(Deadline::NEVER.left_at(Instant::now()), None);
        assert!(!Deadline::NEVER.has_passed_at(Instant::now()));
        assert!(matches!(Deadline::NEVER.io_timeout(), Ok(None)));
    }

    #[test]
    fn what_is_left_shrinks_to_zero_and_then_io_times_out() {
        let now = Instant::now();
        let d = Deadline(now.checked_add(Duration::from_secs(2)));
        assert_eq!(d.left_at(now), Some(Duration::from_secs(2)));
        let after = now.checked_add(Duration::from_secs(3)).unwrap();
        assert_eq!(d.left_at(after), Some(Duration::ZERO));
        assert!(d.has_passed_at(after));
        assert!(!d.has_passed_at(now));
        let passed = Deadline(Some(now));
        assert_eq!(passed.io_timeout().unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert!(
            matches!(Deadline::after(Duration::from_secs(60)).io_timeout(), Ok(Some(t)) if t <= Duration::from_secs(60))
        );
    }
}
