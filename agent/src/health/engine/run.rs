//! The engine thread's tasks: one per target, and three that keep house: the
//! CPU samples, the optional Tick, and the batch hand-over.

use super::schedule::next_due;
use super::stats::Counters;
use super::{Sink, BATCH_MAX, BATCH_WAIT};
use crate::deadline::{after, FOREVER};
use crate::health::probe::Probe;
use crate::health::target::{Outcome, TargetId};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::time::{interval_at, sleep, sleep_until, Interval};

/// What every task shares: where outcomes go, the batch being gathered, and
/// the counters.
pub struct Shared {
    sink: Box<dyn Sink>,
    /// Outcomes not yet handed over. A Mutex only because tasks must be Send:
    /// every task runs on the one engine thread, so it is never contended.
    pending: Mutex<Vec<Outcome>>,
    /// Wakes `flush_batches` when a batch starts.
    started: Notify,
    pub counters: Counters,
}

impl Shared {
    pub fn new(sink: Box<dyn Sink>) -> Shared {
        Shared { sink, pending: Mutex::new(Vec::new()), started: Notify::new(), counters: Counters::default() }
    }

    /// Queues an outcome; hands the batch over at once when it is full.
    fn push(&self, outcome: Outcome) {
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.is_empty() {
                self.started.notify_one();
            }
            pending.push(outcome);
            (pending.len() >= BATCH_MAX).then(|| std::mem::take(&mut *pending))
        };
        if let Some(batch) = full {
            self.deliver(batch);
        }
    }

    fn flush(&self) {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if !batch.is_empty() {
            self.deliver(batch);
        }
    }

    /// Never blocks: a stalled receiver must not stall every probe's clock.
    fn deliver(&self, batch: Vec<Outcome>) {
        let dropped = self.sink.outcomes(batch);
        self.counters.dropped(dropped as u64);
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
        shared.push(Outcome { target: id, passed: verdict.passed, detail: verdict.detail, due, started, ended });
        due = next;
    }
}

/// Samples the engine thread's CPU time every second, for `Stats`.
pub async fn sample_cpu(shared: Arc<Shared>) {
    let mut every = every_period(Duration::from_secs(1));
    loop {
        every.tick().await;
        shared.counters.sample_cpu();
    }
}

/// Sends the sink a Tick every `period`; one it does not take counts as dropped.
pub async fn tick(period: Duration, shared: Arc<Shared>) {
    let mut every = every_period(period);
    loop {
        every.tick().await;
        if !shared.sink.tick(Instant::now()) {
            shared.counters.dropped(1);
        }
    }
}

/// Hands each batch over BATCH_WAIT after its first outcome (a full one goes at
/// once, from `Shared::push`). Asleep while nothing is gathered, so an idle
/// engine does not wake every BATCH_WAIT.
pub async fn flush_batches(shared: Arc<Shared>) {
    loop {
        shared.started.notified().await;
        sleep(BATCH_WAIT).await;
        shared.flush();
    }
}

/// Ticks every `period` from one period after now, on a fixed schedule: ticks
/// a busy thread missed come at once, and later ones keep their times.
/// tokio refuses a zero period and adds the period to each tick unchecked, so
/// the period is kept between a millisecond and [`FOREVER`].
fn every_period(period: Duration) -> Interval {
    let period = period.clamp(Duration::from_millis(1), FOREVER);
    interval_at(after(Instant::now(), period).into(), period)
}
