//! The keeper thread, top to bottom: [`run`] connects and starts, then
//! [`Keeping::serve`] reads the queue until stop. Each burst of messages (up
//! to `DRAIN_MAX`) is one reconcile of the outcomes it held and at most one
//! write of the state file.

use super::probing::Probing;
use super::reconcile::Reconciler;
use super::report::Report;
use super::restore::{self, count};
use super::saver::Saver;
use super::{Connect, KeeperError, Msg, Start, WeightRequest};
use crate::health::target::Outcome;
use crate::manage::api::HealthRow;
use crate::state::{SavedConfig, StateFile};
use lvs_config::model::Director;
use lvs_ipvs::Table;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::Instant;

/// Messages handled before the thread reconciles, writes the state and looks at its clock.
const DRAIN_MAX: usize = 64;

pub fn run(start: Start, connect: Connect, rx: Receiver<Msg>, tx: SyncSender<Msg>, first_done: Sender<()>) {
    let Start { director, config, store, saved } = start;
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
    let restored = saved.as_ref().and_then(|state| restore::restore_table(&mut *kernel, state, &director, &observed));
    let mut reconciler = Reconciler::new(director, &mut *kernel);
    first_full_check(&mut reconciler, saved.as_ref(), restored.as_ref().unwrap_or(&observed), &observed);
    let _ = first_done.send(());

    let mut keeping =
        Keeping { reconciler, saver: Saver::new(store, config), probing: Probing::idle(), tx, first: false };
    keeping.saver.save(&keeping.reconciler);
    keeping.probe();
    keeping.serve(&rx);
}

/// Takes up what the state file and the kernel say (`in_kernel`: the saved
/// table when it was put back, else what was found), then programs the table.
fn first_full_check(reconciler: &mut Reconciler, saved: Option<&StateFile>, in_kernel: &Table, observed: &Table) {
    let director = reconciler.director().clone();
    let mut carried = saved.map(|s| restore::carried(s, &director)).unwrap_or_default();
    if let Some(watches) = reconciler.watches() {
        restore::adopt(&mut carried, watches.slots(), observed);
    }
    restore::adopt_quorum(&mut carried, &director, in_kernel);
    reconciler.resume(&carried);
    let report = reconciler.full_check(Instant::now());
    match &report.error {
        None => crate::note!(info, "IPVS table applied: {}", count(report.changes().len(), "change")),
        Some(e) => crate::note!(error, "IPVS table not applied: {e}"),
    }
}

struct Keeping<'k> {
    reconciler: Reconciler<'k>,
    saver: Saver,
    probing: Probing,
    /// For the probe engine's sink.
    tx: SyncSender<Msg>,
    /// No probe result logged yet.
    first: bool,
}

impl Keeping<'_> {
    fn serve(&mut self, rx: &Receiver<Msg>) {
        let mut outcomes = Vec::new();
        loop {
            let due = self.reconciler.next_full_check(Instant::now());
            let mut msg = match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return self.probing.stop(),
            };
            let mut dirty = false;
            let mut handled = 0;
            while let Some(m) = msg.take() {
                match m {
                    Msg::Outcomes(generation, batch) => {
                        if generation == self.probing.generation() {
                            outcomes.extend(batch);
                        }
                    }
                    Msg::Weight { request, done } => {
                        dirty |= self.judge(&mut outcomes);
                        let answer = self.set_weight(&request);
                        // Saved before the answer: an operator told "set" finds it in the state file.
                        if answer.is_ok() {
                            self.saver.save(&self.reconciler);
                        }
                        let _ = done.send(answer);
                    }
                    Msg::Reload { director, config, done } => {
                        self.judge(&mut outcomes);
                        let _ = done.send(self.reload(*director, config));
                    }
                    Msg::Health { done } => {
                        dirty |= self.judge(&mut outcomes);
                        let _ = done.send(health(&self.reconciler));
                    }
                    Msg::Stop => {
                        self.judge(&mut outcomes);
                        self.probing.stop();
                        // The table stays in the kernel, and the state says so.
                        self.saver.save(&self.reconciler);
                        return;
                    }
                }
                handled += 1;
                if handled < DRAIN_MAX {
                    msg = rx.try_recv().ok();
                }
            }
            dirty |= self.judge(&mut outcomes);
            let now = Instant::now();
            if now >= self.reconciler.next_full_check(now) {
                dirty |= self.reconciler.full_check(now).changed();
            }
            if dirty {
                self.saver.save(&self.reconciler);
            }
        }
    }

    /// Starts, keeps or replaces the probe engine for what the reconciler's watches probe.
    fn probe(&mut self) {
        let (interval, generation) = (self.reconciler.full_check_interval(), self.probing.generation());
        self.probing.probe(self.reconciler.targets(), interval, &self.tx);
        // A new engine's first result is logged as the first one's was.
        self.first |= self.probing.generation() != generation;
    }

    /// One reconcile for the outcomes gathered; true when something changed.
    fn judge(&mut self, outcomes: &mut Vec<Outcome>) -> bool {
        if outcomes.is_empty() {
            return false;
        }
        if std::mem::take(&mut self.first) {
            let o = &outcomes[0];
            if let Some(t) = self.reconciler.targets().get(o.target) {
                let verdict = if o.passed { "passed" } else { "failed" };
                crate::note!(info, "health: first probe result: {} {verdict}: {}", t.addr, o.detail);
            }
        }
        let report = self.reconciler.on_outcomes(outcomes);
        outcomes.clear();
        report.changed()
    }

    /// A new config: the table as a diff of the config (not drift), health,
    /// streaks and weights carried; the probes go on if they probe the same.
    fn reload(&mut self, director: Director, config: SavedConfig) -> Result<String, KeeperError> {
        let report = self.reconciler.reload(director);
        self.saver.config = config;
        self.saver.save(&self.reconciler);
        self.probe();
        match report.error {
            None => Ok(format!("{} IPVS changes", report.changes().len())),
            Some(e) => Err(e.into()),
        }
    }

    /// An operator's weight through the reconciler, which logs what it did;
    /// the answer says it too, and a change the kernel refused (which the
    /// next full check tries again).
    fn set_weight(&mut self, request: &WeightRequest) -> Result<String, KeeperError> {
        let report = self.reconciler.set_weight(&request.service, request.real_server, request.weight)?;
        Ok(answer(&report))
    }
}

/// Each checked real server's health as the management API shows it.
fn health(reconciler: &Reconciler) -> Vec<HealthRow> {
    let statuses = reconciler.watches().map(|w| w.statuses()).unwrap_or_default();
    statuses
        .into_iter()
        .map(|(slot, status)| HealthRow {
            service: slot.service.to_string(),
            real_server: slot.real_server.to_string(),
            state: status.word().to_string(),
        })
        .collect()
}

fn answer(report: &Report) -> String {
    let what = report.events.first().map(ToString::to_string).unwrap_or_default();
    let sent = count(report.changes().len(), "IPVS change");
    match &report.error {
        None => format!("{what}; {sent} sent"),
        Some(e) => format!("{what}; {sent} sent, then {e}"),
    }
}

/// Without netlink there is nothing to keep; reloads and weights are answered with why.
fn refuse_all(rx: &Receiver<Msg>, why: &str) {
    for msg in rx {
        match msg {
            Msg::Reload { done, .. } | Msg::Weight { done, .. } => {
                drop(done.send(Err(KeeperError::NoIpvs(why.to_string()))))
            }
            Msg::Health { done } => drop(done.send(Vec::new())),
            Msg::Stop => return,
            Msg::Outcomes(..) => {}
        }
    }
}
