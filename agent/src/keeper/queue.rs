//! The keeper thread's one queue: a standard bounded channel. The probe
//! engine's batches go in with `try_send`, so that the engine never waits
//! for the keeper: when the queue is full, the batch is dropped and the
//! engine counts it. Reloads, weights and stop go in with `send`, which
//! waits for room (the thread takes up to `DRAIN_MAX` messages at a time, so
//! not for long) and is never dropped.

use super::Msg;
use crate::health::engine::Sink;
use crate::health::target::Outcome;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::time::Instant;

/// Messages the queue holds. Each batch of outcomes holds at most
/// `engine::BATCH_MAX` (256) of them, so a thread that falls behind holds at
/// most 65,536 outcomes (a few MB) before the engine drops; the engine hands
/// a batch over every 10 ms at most, so that is over 2 s of a loaded engine's
/// output, and as many rounds as there are of a small one.
pub const QUEUE_MESSAGES: usize = 256;

pub fn queue() -> (SyncSender<Msg>, Receiver<Msg>) {
    sync_channel(QUEUE_MESSAGES)
}

/// The probe engine's side of the queue, for one generation of the engine
/// (a reload that changes what is probed starts the next).
pub struct ToKeeper {
    pub tx: SyncSender<Msg>,
    pub generation: u64,
}

impl Sink for ToKeeper {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let n = batch.len();
        match self.tx.try_send(Msg::Outcomes(self.generation, batch)) {
            Ok(()) => 0,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => n,
        }
    }

    fn tick(&self, _: Instant) -> bool {
        // The keeper keeps its own clock for the full check.
        true
    }
}
