//! `GET /v1/logs?follow=1`: the last lines, then each new one as it is
//! logged, until the client closes or `FOLLOW_FOR` has passed. A follower
//! holds its connection (and thread) far longer than any other exchange, so
//! only `MAX_FOLLOWERS` may at once.

use super::answer::response_head;
use super::tls::Session;
use crate::http::conn::Deadline;
use crate::manage::Operations;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a follower is served; it reconnects if it wants more.
pub const FOLLOW_FOR: Duration = Duration::from_secs(60 * 60);
/// Followers at once: each holds one of the server's connection slots.
pub const MAX_FOLLOWERS: usize = 4;
/// How often a follower with no new line looks whether its client left.
const LOOK: Duration = Duration::from_millis(250);

/// How many follow now.
pub struct Followers {
    now: AtomicUsize,
    max: usize,
}

/// One follower's place; dropping it gives it back.
pub struct FollowerSlot(Arc<Followers>);

impl Followers {
    pub fn new(max: usize) -> Arc<Followers> {
        Arc::new(Followers { now: AtomicUsize::new(0), max })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn take(self: &Arc<Self>) -> Option<FollowerSlot> {
        let taken = self.now.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.max).then_some(n + 1));
        taken.ok().map(|_| FollowerSlot(self.clone()))
    }
}

impl Drop for FollowerSlot {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Streams the log to the client until it leaves or `FOLLOW_FOR` has passed.
pub fn stream(session: &mut Session<'_>, ops: &dyn Operations, lines: usize) {
    let until = Deadline::after(FOLLOW_FOR);
    session.set_deadline(until);
    // Following first: a line logged between the two is sent twice rather than lost.
    let new_lines = ops.follow();
    let mut out = response_head(200, "text/plain; charset=utf-8", None);
    out.push_str("\r\n");
    for line in ops.logs(lines) {
        push_line(&mut out, &line);
    }
    if session.write_all(out.as_bytes()).is_err() {
        return;
    }
    while !until.has_passed_at(Instant::now()) {
        match new_lines.recv_timeout(LOOK) {
            Ok(line) => {
                let mut out = String::new();
                push_line(&mut out, &line);
                // Whatever else is queued goes in the same write.
                while let Ok(line) = new_lines.try_recv() {
                    push_line(&mut out, &line);
                }
                if session.write_all(out.as_bytes()).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if session.readable_within(Duration::ZERO) && client_left(session) {
                    return;
                }
            }
            // The agent let go of this follower (it fell behind, or the agent is stopping).
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end_matches('\n'));
    out.push('\n');
}

/// Reads what the client sent (it sends nothing but its end): whether it left.
fn client_left(session: &mut Session<'_>) -> bool {
    let mut sink = [0u8; 1024];
    match session.read_by(&mut sink, Deadline::after(LOOK)) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_so_many_follow_and_a_place_comes_back() {
        let followers = Followers::new(2);
        let (a, b) = (followers.take().unwrap(), followers.take().unwrap());
        assert!(followers.take().is_none());
        drop(a);
        let c = followers.take();
        assert!(c.is_some());
        drop((b, c));
        assert_eq!(followers.now.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn lines_are_one_per_line() {
        let mut out = String::new();
        push_line(&mut out, "a");
        push_line(&mut out, "b\n");
        assert_eq!(out, "a\nb\n");
    }
}
