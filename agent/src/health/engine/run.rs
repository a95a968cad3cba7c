//! The engine thread's tasks: one per target, and the housekeeper.

use super::schedule::next_due;
use super::stats::Counters;
use super::{Sink, BATCH_MAX, BATCH_WAIT};
use crate::health::probe::Probe;
use crate::health::target::{Outcome, TargetId};
use futures_util::future::{select, Either};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::time::sleep_until;

/// What every task shares: where outcomes go, the batch being gathered, and
/// the counters.
pub struct Shared {
    sink: Box<dyn Sink>,
    /// Outcomes not yet handed over. A Mutex only because tasks must be Send:
    /// every task runs on the one engine thread, so it is never contended.
    pending: Mutex<Vec<Outcome>>,
    /// Wakes the housekeeper when a batch starts.
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

/// Samples the thread's CPU time every second, sends a Tick every `tick`, and
/// hands each batch over BATCH_WAIT after its first outcome. Asleep while
/// nothing is gathered, so an idle engine does not wake every 10 ms. (One
/// task for the three: each task type costs code in a binary with a budget.)
pub async fn housekeeper(tick: Option<Duration>, shared: Arc<Shared>) {
    let start = Instant::now();
    let mut next_sample = start + Duration::from_secs(1);
    let mut next_tick = tick.map(|t| start + t);
    let mut flush_at: Option<Instant> = None;
    loop {
        let mut wake = next_sample;
        for t in [next_tick, flush_at].into_iter().flatten() {
            wake = wake.min(t);
        }
        let timer = pin!(sleep_until(wake.into()));
        if flush_at.is_none() {
            let started = pin!(shared.started.notified());
            if let Either::Left(_) = select(started, timer).await {
                flush_at = Some(Instant::now() + BATCH_WAIT);
                continue;
            }
        } else {
            timer.await;
        }
        let now = Instant::now();
        if flush_at.is_some_and(|t| now >= t) {
            flush_at = None;
            shared.flush();
        }
        if now >= next_sample {
            shared.counters.sample_cpu();
            next_sample += Duration::from_secs(1);
        }
        if let (Some(at), Some(every)) = (next_tick, tick) {
            if now >= at {
                if !shared.sink.tick(now) {
                    shared.counters.dropped(1);
                }
                next_tick = Some(at + every);
            }
        }
    }
}
