//! A director's IPVS table kept as the config and health say: one thread owns
//! the netlink socket, the reconciler and the state file. Its one queue
//! carries the probe engine's batches of outcomes (never more than a budget
//! of them at once: the engine drops, and counts, what would exceed it),
//! reloaded configs and operator weights from the main thread, and stop; the periodic
//! full check, which also repairs drift, runs on the thread's own clock, so it
//! goes on if the probe engine could not start or died.
//!
//! At start it first puts back the table the state file saved (after a reboot
//! the kernel's is empty, and traffic should flow before the first probe
//! round), then goes on with the saved health, so that a restarted agent
//! changes nothing that was right.

use super::weight::Request;
use crate::health::engine::{self, EngineHandle, Options, Sink};
use crate::health::reconcile::{Reconciler, Report};
use crate::health::target::Outcome;
use crate::state::{now_ms, saved, SavedConfig, StateFile, Store};
use lvs_config::model::Director;
use lvs_ipvs::netlink::IpvsNetlink;
use lvs_ipvs::{plan, Ipvs, IpvsError, Ownership, Table};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long start() waits for the first full check before the agent says ready anyway.
const FIRST_CHECK_WAIT: Duration = Duration::from_secs(10);
/// How long a reload or a weight waits for the IPVS thread's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// Messages handled before the thread writes the state and looks at its clock.
const DRAIN_MAX: usize = 64;

pub struct Keeper {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

enum Msg {
    /// From the probe engine of one generation (a reload starts the next).
    Outcomes(u64, Vec<Outcome>),
    Reload {
        director: Box<Director>,
        config: SavedConfig,
        done: Sender<Result<String, String>>,
    },
    Weight {
        request: Request,
        done: Sender<Result<String, String>>,
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
        let (tx, rx) = mpsc::channel();
        let (first_done, first) = mpsc::channel();
        let engine_tx = tx.clone();
        let thread = std::thread::Builder::new()
            .name("lvs-ipvs".into())
            .spawn(move || keep(start, connect, rx, engine_tx, first_done))
            .map_err(|e| crate::note!(error, "cannot start the IPVS thread: {e}"))
            .ok();
        if first.recv_timeout(FIRST_CHECK_WAIT).is_err() && thread.is_some() {
            crate::note!(warn, "the first IPVS full check takes more than {FIRST_CHECK_WAIT:?}; going on");
        }
        Keeper { tx, thread }
    }

    /// Applies a new director config as a diff, keeping the health of the
    /// real servers it still has. Says how many changes were sent.
    pub fn reload(&self, director: Director, config: SavedConfig) -> Result<String, String> {
        self.ask(|done| Msg::Reload { director: Box::new(director), config, done })
    }

    /// Sets or clears an operator's weight; the log says what it did.
    pub fn set_weight(&self, request: Request) -> Result<String, String> {
        self.ask(|done| Msg::Weight { request, done })
    }

    fn ask(&self, msg: impl FnOnce(Sender<Result<String, String>>) -> Msg) -> Result<String, String> {
        let (done, answer) = mpsc::channel();
        self.tx.send(msg(done)).map_err(|_| "the IPVS thread is gone".to_string())?;
        self.wake();
        answer
            .recv_timeout(ANSWER_WAIT)
            .map_err(|_| format!("the IPVS thread did not answer within {ANSWER_WAIT:?}"))?
    }

    /// The thread waits parked, not in a blocking receive (see `next`).
    fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }

    /// Stops the probes, writes the state a last time, and ends the thread.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        self.wake();
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

/// The engine's side of the queue: never blocks, and holds at most `budget`
/// outcomes in it, so memory stays bounded however far the thread falls
/// behind. (A channel of fixed capacity would bound messages, not outcomes,
/// and cost another flavour of channel code in a binary with a size budget.)
struct ToKeeper {
    tx: Sender<Msg>,
    keeper: std::thread::Thread,
    generation: u64,
    queued: Arc<AtomicUsize>,
    budget: usize,
}

impl Sink for ToKeeper {
    fn outcomes(&self, batch: Vec<Outcome>) -> usize {
        let n = batch.len();
        if self.queued.fetch_add(n, Relaxed) + n > self.budget {
            self.queued.fetch_sub(n, Relaxed);
            return n;
        }
        match self.tx.send(Msg::Outcomes(self.generation, batch)) {
            Ok(()) => {
                self.keeper.unpark();
                0
            }
            Err(_) => {
                self.queued.fetch_sub(n, Relaxed);
                n
            }
        }
    }

    fn tick(&self, _: Instant) -> bool {
        // The thread keeps its own clock for the full check.
        true
    }
}

/// The probe engine of one generation.
struct Probing {
    handle: Option<EngineHandle>,
    /// Outcomes in the queue, for the engine's budget.
    queued: Arc<AtomicUsize>,
}

impl Probing {
    fn start(reconciler: &Reconciler, generation: u64, tx: &Sender<Msg>) -> Probing {
        let targets = reconciler.targets().to_vec();
        let probed = targets.len();
        let interval = reconciler.full_check_interval();
        let queued = Arc::new(AtomicUsize::new(0));
        // Two full rounds of outcomes, as the engine's own channel holds.
        let sink = ToKeeper {
            tx: tx.clone(),
            keeper: std::thread::current(),
            generation,
            queued: queued.clone(),
            budget: 2 * probed + engine::BATCH_MAX,
        };
        let handle = match engine::start_with(targets, Options { tick: None }, Box::new(sink)) {
            Ok(handle) => {
                crate::note!(info, "health: probing {probed} endpoints; full check every {interval:?}");
                Some(handle)
            }
            Err(e) => {
                crate::note!(error, "health checks not started: {e}");
                None
            }
        };
        Probing { handle, queued }
    }

    /// Outcomes taken off the queue.
    fn taken(&self, n: usize) {
        self.queued.fetch_sub(n, Relaxed);
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

/// Outcomes gathered from the queue, handed to the reconciler as one batch.
struct Gathered {
    outcomes: Vec<Outcome>,
    first: bool,
}

impl Gathered {
    /// One reconcile for everything gathered; true when something changed.
    fn apply(&mut self, reconciler: &mut Reconciler) -> bool {
        if self.outcomes.is_empty() {
            return false;
        }
        if std::mem::take(&mut self.first) {
            let o = &self.outcomes[0];
            if let Some(t) = reconciler.targets().get(o.target) {
                let verdict = if o.passed { "passed" } else { "failed" };
                crate::note!(info, "health: first probe result: {} {verdict}: {}", t.addr, o.detail);
            }
        }
        let report = reconciler.on_outcomes(&self.outcomes);
        self.outcomes.clear();
        changed(&report)
    }
}

fn keep(start: Start, connect: Connect, rx: Receiver<Msg>, tx: Sender<Msg>, first_done: Sender<()>) {
    let Start { mut director, config, store, saved } = start;
    let mut kernel = match connect() {
        Ok(k) => k,
        Err(e) => {
            crate::note!(error, "IPVS table not applied: {e}");
            let _ = first_done.send(());
            return refuse_all(&rx, &e.to_string());
        }
    };

    let observed =
        kernel.dump().map_err(|e| crate::note!(error, "cannot read the IPVS table: {e}")).unwrap_or_default();
    let restored = saved.as_ref().and_then(|state| restore_table(&mut *kernel, state, &director, &observed));
    let mut carried = saved.as_ref().map(|s| saved::carried(s, &director)).unwrap_or_default();
    let mut saver = Saver { store, config, failing: false };
    let mut first_start = Some((first_done, observed));
    let mut reply: Option<Sender<Result<String, String>>> = None;
    let mut generation = 0;

    loop {
        generation += 1;
        let mut reconciler = Reconciler::new(director.clone(), &mut *kernel);
        match first_start.take() {
            Some((first_done, observed)) => {
                saved::adopt(&mut carried, reconciler.probes().slots.keys().copied(), &observed);
                // After a restore the kernel holds the saved table, else what was found.
                saved::adopt_quorum(&mut carried, &director, restored.as_ref().unwrap_or(&observed));
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
                    None => Ok(format!("{} IPVS changes", report.changes().len())),
                    Some(e) => Err(e.to_string()),
                };
                if let Some(done) = reply.take() {
                    let _ = done.send(answer);
                }
            }
        }
        saver.save(&reconciler);
        let mut probing = Probing::start(&reconciler, generation, &tx);
        let mut gathered = Gathered { outcomes: Vec::new(), first: true };

        let next = 'events: loop {
            let Some(mut msg) = next(&rx, reconciler.next_full_check(Instant::now())) else { break 'events None };
            let mut dirty = false;
            // Handle what is queued before reconciling and writing the state:
            // one reconcile per burst of outcomes, one write per burst of changes.
            let mut handled = 0;
            while let Some(m) = msg.take() {
                match m {
                    Msg::Outcomes(g, batch) => {
                        if g == generation {
                            probing.taken(batch.len());
                            gathered.outcomes.extend(batch);
                        }
                    }
                    Msg::Weight { request, done } => {
                        dirty |= gathered.apply(&mut reconciler);
                        let answer = set_weight(&mut reconciler, &request);
                        // Saved before the answer: an operator told "set" finds it in the state file.
                        if answer.is_ok() {
                            saver.save(&reconciler);
                        }
                        let _ = done.send(answer);
                    }
                    Msg::Reload { director: new, config, done } => {
                        gathered.apply(&mut reconciler);
                        saver.config = config;
                        carried = reconciler.carried();
                        break 'events Some((*new, done));
                    }
                    Msg::Stop => {
                        gathered.apply(&mut reconciler);
                        // The table stays in the kernel, and the state says so.
                        saver.save(&reconciler);
                        break 'events None;
                    }
                }
                handled += 1;
                if handled < DRAIN_MAX {
                    msg = rx.try_recv().ok();
                }
            }
            dirty |= gathered.apply(&mut reconciler);
            let now = Instant::now();
            if now >= reconciler.next_full_check(now) {
                dirty |= changed(&reconciler.full_check(now));
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

/// The next message, or None (inside Some) when `due` comes first; None when
/// every sender is gone. Parked rather than in `recv_timeout`: every sender
/// unparks this thread after a send, and a blocking receive with a timeout
/// costs kilobytes of channel code in a binary with a size budget.
fn next(rx: &Receiver<Msg>, due: Instant) -> Option<Option<Msg>> {
    loop {
        match rx.try_recv() {
            Ok(m) => return Some(Some(m)),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        let now = Instant::now();
        if now >= due {
            return Some(None);
        }
        // Returns early on an unpark (made before or after the park), and
        // now and then for nothing: the loop looks again either way.
        std::thread::park_timeout(due - now);
    }
}

/// An operator's weight through the reconciler, which logs what it did (and
/// a change the kernel refused, which the next full check tries again).
fn set_weight(reconciler: &mut Reconciler, request: &Request) -> Result<String, String> {
    reconciler.set_weight(&request.service, request.real_server, request.weight).map_err(|e| e.to_string())?;
    Ok(String::new())
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
/// the kernel already has it and nothing is sent. Returns what the kernel
/// now holds for the config's services, when the restore went through.
fn restore_table(kernel: &mut dyn Ipvs, state: &StateFile, director: &Director, observed: &Table) -> Option<Table> {
    let mut table = match saved::table(state) {
        None => return None,
        Some(Err(e)) => {
            crate::note!(warn, "state: ignored the saved table ({e}); starting from the config");
            return None;
        }
        Some(Ok(t)) => t,
    };
    table.services.retain(|vs| director.services.iter().any(|s| s.service.key == vs.service.key));
    let age = now_ms().saturating_sub(state.written_at_ms) / 1000;
    let dests: usize = table.services.iter().map(|s| s.dests.len()).sum();
    let changes = plan(&table, observed, Ownership::NamedServices);
    match kernel.apply(&changes) {
        Ok(()) => {
            crate::note!(
                info,
                "state: restored the IPVS table saved {age} s ago: {}, {}, {}",
                count(table.services.len(), "service"),
                count(dests, "real server"),
                count(changes.len(), "change")
            );
            Some(table)
        }
        Err(e) => {
            crate::note!(error, "state: restoring the saved table failed ({e}); going on from the config");
            None
        }
    }
}

/// Without netlink there is nothing to keep; reloads are answered with why.
fn refuse_all(rx: &Receiver<Msg>, why: &str) {
    for msg in rx {
        match msg {
            Msg::Reload { done, .. } => drop(done.send(Err(format!("no IPVS: {why}")))),
            Msg::Weight { done, .. } => drop(done.send(Err(format!("no IPVS: {why}")))),
            Msg::Stop => return,
            Msg::Outcomes(..) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_config::model::Role;
    use lvs_ipvs::{ApplyError, Change, FakeIpvs, Snapshot};
    use std::sync::Mutex;

    /// The fake kernel, seen by the test while the keeper's thread holds it.
    #[derive(Clone, Default)]
    struct Kernel(Arc<Mutex<FakeIpvs>>);

    impl Ipvs for Kernel {
        fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
            self.0.lock().unwrap().snapshot()
        }
        fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
            self.0.lock().unwrap().apply(changes)
        }
    }

    impl Kernel {
        fn weights(&self) -> Vec<u32> {
            let table = self.0.lock().unwrap().dump().unwrap();
            table.services.iter().flat_map(|s| s.dests.iter().map(|d| d.weight)).collect()
        }

        /// Waits until the table holds these weights, or fails.
        fn wait_for(&self, want: &[u32], within: Duration) {
            let start = Instant::now();
            while self.weights() != want {
                assert!(start.elapsed() < within, "weights {:?}, not {want:?}, after {within:?}", self.weights());
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    const TEXT: &str = r#"Appliance(role: Director(vips: [], services: [
        Service(address: "192.0.2.80:80", initial: Up, health: Tcp(), real_servers: [RealServer(address: "192.0.2.21", weight: 2)]),
    ]))"#;

    fn start(kernel: &Kernel, state: &std::path::Path) -> Keeper {
        let loaded = lvs_config::parse(TEXT, std::path::Path::new("t.ron")).unwrap();
        let Role::Director(mut director) = loaded.model.role else { panic!() };
        // An interval of 0 (which validation refuses in a file) makes the probe engine refuse to start.
        director.services[0].real_servers[0].health.as_mut().unwrap().target.interval = Duration::ZERO;
        let config = SavedConfig { path: "t.ron".into(), hash: String::new(), applied_at_ms: 0, text: TEXT.into() };
        let k = kernel.clone();
        Keeper::start_with(
            Start { director, config, store: Store::new(state), saved: None },
            Box::new(move || Ok(Box::new(k) as Box<dyn Ipvs>)),
        )
    }

    #[test]
    fn drift_is_repaired_on_the_keepers_own_clock_without_a_probe_engine() {
        let kernel = Kernel::default();
        let state = tempfile::tempdir().unwrap();
        let keeper = start(&kernel, state.path());
        assert_eq!(kernel.weights(), [2], "programmed before start returns");
        // Someone runs `ipvsadm -C`: the next full check (1 s) puts it back, with no probe running.
        let flushed = Instant::now();
        kernel
            .0
            .lock()
            .unwrap()
            .apply(&[Change::DelService(lvs_ipvs::ServiceKey::Inet {
                protocol: lvs_ipvs::Protocol::Tcp,
                addr: "192.0.2.80:80".parse().unwrap(),
            })])
            .unwrap();
        kernel.wait_for(&[2], Duration::from_secs(5));
        assert!(flushed.elapsed() < Duration::from_millis(3500), "repaired after {:?}", flushed.elapsed());
        // Full checks are spaced: no dump storm while nothing happens.
        let dumps = kernel.0.lock().unwrap().dumps;
        std::thread::sleep(Duration::from_millis(500));
        assert!(kernel.0.lock().unwrap().dumps <= dumps + 1);
        keeper.stop();
    }

    #[test]
    fn an_operator_weight_is_applied_and_saved_and_a_wrong_one_refused() {
        let kernel = Kernel::default();
        let state = tempfile::tempdir().unwrap();
        let keeper = start(&kernel, state.path());
        let request = |rs: &str, w: &str| Request::parse("TCP 192.0.2.80:80", rs, w).unwrap();
        keeper.set_weight(request("192.0.2.21", "7")).unwrap();
        assert_eq!(kernel.weights(), [7]);
        let saved = Store::new(state.path()).load().unwrap().unwrap();
        assert_eq!(
            saved.weights.iter().map(|w| (w.service.as_str(), w.weight)).collect::<Vec<_>>(),
            [("TCP 192.0.2.80:80", 7)]
        );
        let refused = keeper.set_weight(request("192.0.2.22", "7")).unwrap_err();
        assert_eq!(refused, "TCP 192.0.2.80:80 has no real server 192.0.2.22:80 (it has: 192.0.2.21:80)");
        keeper.set_weight(request("192.0.2.21", "clear")).unwrap();
        assert_eq!(kernel.weights(), [2]);
        keeper.stop();
        assert!(Store::new(state.path()).load().unwrap().unwrap().weights.is_empty());
    }
}
