//! The keeper: it owns a director's IPVS table over time. One thread holds
//! the netlink socket, the [`Reconciler`], the probe engine's lifecycle and
//! the state file, and reads one bounded queue (`queue`): the probe engine's
//! batches of outcomes, reloaded configs and operator weights from the main
//! thread, and stop. The periodic full check, which also repairs drift, runs
//! on the thread's own clock, so it goes on if the probe engine could not
//! start or died, and when nothing is probed at all.
//!
//! The path from config to netlink, top to bottom (`thread`): connect, dump,
//! put back the saved table (`restore`), take up the saved health and what
//! the kernel holds, program the table with the first full check, write the
//! state (`saver`), start the probes (`probing`); then serve the queue. A
//! reload goes through [`Reconciler::reload`] and keeps the running probes
//! when the new config probes the same endpoints.
//!
//! The parts: `reconcile` (the convergence: desired against known, drift,
//! retries), `desired` (the one table the director wants now), `known` (the
//! kernel's table as last known), `overrides`, `carried` and `report`.

mod carried;
mod desired;
mod known;
mod overrides;
mod probing;
mod queue;
mod reconcile;
mod report;
pub mod restore;
mod saver;
mod thread;

pub use carried::Carried;
pub use desired::{desired, quorum_met, Desired, ServiceHealth};
pub use overrides::Overrides;
pub use queue::QUEUE_MESSAGES;
pub use reconcile::{next_full_check, Reconciler, FULL_CHECK_DEFAULT, FULL_CHECK_FLOOR};
pub use report::{Event, ReconcileError, Report, WeightError};
pub use saver::state_file;

use crate::health::target::Outcome;
use crate::manage::api::HealthRow;
use crate::state::{SavedConfig, StateFile, Store};
use lvs_config::model::Director;
use lvs_config::values::Endpoint;
use lvs_ipvs::netlink::IpvsNetlink;
use lvs_ipvs::{Ipvs, IpvsError};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long start() waits for the first full check before the agent says ready anyway.
const FIRST_CHECK_WAIT: Duration = Duration::from_secs(10);
/// How long a reload or a weight waits for the keeper's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// The main thread's handle on the keeper thread.
pub struct Keeper {
    tx: SyncSender<Msg>,
    thread: Option<JoinHandle<()>>,
}

/// An operator's weight for one real server: `lvs-agent weight`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightRequest {
    /// As the log names it: "TCP 192.0.2.80:80", "FWM 5".
    pub service: String,
    /// Without a port, the service's.
    pub real_server: Endpoint,
    /// None clears the operator's weight: back to the configured one.
    pub weight: Option<u32>,
}

/// Why the keeper did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("the IPVS thread is gone")]
    Gone,
    #[error("the IPVS thread did not answer within {0:?}")]
    NoAnswer(Duration),
    /// The kernel's IPVS could not be opened at start; the text is the error then.
    #[error("no IPVS: {0}")]
    NoIpvs(String),
    #[error(transparent)]
    Weight(#[from] WeightError),
    #[error(transparent)]
    Table(#[from] ReconcileError),
}

/// What the keeper thread reads.
pub enum Msg {
    /// From the probe engine of one generation.
    Outcomes(u64, Vec<Outcome>),
    Reload {
        director: Box<Director>,
        config: SavedConfig,
        done: Sender<Result<String, KeeperError>>,
    },
    Weight {
        request: WeightRequest,
        done: Sender<Result<String, KeeperError>>,
    },
    /// Each checked real server's health, sent to whoever asked (the management API).
    Health {
        done: Sender<Vec<HealthRow>>,
    },
    Stop,
}

/// What the thread starts from.
pub struct Start {
    pub director: Director,
    pub config: SavedConfig,
    pub store: Store,
    /// The state file as read at start (None when missing or unusable).
    pub saved: Option<StateFile>,
}

/// Opens the kernel's IPVS (a fake one in tests).
pub type Connect = Box<dyn FnOnce() -> Result<Box<dyn Ipvs>, IpvsError> + Send>;

impl Keeper {
    /// Programs the table once (returning after that first full check) and keeps
    /// it programmed until [`stop`](Self::stop).
    pub fn start(start: Start) -> Keeper {
        Keeper::start_with(start, Box::new(netlink))
    }

    pub fn start_with(start: Start, connect: Connect) -> Keeper {
        let (tx, rx) = queue::queue();
        let (first_done, first) = mpsc::channel();
        let engine_tx = tx.clone();
        let thread = std::thread::Builder::new()
            .name("lvs-ipvs".into())
            .spawn(move || thread::run(start, connect, rx, engine_tx, first_done))
            .map_err(|e| crate::note!(error, "cannot start the IPVS thread: {e}"))
            .ok();
        if first.recv_timeout(FIRST_CHECK_WAIT).is_err() && thread.is_some() {
            crate::note!(warn, "the first IPVS full check takes more than {FIRST_CHECK_WAIT:?}; going on");
        }
        Keeper { tx, thread }
    }

    /// Applies a new director config as a diff, keeping the health of the
    /// real servers it still has. Says how many changes were sent.
    pub fn reload(&self, director: Director, config: SavedConfig) -> Result<String, KeeperError> {
        self.ask(|done| Msg::Reload { director: Box::new(director), config, done })
    }

    /// Sets or clears an operator's weight; says what it did.
    pub fn set_weight(&self, request: WeightRequest) -> Result<String, KeeperError> {
        self.ask(|done| Msg::Weight { request, done })
    }

    /// Asks for each checked real server's health; the keeper thread answers
    /// on `done` (not the caller's thread: the main loop does not wait for it).
    pub fn health(&self, done: Sender<Vec<HealthRow>>) -> Result<(), KeeperError> {
        self.tx.send(Msg::Health { done }).map_err(|_| KeeperError::Gone)
    }

    fn ask(&self, msg: impl FnOnce(Sender<Result<String, KeeperError>>) -> Msg) -> Result<String, KeeperError> {
        let (done, answer) = mpsc::channel();
        self.tx.send(msg(done)).map_err(|_| KeeperError::Gone)?;
        answer.recv_timeout(ANSWER_WAIT).map_err(|_| KeeperError::NoAnswer(ANSWER_WAIT))?
    }

    /// Stops the probes, writes the state a last time, and ends the thread.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn netlink() -> Result<Box<dyn Ipvs>, IpvsError> {
    let kernel = IpvsNetlink::connect()?;
    crate::note!(info, "IPVS generic netlink family id={}", kernel.family_id());
    Ok(Box::new(kernel))
}

#[cfg(test)]
mod tests;
