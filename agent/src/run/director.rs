//! A director's IPVS table kept as the config and health say: one thread owns
//! the netlink socket, the reconciler and the state file; the probe engine
//! feeds it outcomes and ticks for the periodic full check, which also
//! repairs drift; the main thread sends it reloaded configs.
//!
//! At start it first puts back the table the state file saved (after a reboot
//! the kernel's is empty, and traffic should flow before the first probe
//! round), then goes on with the saved health, so that a restarted agent
//! changes nothing that was right.

use crate::config::model::Director;
use crate::health::engine::{self, EngineHandle, Event, Options};
use crate::health::reconcile::{Reconciler, Report};
use crate::ipvs::netlink::IpvsNetlink;
use crate::ipvs::{plan, Ipvs, Ownership, Table};
use crate::state::{now_ms, saved, SavedConfig, StateFile, Store};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long start() waits for the first full check before the agent says ready anyway.
const FIRST_CHECK_WAIT: Duration = Duration::from_secs(10);
/// How long a reload waits for the IPVS thread's answer.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

pub struct Keeper {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

enum Msg {
    /// From the probe engine of one generation (a reload starts the next).
    Engine(u64, Event),
    Reload { director: Box<Director>, config: SavedConfig, done: Sender<Result<usize, String>> },
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

impl Keeper {
    /// Programs the table once (returning after that first full check) and keeps
    /// it programmed until [`stop`](Self::stop).
    pub fn start(start: Start) -> Keeper {
        let (tx, rx) = mpsc::channel();
        let (first_done, first) = mpsc::channel();
        let engine_tx = tx.clone();
        let thread = std::thread::Builder::new()
            .name("lvs-ipvs".into())
            .spawn(move || keep(start, rx, engine_tx, first_done))
            .map_err(|e| crate::note!(error, "cannot start the IPVS thread: {e}"))
            .ok();
        if first.recv_timeout(FIRST_CHECK_WAIT).is_err() && thread.is_some() {
            crate::note!(warn, "the first IPVS full check takes more than {FIRST_CHECK_WAIT:?}; going on");
        }
        Keeper { tx, thread }
    }

    /// Applies a new director config as a diff, keeping the health of the
    /// real servers it still has. Returns the number of changes sent.
    pub fn reload(&self, director: Director, config: SavedConfig) -> Result<usize, String> {
        let (done, answer) = mpsc::channel();
        self.tx
            .send(Msg::Reload { director: Box::new(director), config, done })
            .map_err(|_| "the IPVS thread is gone".to_string())?;
        answer.recv_timeout(RELOAD_WAIT).map_err(|_| format!("the IPVS thread did not answer within {RELOAD_WAIT:?}"))?
    }

    /// Stops the probes, writes the state a last time, and ends the thread.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The probe engine of one generation, its events forwarded into the thread's queue.
struct Probing {
    handle: Option<EngineHandle>,
}

impl Probing {
    fn start(reconciler: &Reconciler, generation: u64, tx: &Sender<Msg>) -> Probing {
        let targets = reconciler.targets().to_vec();
        let probed = targets.len();
        let interval = reconciler.full_check_interval();
        let (handle, events) = match engine::start(targets, Options { tick: Some(interval) }) {
            Ok(started) => started,
            Err(e) => {
                crate::note!(error, "health checks not started: {e}");
                return Probing { handle: None };
            }
        };
        let tx = tx.clone();
        // Ends when the engine stops and drops its sender.
        let forwarded = std::thread::Builder::new().name("lvs-events".into()).spawn(move || {
            for event in events {
                if tx.send(Msg::Engine(generation, event)).is_err() {
                    break;
                }
            }
        });
        if let Err(e) = forwarded {
            crate::note!(error, "health checks not started: cannot start a thread: {e}");
            return Probing { handle: None };
        }
        crate::note!(info, "health: probing {probed} endpoints; full check every {interval:?}");
        Probing { handle: Some(handle) }
    }

    fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let s = handle.stop();
            crate::note!(
                info,
                "probes stopped: {} probes, {} skipped slots, worst lateness {:?}",
                s.probes,
                s.skipped,
                s.worst_lateness
            );
        }
    }
}

/// The state file's writer: only when something changed, and a failure is
/// logged once until a write succeeds again.
struct Saver {
    store: Store,
    config: SavedConfig,
    failing: bool,
}

impl Saver {
    fn save(&mut self, reconciler: &Reconciler) {
        let state = saved::state_file(now_ms(), Some(self.config.clone()), &reconciler.carried(), reconciler.known());
        match self.store.save(&state) {
            Ok(()) if self.failing => {
                self.failing = false;
                crate::note!(info, "state: written again to {}", self.store.path().display());
            }
            Ok(()) => log::debug!("state: written to {}", self.store.path().display()),
            Err(e) if !self.failing => {
                self.failing = true;
                crate::note!(error, "state: {e}; the next boot starts from the config alone");
            }
            Err(_) => {}
        }
    }
}

fn keep(start: Start, rx: Receiver<Msg>, tx: Sender<Msg>, first_done: Sender<()>) {
    let Start { mut director, config, store, saved } = start;
    let mut kernel = match IpvsNetlink::connect() {
        Ok(k) => k,
        Err(e) => {
            crate::note!(error, "IPVS table not applied: {e}");
            let _ = first_done.send(());
            return refuse_all(&rx, &e.to_string());
        }
    };
    crate::note!(info, "IPVS generic netlink family id={}", kernel.family_id());

    let observed = kernel.dump().map_err(|e| crate::note!(error, "cannot read the IPVS table: {e}")).unwrap_or_default();
    if let Some(state) = &saved {
        restore_table(&mut kernel, state, &director, &observed);
    }
    let mut carried = saved.as_ref().map(|s| saved::carried(s, &director)).unwrap_or_default();
    let mut saver = Saver { store, config, failing: false };
    let mut first_start = Some((first_done, observed));
    let mut reply: Option<Sender<Result<usize, String>>> = None;
    let mut generation = 0;

    loop {
        generation += 1;
        let mut reconciler = Reconciler::new(director.clone(), &mut kernel);
        match first_start.take() {
            Some((first_done, observed)) => {
                saved::adopt(&mut carried, reconciler.probes().slots.keys().copied(), &observed);
                reconciler.resume(&carried);
                let report = reconciler.full_check(Instant::now());
                match &report.error {
                    None => crate::note!(info, "IPVS table applied: {}", count(report.changes().len(), "change")),
                    Some(e) => crate::note!(error, "IPVS table not applied: {e}"),
                }
                let _ = first_done.send(());
            }
            None => {
                // A reload: the new config's table, as changes of the config (not drift).
                reconciler.resume(&carried);
                let report = reconciler.converge_now();
                let answer = match &report.error {
                    None => Ok(report.changes().len()),
                    Some(e) => Err(e.to_string()),
                };
                if let Some(done) = reply.take() {
                    let _ = done.send(answer);
                }
            }
        }
        saver.save(&reconciler);
        let mut probing = Probing::start(&reconciler, generation, &tx);
        let mut first_outcome = true;

        let next = 'events: loop {
            let Ok(mut msg) = rx.recv() else { break 'events None };
            let mut dirty = false;
            // Handle what is queued before writing the state: one write per burst.
            loop {
                match msg {
                    Msg::Engine(g, _) if g != generation => {}
                    Msg::Engine(_, Event::Outcome(outcome)) => {
                        if std::mem::take(&mut first_outcome) {
                            let addr = reconciler.targets().get(outcome.target).map(|t| t.addr.to_string()).unwrap_or_default();
                            let verdict = if outcome.passed { "passed" } else { "failed" };
                            crate::note!(info, "health: first probe result: {addr} {verdict}: {}", outcome.detail);
                        }
                        dirty |= changed(&reconciler.on_outcome(&outcome));
                    }
                    Msg::Engine(_, Event::Tick(_)) => dirty |= changed(&reconciler.full_check(Instant::now())),
                    Msg::Reload { director: new, config, done } => {
                        saver.config = config;
                        carried = reconciler.carried();
                        break 'events Some((*new, done));
                    }
                    Msg::Stop => {
                        // The table stays in the kernel, and the state says so.
                        saver.save(&reconciler);
                        break 'events None;
                    }
                }
                match rx.try_recv() {
                    Ok(m) => msg = m,
                    Err(_) => break,
                }
            }
            if dirty {
                saver.save(&reconciler);
            }
        };
        probing.stop();
        match next {
            Some((new, done)) => {
                director = new;
                reply = Some(done);
            }
            None => return,
        }
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn changed(report: &Report) -> bool {
    !report.events.is_empty()
}

/// Puts back the saved table: the services the config still names made as
/// saved (a service the config dropped while the agent was down is not
/// brought back, since nothing would take it out again), others left alone.
/// After a reboot this is the whole table, moments after boot; after a crash
/// the kernel already has it and nothing is sent.
fn restore_table(kernel: &mut dyn Ipvs, state: &StateFile, director: &Director, observed: &Table) {
    let mut table = match saved::table(state) {
        None => return,
        Some(Err(e)) => return crate::note!(warn, "state: ignored the saved table ({e}); starting from the config"),
        Some(Ok(t)) => t,
    };
    table.services.retain(|vs| director.services.iter().any(|s| s.service.key == vs.service.key));
    let age = now_ms().saturating_sub(state.written_at_ms) / 1000;
    let dests: usize = table.services.iter().map(|s| s.dests.len()).sum();
    let changes = plan(&table, observed, Ownership::NamedServices);
    match kernel.apply(&changes) {
        Ok(()) => crate::note!(
            info,
            "state: restored the IPVS table saved {age} s ago: {}, {}, {}",
            count(table.services.len(), "service"),
            count(dests, "real server"),
            count(changes.len(), "change")
        ),
        Err(e) => crate::note!(error, "state: restoring the saved table failed ({e}); going on from the config"),
    }
}

/// Without netlink there is nothing to keep; reloads are answered with why.
fn refuse_all(rx: &Receiver<Msg>, why: &str) {
    for msg in rx {
        match msg {
            Msg::Reload { done, .. } => drop(done.send(Err(format!("no IPVS: {why}")))),
            Msg::Stop => return,
            Msg::Engine(..) => {}
        }
    }
}
