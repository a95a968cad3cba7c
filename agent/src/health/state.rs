//! Rise and fall: a target's outcomes turned into up or down. Pure; the
//! reconciler feeds it and logs the transitions it returns.

use super::target::{Check, Target};
use lvs_config::file::Initial;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Up,
    Down,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Down => "down",
        }
    }
}

/// Consecutive results of one watch. Only the counter toward the other state
/// is kept: a pass while up (or a failure while down) changes nothing but
/// resets it, so the counts are "consecutive" by construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiseFall {
    rise: u32,
    fall: u32,
    status: Status,
    /// Consecutive results against the current status.
    streak: u32,
    /// No result yet: with `initial: Down` one pass is enough, since the server
    /// was never seen failing and `rise` is there to damp flapping.
    fresh: bool,
}

/// A change of status, with what the last probe said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub to: Status,
    /// The consecutive results that caused it.
    pub after: u32,
    pub detail: String,
}

impl RiseFall {
    pub fn new(initial: Initial, rise: u32, fall: u32) -> RiseFall {
        let status = match initial {
            Initial::Down => Status::Down,
            Initial::Up => Status::Up,
        };
        // Validation refuses 0; a 0 here would mean "never", which nobody wants.
        RiseFall { rise: rise.max(1), fall: fall.max(1), status, streak: 0, fresh: true }
    }

    /// A watch that goes on from a status known before (saved by an earlier
    /// agent, or carried over a config reload): not fresh, so leaving it takes
    /// the full `rise` or `fall`.
    pub fn resumed(status: Status, rise: u32, fall: u32) -> RiseFall {
        RiseFall { rise: rise.max(1), fall: fall.max(1), status, streak: 0, fresh: false }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn is_up(&self) -> bool {
        self.status == Status::Up
    }

    /// Takes one probe result; Some when the status changes.
    pub fn record(&mut self, passed: bool, detail: &str) -> Option<Transition> {
        let fresh = std::mem::replace(&mut self.fresh, false);
        let (against, needed) = match self.status {
            Status::Up => (!passed, self.fall),
            Status::Down if fresh && passed => (true, 1),
            Status::Down => (passed, self.rise),
        };
        if !against {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        if self.streak < needed {
            return None;
        }
        let after = std::mem::take(&mut self.streak);
        self.status = if passed { Status::Up } else { Status::Down };
        Some(Transition { to: self.status, after, detail: detail.to_string() })
    }
}

/// The check's name in log lines.
pub fn check_name(check: &Check) -> &'static str {
    match check {
        Check::Tcp => "tcp",
        Check::Http { .. } => "http",
        Check::Udp { .. } => "udp",
    }
}

/// "192.0.2.21:80 http down after 3 failures: timeout after 1s"
pub struct Line<'a>(pub &'a Target, pub &'a Transition);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Line(target, t) = self;
        let what = match (t.to, t.after) {
            (Status::Up, 1) => "pass",
            (Status::Up, _) => "passes",
            (Status::Down, 1) => "failure",
            (Status::Down, _) => "failures",
        };
        write!(
            f,
            "{} {} {} after {} {what}: {}",
            target.addr,
            check_name(&target.check),
            t.to.word(),
            t.after,
            t.detail
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(rf: &mut RiseFall, results: &str) -> Vec<Option<Status>> {
        results.chars().map(|c| rf.record(c == '+', "x").map(|t| t.to)).collect()
    }

    #[test]
    fn down_at_first_passes_once_then_needs_rise() {
        let mut rf = RiseFall::new(Initial::Down, 2, 3);
        assert!(!rf.is_up());
        assert_eq!(run(&mut rf, "+"), [Some(Status::Up)]);
        let mut rf = RiseFall::new(Initial::Down, 2, 3);
        // A failure first: the server has been seen down, so rise counts.
        assert_eq!(run(&mut rf, "-+-++"), [None, None, None, None, Some(Status::Up)]);
    }

    #[test]
    fn fall_consecutive_failures_take_it_down_and_a_pass_resets_the_count() {
        let mut rf = RiseFall::new(Initial::Up, 2, 3);
        assert_eq!(run(&mut rf, "--+--"), [None; 5]);
        assert!(rf.is_up());
        assert_eq!(run(&mut rf, "-"), [Some(Status::Down)]);
        assert_eq!(run(&mut rf, "---"), [None; 3]);
        assert_eq!(run(&mut rf, "+-+-"), [None; 4]);
        assert_eq!(run(&mut rf, "++"), [None, Some(Status::Up)]);
    }

    #[test]
    fn initial_up_waits_for_fall_failures() {
        let mut rf = RiseFall::new(Initial::Up, 2, 2);
        assert_eq!(run(&mut rf, "--"), [None, Some(Status::Down)]);
    }

    #[test]
    fn rise_and_fall_of_one_follow_every_result() {
        let mut rf = RiseFall::new(Initial::Up, 1, 1);
        assert_eq!(run(&mut rf, "-+-"), [Some(Status::Down), Some(Status::Up), Some(Status::Down)]);
    }

    #[test]
    fn the_log_line_names_target_check_count_and_reason() {
        let target = Target {
            addr: "192.0.2.21:80".parse().unwrap(),
            check: Check::Http {
                path: "/".into(),
                host: None,
                expect_status: vec![200..=200],
                expect_body: None,
                max_bytes: 65536,
            },
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
        };
        let mut rf = RiseFall::new(Initial::Up, 2, 3);
        rf.record(false, "timeout after 1s");
        rf.record(false, "timeout after 1s");
        let t = rf.record(false, "timeout after 1s").unwrap();
        assert_eq!(Line(&target, &t).to_string(), "192.0.2.21:80 http down after 3 failures: timeout after 1s");
        rf.record(true, "HTTP 200");
        let t = rf.record(true, "HTTP 200").unwrap();
        assert_eq!(Line(&target, &t).to_string(), "192.0.2.21:80 http up after 2 passes: HTTP 200");
    }
}
