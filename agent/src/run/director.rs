//! A director's IPVS table kept as the config and health say: one thread owns
//! the netlink socket and the reconciler; the probe engine feeds it outcomes and
//! ticks for the periodic full check, which also repairs drift.

use crate::config::model::Director;
use crate::health::engine::{self, EngineHandle, Event, Options};
use crate::health::reconcile::Reconciler;
use crate::ipvs::netlink::IpvsNetlink;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long start() waits for the first full check before the agent says ready anyway.
const FIRST_CHECK_WAIT: Duration = Duration::from_secs(10);

pub struct Keeper {
    engine: Arc<Mutex<Option<EngineHandle>>>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    /// Programs the table once (returning after that first full check) and keeps
    /// it programmed until [`stop`](Self::stop).
    pub fn start(director: Director) -> Keeper {
        let engine: Arc<Mutex<Option<EngineHandle>>> = Arc::default();
        let (first_done, first) = mpsc::channel();
        let shared = engine.clone();
        let thread = std::thread::Builder::new()
            .name("lvs-ipvs".into())
            .spawn(move || keep(director, &shared, first_done))
            .map_err(|e| crate::note!(error, "cannot start the IPVS thread: {e}"))
            .ok();
        if first.recv_timeout(FIRST_CHECK_WAIT).is_err() && thread.is_some() {
            crate::note!(warn, "the first IPVS full check takes more than {FIRST_CHECK_WAIT:?}; going on");
        }
        Keeper { engine, thread }
    }

    /// Stops the probes; the thread ends when their channel closes.
    pub fn stop(mut self) {
        let handle = self.engine.lock().map(|mut e| e.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let s = handle.stop();
            crate::note!(
                info,
                "probes stopped: {} probes, {} skipped slots, worst lateness {:?}",
                s.probes,
                s.skipped,
                s.worst_lateness
            );
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn keep(director: Director, engine: &Mutex<Option<EngineHandle>>, first_done: mpsc::Sender<()>) {
    let mut kernel = match IpvsNetlink::connect() {
        Ok(k) => k,
        Err(e) => {
            crate::note!(error, "IPVS table not applied: {e}");
            let _ = first_done.send(());
            return;
        }
    };
    crate::note!(info, "IPVS generic netlink family id={}", kernel.family_id());
    let mut reconciler = Reconciler::new(director, &mut kernel);
    let report = reconciler.full_check(Instant::now());
    match &report.error {
        None => crate::note!(info, "IPVS table applied: {} changes", report.changes().len()),
        Some(e) => crate::note!(error, "IPVS table not applied: {e}"),
    }
    let _ = first_done.send(());

    let targets = reconciler.targets().to_vec();
    let probed = targets.len();
    let options = Options { tick: Some(reconciler.full_check_interval()) };
    let events = match engine::start(targets, options) {
        Ok((handle, events)) => {
            if let Ok(mut slot) = engine.lock() {
                *slot = Some(handle);
            }
            events
        }
        Err(e) => {
            crate::note!(error, "health checks not started: {e}");
            return;
        }
    };
    crate::note!(info, "health: probing {probed} endpoints; full check every {:?}", reconciler.full_check_interval());
    // Ends when the engine stops and drops its sender.
    for event in events {
        match event {
            Event::Outcome(outcome) => drop(reconciler.on_outcome(&outcome)),
            Event::Tick(_) => drop(reconciler.full_check(Instant::now())),
        }
    }
}
