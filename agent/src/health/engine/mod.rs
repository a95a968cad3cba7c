//! The probe engine: probes every target on its own schedule, on a thread of
//! its own, and hands the outcomes over in batches.
//!
//! One current-thread tokio runtime runs one task per target. Each task sleeps
//! until its target is due, runs one probe under the target's timeout, queues
//! the outcome, and sleeps until the next slot of its fixed schedule (see
//! `schedule`). Probes of different targets overlap freely; a target never has
//! two probes at once.
//!
//! Queued outcomes go to a [`Sink`] in batches: at most [`BATCH_WAIT`] after the
//! first one of a batch, or at once when [`BATCH_MAX`] have gathered. A burst of
//! results thus costs the receiver one wake-up and one reconcile, not one per
//! probe. The sink never blocks the engine: a receiver that falls behind loses
//! outcomes (counted in [`Stats::dropped`]) rather than letting memory grow or
//! clocks slip.
//!
//! [`start`] is the simple form: a bounded channel of one [`Event`] per outcome,
//! plus a `Tick` every `Options::tick` for a receiver that wants a clock on the
//! same channel.

mod run;
mod schedule;
mod stats;

pub use schedule::{first_due, next_due};
pub use stats::Stats;

use crate::health::probe::Probe;
use crate::health::target::{Outcome, Target, TargetId};
use run::Shared;
use std::net::SocketAddr;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the engine sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Outcome(Outcome),
    /// Time for the periodic full check; carries when it was sent.
    Tick(Instant),
}

/// Outcomes gathered for this long at most before they are handed over.
pub const BATCH_WAIT: Duration = Duration::from_millis(10);
/// A batch is handed over at once when it has this many outcomes.
pub const BATCH_MAX: usize = 256;

/// Where the engine's outcomes and ticks go. Called on the engine thread, so
/// it must never block: a receiver that is behind refuses instead.
pub trait Sink: Send + Sync + 'static {
    /// Outcomes in the order they ended, at most [`BATCH_MAX`]. Returns how
    /// many were not taken (counted as dropped).
    fn outcomes(&self, batch: Vec<Outcome>) -> usize;
    /// The periodic tick of `Options::tick`; false when not taken.
    fn tick(&self, at: Instant) -> bool;
}

/// [`start`]'s sink: one `Event` per outcome into a bounded channel.
struct Channel(SyncSender<Event>);

impl Sink for Channel {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let mut dropped = 0;
        for outcome in batch {
            if self.0.try_send(Event::Outcome(outcome)).is_err() {
                dropped += 1;
            }
        }
        dropped
    }

    fn tick(&self, at: Instant) -> bool {
        self.0.try_send(Event::Tick(at)).is_ok()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Send a `Tick` this often; never when None.
    pub tick: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("target {target} ({addr}) has an interval of 0: it would be probed without pause")]
    ZeroInterval { target: TargetId, addr: SocketAddr },
    #[error("target {target} ({addr}) has a timeout of 0: every probe would fail")]
    ZeroTimeout { target: TargetId, addr: SocketAddr },
    #[error("cannot make the probe engine's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot start the probe engine's thread: {0}")]
    Thread(std::io::Error),
}

/// The running engine. Dropping it stops the engine too.
pub struct EngineHandle {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts probing `targets` (ids are their indexes) on a new thread. The thread
/// is in the caller's network namespace. Outcomes and ticks arrive on the
/// returned receiver, one event each.
pub fn start(targets: Vec<Target>, options: Options) -> Result<(EngineHandle, Receiver<Event>), EngineError> {
    // Two full rounds of outcomes, then drops: bounded whatever the receiver does.
    let (sender, events) = sync_channel(2 * targets.len() + 16);
    let handle = start_with(targets, options, Box::new(Channel(sender)))?;
    Ok((handle, events))
}

/// Starts probing `targets` (ids are their indexes) on a new thread, handing
/// outcomes to `sink` in batches. The sink is dropped with the handle.
pub fn start_with(targets: Vec<Target>, options: Options, sink: Box<dyn Sink>) -> Result<EngineHandle, EngineError> {
    for (id, t) in targets.iter().enumerate() {
        if t.interval.is_zero() {
            return Err(EngineError::ZeroInterval { target: id, addr: t.addr });
        }
        if t.timeout.is_zero() {
            return Err(EngineError::ZeroTimeout { target: id, addr: t.addr });
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(EngineError::Runtime)?;
    let shared = Arc::new(Shared::new(sink));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let inner = shared.clone();
    let thread = std::thread::Builder::new()
        .name("lvs-probes".into())
        .spawn(move || {
            let start = Instant::now();
            let count = targets.len();
            for (id, target) in targets.into_iter().enumerate() {
                let first = first_due(start, target.interval, id, count);
                runtime.spawn(run::target(id, Probe::new(target), first, inner.clone()));
            }
            runtime.spawn(run::sample_cpu(inner.clone()));
            if let Some(period) = options.tick {
                runtime.spawn(run::tick(period, inner.clone()));
            }
            runtime.spawn(run::flush_batches(inner.clone()));
            // A dropped handle also closes the channel, which ends this as a stop does.
            let _ = runtime.block_on(stopped);
            inner.counters.sample_cpu();
            // Dropping the runtime cancels every task and closes their sockets.
            drop(runtime);
        })
        .map_err(EngineError::Thread)?;
    Ok(EngineHandle { shared, stop: Some(stop), thread: Some(thread) })
}

impl EngineHandle {
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stops every probe (those in flight are abandoned, their sockets closed)
    /// and returns the final figures.
    pub fn stop(mut self) -> Stats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the engine has already been printed; stopping goes on.
            let _ = thread.join();
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests;
