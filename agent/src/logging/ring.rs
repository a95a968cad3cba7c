//! The last lines the agent logged, kept in memory for the management API
//! (`GET /v1/logs`), and the followers that get each new one (`follow=1`).
//!
//! One entry per record, as the console and the log file got it: the prefix,
//! the escaped text, and a multi-line message's continuation lines with it
//! (joined by '\n'), so that an entry is never half a message.
//!
//! Logging must never wait for a reader: a follower is a bounded channel
//! that is sent to with `try_send`, and dropped the moment it is full (its
//! reader sees the end of the stream) or its reader is gone.

use crate::manage::api::MAX_LOG_LINES;
use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard};

/// Entries a follower may be behind before it is dropped: a client that
/// reads nothing for that long is not following.
pub const FOLLOW_BACKLOG: usize = 1024;

/// The agent's ring: what the logger writes.
pub static RING: LogRing = LogRing::new(MAX_LOG_LINES, FOLLOW_BACKLOG);

pub struct LogRing {
    capacity: usize,
    backlog: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    lines: VecDeque<String>,
    followers: Vec<SyncSender<String>>,
}

impl LogRing {
    /// Keeps the last `capacity` entries; a follower may be `backlog` entries behind.
    pub const fn new(capacity: usize, backlog: usize) -> LogRing {
        LogRing { capacity, backlog, inner: Mutex::new(Inner { lines: VecDeque::new(), followers: Vec::new() }) }
    }

    /// A panic elsewhere while the lock was held leaves whole entries behind: go on with them.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `entry` (dropping the oldest past the capacity) and hands it to
    /// every follower that has room; the others are dropped.
    pub fn push(&self, entry: &str) {
        let mut inner = self.lock();
        if self.capacity > 0 {
            if inner.lines.len() == self.capacity {
                inner.lines.pop_front();
            }
            inner.lines.push_back(entry.to_string());
        }
        inner.followers.retain(|f| match f.try_send(entry.to_string()) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        });
    }

    /// The last `n` entries (at most the capacity), oldest first.
    pub fn last(&self, n: usize) -> Vec<String> {
        let inner = self.lock();
        let skip = inner.lines.len().saturating_sub(n);
        inner.lines.iter().skip(skip).cloned().collect()
    }

    /// Every entry pushed from now on, until the receiver is dropped or falls
    /// more than the backlog behind (then the channel ends).
    pub fn follow(&self) -> Receiver<String> {
        let (tx, rx) = sync_channel(self.backlog);
        self.lock().followers.push(tx);
        rx
    }

    /// Followers still attached (for tests and the curious).
    pub fn followers(&self) -> usize {
        self.lock().followers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::TryRecvError;

    #[test]
    fn keeps_the_last_entries_oldest_first() {
        let ring = LogRing::new(3, 8);
        assert!(ring.last(10).is_empty());
        for n in 1..=5 {
            ring.push(&format!("lvs-agent: T=1.000 line {n}"));
        }
        assert_eq!(
            ring.last(10),
            ["lvs-agent: T=1.000 line 3", "lvs-agent: T=1.000 line 4", "lvs-agent: T=1.000 line 5"]
        );
        assert_eq!(ring.last(1), ["lvs-agent: T=1.000 line 5"]);
        assert!(ring.last(0).is_empty());
    }

    #[test]
    fn a_message_of_several_lines_is_one_entry() {
        let ring = LogRing::new(2, 8);
        let text = crate::logging::render("lvs-agent: T=2.000", "config: invalid: a.ron:2:5: x\n  help: y");
        ring.push(&text);
        ring.push("lvs-agent: T=2.001 next");
        assert_eq!(ring.last(2), [text.as_str(), "lvs-agent: T=2.001 next"]);
        assert_eq!(ring.last(2)[0].lines().count(), 2);
    }

    #[test]
    fn a_follower_gets_what_comes_after_it_and_is_dropped_when_gone() {
        let ring = LogRing::new(10, 8);
        ring.push("before");
        let rx = ring.follow();
        ring.push("after 1");
        ring.push("after 2");
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["after 1", "after 2"]);
        assert_eq!(ring.followers(), 1);
        drop(rx);
        ring.push("nobody reads this");
        assert_eq!(ring.followers(), 0, "a receiver dropped: the follower forgotten at the next line");
    }

    #[test]
    fn a_slow_follower_never_holds_up_logging_and_is_cut_off() {
        let ring = LogRing::new(4, 2);
        let slow = ring.follow();
        let quick = ring.follow();
        for n in 0..100 {
            ring.push(&format!("line {n}"));
            if n < 50 {
                assert_eq!(quick.try_recv().as_deref(), Ok(format!("line {n}").as_str()));
            }
        }
        // The slow one got what fit, then its channel ended.
        assert_eq!(slow.try_iter().collect::<Vec<_>>(), ["line 0", "line 1"]);
        assert_eq!(slow.try_recv(), Err(TryRecvError::Disconnected));
        // The quick one fell behind at line 50 and was cut off too; the ring kept the last 4.
        assert_eq!(quick.try_iter().count(), 2);
        assert_eq!(quick.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(ring.followers(), 0);
        assert_eq!(ring.last(10), ["line 96", "line 97", "line 98", "line 99"]);
    }
}
