//! The client and the poller: threads of their own that run for the whole
//! of a lab's steps while the test's thread acts, so that the record is
//! continuous (a request every [`PACE`], polls back to back) and the judging
//! can be done afterwards on all of it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{get, secs, Poll, Request, PACE, REQUEST_TIMEOUT};
use crate::lab::Lab;

/// The records of one watch, on the clock of `t0`.
pub struct Watch<T> {
    t0: Instant,
    polls: Mutex<Vec<Poll<T>>>,
    requests: Mutex<Vec<Request>>,
    stop: AtomicBool,
    client_go: AtomicBool,
}

impl<T: Send> Watch<T> {
    pub fn new(t0: Instant) -> Watch<T> {
        Watch {
            t0,
            polls: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            client_go: AtomicBool::new(false),
        }
    }

    /// Runs `steps` on this thread while the poller calls `poll` back to
    /// back and the client, once [`Watch::start_client`] is called, sends
    /// requests to `service` from a thread in the lab, telling the real
    /// servers apart by `bodies`; both stop when `steps` returns. Returns
    /// what `steps` did and when it returned.
    pub fn run<R>(
        &self,
        lab: &Lab,
        poll: impl Fn() -> Result<T, String> + Sync,
        service: SocketAddr,
        bodies: &[String],
        steps: impl FnOnce() -> R,
    ) -> (R, f64) {
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !self.stop.load(Ordering::Relaxed) {
                    let sent = secs(self.t0);
                    let table = poll();
                    let failed = table.is_err();
                    self.polls.lock().unwrap_or_else(|p| p.into_inner()).push(Poll { sent, got: secs(self.t0), table });
                    if failed {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            });
            scope.spawn(|| {
                while !self.client_go.load(Ordering::Relaxed) {
                    if self.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                // One thread in the lab's namespace for the whole loop.
                let looped = lab.in_netns(|| {
                    while !self.stop.load(Ordering::Relaxed) {
                        let start = secs(self.t0);
                        let answer = get(service, bodies, REQUEST_TIMEOUT);
                        self.record(Request { start, end: secs(self.t0), answer });
                        std::thread::sleep(PACE);
                    }
                });
                if let Err(e) = looped {
                    self.record(Request {
                        start: secs(self.t0),
                        end: secs(self.t0),
                        answer: Err(format!("the client could not enter the lab: {e}")),
                    });
                }
            });
            let result = steps();
            let end = secs(self.t0);
            self.stop.store(true, Ordering::Relaxed);
            (result, end)
        })
    }

    fn record(&self, r: Request) {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).push(r);
    }

    pub fn start_client(&self) {
        self.client_go.store(true, Ordering::Relaxed);
    }

    /// Waits up to `limit` for the first poll sent at or after `after` whose
    /// table `shows` what is wanted; when it answered.
    pub fn wait_poll(&self, after: f64, limit: Duration, shows: impl Fn(&T) -> bool) -> Option<f64> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self
                .polls
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find(|p| p.sent >= after && p.table.as_ref().is_ok_and(&shows))
                .map(|p| p.got);
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sleeps until `hold` after `from` (seconds on the run's clock): the
    /// time a step's outcome is watched before the next step.
    pub fn hold(&self, from: f64, hold: Duration) {
        let until = self.t0 + Duration::from_secs_f64(from) + hold;
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }

    /// The polls and requests started before `end`: the threads stopped
    /// after it, and what they recorded later is in no window.
    pub fn into_records(self, end: f64) -> (Vec<Poll<T>>, Vec<Request>) {
        let mut polls = self.polls.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut requests = self.requests.into_inner().unwrap_or_else(|p| p.into_inner());
        polls.retain(|p| p.sent < end);
        requests.retain(|r| r.start < end);
        (polls, requests)
    }
}
