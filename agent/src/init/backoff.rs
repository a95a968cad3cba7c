//! How long to wait before restarting a dead agent.

use std::time::Duration;

/// 1 s, doubling up to 30 s; back to 1 s once the agent has stayed up a while,
/// so that one crash a day restarts at once but a crash loop does not spin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

pub const FIRST: Duration = Duration::from_secs(1);
pub const MAX: Duration = Duration::from_secs(30);
/// An agent that ran this long before dying was healthy: start over from FIRST.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The delay before the next start, given how long the dead agent ran.
    pub fn after_exit(&mut self, ran: Duration) -> Duration {
        if ran >= HEALTHY_RUN {
            self.next = FIRST;
        }
        let delay = self.next;
        self.next = (self.next * 2).min(MAX);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_a_ceiling_and_resets_after_a_healthy_run() {
        let mut b = Backoff::default();
        let quick = Duration::from_millis(10);
        let delays: Vec<u64> = (0..7).map(|_| b.after_exit(quick).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(b.after_exit(HEALTHY_RUN).as_secs(), 1);
        assert_eq!(b.after_exit(quick).as_secs(), 2);
    }
}
