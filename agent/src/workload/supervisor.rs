//! The supervisor's decisions, one tick at a time: start what is due, notice
//! what ended, restart it per its policy with backoff, and stop everything with
//! SIGTERM, then SIGKILL after its stop_timeout. No thread and no sleeping here:
//! `thread` drives it, the tests drive it with a fake clock.

use super::exit::{restarts, Exit};
use super::report::{Outcome, StopReport, Stopped};
use super::seams::{Clock, Process, Spawner};
use crate::deadline::after;
use crate::init::Backoff;
use lvs_config::model::Workload;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How long a SIGKILLed workload may take to be reaped before the supervisor
/// gives up on it (a process stuck in the kernel); PID 1 reaps it later.
pub const KILL_GRACE: Duration = Duration::from_secs(5);

pub struct Supervisor<S: Spawner, C: Clock> {
    spawner: S,
    clock: C,
    slots: Vec<Slot<S::Process>>,
}

struct Slot<P> {
    spec: Workload,
    backoff: Backoff,
    state: State<P>,
}

enum State<P> {
    /// To be started at this time.
    Waiting(Instant),
    Running {
        process: P,
        since: Instant,
    },
    /// Ended, and its policy leaves it down.
    Finished(Option<Exit>),
    Stopping {
        process: P,
        term_at: Instant,
        killed_at: Option<Instant>,
    },
    Stopped(Outcome),
}

impl<S: Spawner, C: Clock> Supervisor<S, C> {
    pub fn new(workloads: Vec<Workload>, spawner: S, clock: C) -> Self {
        let now = clock.now();
        let slots = workloads
            .into_iter()
            .map(|spec| Slot { spec, backoff: Backoff::default(), state: State::Waiting(now) })
            .collect();
        Supervisor { spawner, clock, slots }
    }

    /// Starts what is due and notices what ended. Returns when the next start
    /// is due, if one is waiting.
    pub fn tick(&mut self) -> Option<Instant> {
        let now = self.clock.now();
        for slot in &mut self.slots {
            slot.state = match std::mem::replace(&mut slot.state, State::Finished(None)) {
                State::Running { mut process, since } => match process.try_wait() {
                    Ok(None) => State::Running { process, since },
                    Ok(Some(exit)) => slot.ended(Some(exit), now.saturating_duration_since(since), now),
                    Err(e) => {
                        crate::note!(error, "workload {}: cannot wait for pid {}: {e}", slot.spec.name, process.pid());
                        slot.ended(None, now.saturating_duration_since(since), now)
                    }
                },
                State::Waiting(at) if now >= at => match self.spawner.spawn(&slot.spec) {
                    Ok(process) => {
                        crate::note!(info, "workload {} started pid={}", slot.spec.name, process.pid());
                        State::Running { process, since: now }
                    }
                    Err(e) => {
                        crate::note!(
                            error,
                            "workload {}: cannot start {}: {e}",
                            slot.spec.name,
                            slot.spec.command.display()
                        );
                        slot.ended(None, Duration::ZERO, now)
                    }
                },
                other => other,
            };
        }
        self.slots.iter().filter_map(|s| if let State::Waiting(at) = s.state { Some(at) } else { None }).min()
    }

    /// Sends SIGTERM to every running workload; nothing is started after this.
    pub fn begin_stop(&mut self) {
        let now = self.clock.now();
        for slot in &mut self.slots {
            slot.state = match std::mem::replace(&mut slot.state, State::Finished(None)) {
                State::Running { mut process, .. } => {
                    if let Err(e) = process.signal(Signal::SIGTERM) {
                        crate::note!(error, "workload {}: cannot send SIGTERM: {e}", slot.spec.name);
                    }
                    State::Stopping { process, term_at: now, killed_at: None }
                }
                State::Waiting(_) => State::Stopped(Outcome::NotRunning),
                State::Finished(exit) => State::Stopped(Outcome::EndedBefore(exit)),
                other => other,
            };
        }
    }

    /// Reaps what exited after SIGTERM and SIGKILLs what outlived its
    /// stop_timeout. True once every workload is stopped.
    pub fn stop_tick(&mut self) -> bool {
        let now = self.clock.now();
        for slot in &mut self.slots {
            let State::Stopping { process, term_at, killed_at } = &mut slot.state else { continue };
            let name = &slot.spec.name;
            let waited = now.saturating_duration_since(*term_at);
            let outcome = match (process.try_wait(), *killed_at) {
                (Ok(Some(_)), Some(_)) => Outcome::Killed { after: slot.spec.stop_timeout },
                (Ok(Some(exit)), None) => Outcome::Exited { exit, after: waited },
                (Err(e), _) => {
                    crate::note!(error, "workload {name}: cannot wait for pid {}: {e}", process.pid());
                    Outcome::Unreaped
                }
                (Ok(None), None) if waited >= slot.spec.stop_timeout => {
                    crate::note!(
                        warn,
                        "workload {name} still running {}s after SIGTERM: SIGKILL",
                        slot.spec.stop_timeout.as_secs_f64()
                    );
                    if let Err(e) = process.signal(Signal::SIGKILL) {
                        crate::note!(error, "workload {name}: cannot send SIGKILL: {e}");
                    }
                    *killed_at = Some(now);
                    continue;
                }
                (Ok(None), Some(at)) if now.saturating_duration_since(at) >= KILL_GRACE => Outcome::Unreaped,
                (Ok(None), _) => continue,
            };
            crate::note!(info, "{}", Stopped { name: name.clone(), outcome });
            slot.state = State::Stopped(outcome);
        }
        self.slots.iter().all(|s| matches!(s.state, State::Stopped(_)))
    }

    pub fn report(&self) -> StopReport {
        let workloads = self
            .slots
            .iter()
            .map(|s| Stopped {
                name: s.spec.name.clone(),
                outcome: match s.state {
                    State::Stopped(outcome) => outcome,
                    _ => Outcome::Unreaped,
                },
            })
            .collect();
        StopReport { workloads }
    }
}

impl<P> Slot<P> {
    /// The state after the workload ended (or could not start) having run for `ran`.
    fn ended(&mut self, exit: Option<Exit>, ran: Duration, now: Instant) -> State<P> {
        let name = &self.spec.name;
        let how = exit.map_or_else(|| "did not run".to_string(), |e| format!("exited ({e})"));
        if restarts(self.spec.restart, exit) {
            let delay = self.backoff.after_exit(ran);
            crate::note!(warn, "workload {name} {how}; restarting in {}s", delay.as_secs_f64());
            State::Waiting(after(now, delay))
        } else {
            crate::note!(warn, "workload {name} {how}; restart {:?}: leaving it down", self.spec.restart);
            State::Finished(exit)
        }
    }
}
