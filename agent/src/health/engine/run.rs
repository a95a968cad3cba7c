//! The engine thread's tasks: one per target, and the housekeeper.

use super::schedule::next_due;
use super::stats::Counters;
use super::Event;
use crate::health::probe::Probe;
use crate::health::target::{Outcome, TargetId};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::sleep_until;

/// What every task shares: where outcomes go, and the counters.
pub struct Shared {
    pub events: SyncSender<Event>,
    pub counters: Counters,
}

impl Shared {
    /// Never blocks: a stalled receiver must not stall every probe's clock.
    fn send(&self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.counters.dropped();
        }
    }
}

/// Probes one target forever, one probe at a time, on its fixed schedule.
pub async fn target(id: TargetId, probe: Probe, first: Instant, shared: Arc<Shared>) {
    let interval = probe.target().interval;
    let mut due = first;
    loop {
        sleep_until(due.into()).await;
        let started = Instant::now();
        shared.counters.started(started.saturating_duration_since(due));
        // Boxed so that a probe's buffer is held only while it runs, not for
        // the life of the task: idle targets cost a few hundred bytes each.
        let verdict = Box::pin(probe.run()).await;
        let ended = Instant::now();
        let (next, skipped) = next_due(due, interval, ended);
        shared.counters.ended(skipped);
        shared.send(Event::Outcome(Outcome {
            target: id,
            passed: verdict.passed,
            detail: verdict.detail,
            due,
            started,
            ended,
        }));
        due = next;
    }
}

/// Samples the thread's CPU time every second and sends a Tick every `tick`.
pub async fn housekeeper(tick: Option<Duration>, shared: Arc<Shared>) {
    let start = Instant::now();
    let mut next_sample = start + Duration::from_secs(1);
    let mut next_tick = tick.map(|t| start + t);
    loop {
        let wake = next_tick.map_or(next_sample, |t| t.min(next_sample));
        sleep_until(wake.into()).await;
        let now = Instant::now();
        if now >= next_sample {
            shared.counters.sample_cpu();
            next_sample += Duration::from_secs(1);
        }
        if let (Some(at), Some(every)) = (next_tick, tick) {
            if now >= at {
                shared.send(Event::Tick(now));
                next_tick = Some(at + every);
            }
        }
    }
}
