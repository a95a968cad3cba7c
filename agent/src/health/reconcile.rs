//! The reconcile loop without its threads: outcomes in, changes to the kernel
//! out. A transition is planned against the table as last known (one change,
//! no dump); the periodic full check dumps the kernel, so that a table flushed
//! or edited by hand is repaired within one check interval, and a change the
//! kernel refused is tried again.

use super::desired::{desired, Desired, Overrides};
use super::known::play;
use super::state::{Line, RiseFall, Status};
use super::target::{Outcome, Target};
use super::targets::{Probes, Slot};
use lvs_config::model::Director;
use lvs_config::values::Endpoint;
use lvs_ipvs::{plan, ApplyError, Change, Ipvs, IpvsError, Ownership, ServiceKey, Table};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Full checks come at the shortest check interval, but not more often than
/// this: a dump of a large table is not free, and drift is rare.
pub const FULL_CHECK_FLOOR: Duration = Duration::from_secs(1);
/// The full check interval when nothing is probed.
pub const FULL_CHECK_DEFAULT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("cannot read the IPVS table for the full check: {0}")]
    Dump(#[source] IpvsError),
    #[error("{0}; tried again at the next full check")]
    Refused(#[source] ApplyError),
}

/// When the full check after one that started at `started` and ended at
/// `ended` is due: one interval after the start, so that checks keep their
/// pace, but never sooner than half an interval after the end, so that a dump
/// slower than the interval does not run back to back with the next and the
/// thread keeps time for the probes' outcomes.
pub fn next_full_check(started: Instant, ended: Instant, interval: Duration) -> Instant {
    (started + interval).max(ended + interval / 2)
}

/// A weight for a real server the running config does not have.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    #[error("no service {service} in the config (it has: {known})")]
    NoService { service: String, known: String },
    #[error("{service} has no real server {real_server} (it has: {known})")]
    NoRealServer { service: String, real_server: SocketAddr, known: String },
}

/// Something the reconciler did or saw, as one log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A watch changed status ("192.0.2.21:80 http down after 3 failures: ...").
    Transition(String),
    /// A service lost or regained its quorum, or the operator set or cleared a weight.
    Service(String),
    /// Sent because health, quorum or an override changed, or at the first full check.
    Applied(Change),
    /// Sent by a full check because the kernel differed from what was last known.
    DriftRepaired(Change),
    /// Sent by a full check because the kernel had refused it before.
    Retried(Change),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Transition(line) | Event::Service(line) => f.write_str(line),
            Event::Applied(c) => write!(f, "{c}"),
            Event::DriftRepaired(c) => write!(f, "drift repaired: {c} (someone changed the table by hand?)"),
            Event::Retried(c) => write!(f, "retried: {c}"),
        }
    }
}

/// What one call did; every event and the error are also logged.
#[derive(Debug, Default)]
pub struct Report {
    pub events: Vec<Event>,
    pub error: Option<ReconcileError>,
}

impl Report {
    /// The changes that reached the kernel and took effect.
    pub fn changes(&self) -> Vec<&Change> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Applied(c) | Event::DriftRepaired(c) | Event::Retried(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    fn push(&mut self, event: Event) {
        match &event {
            Event::DriftRepaired(_) => log::warn!("{event}"),
            _ => log::info!("{event}"),
        }
        self.events.push(event);
    }

    fn fail(&mut self, error: ReconcileError) {
        log::error!("{error}");
        self.error = Some(error);
    }
}

/// What a reconciler knows that the config does not say: each checked real
/// server's status and the operator's weights, carried over a config reload
/// and saved in the state file for the next agent; and each service's quorum
/// state, carried over a reload (a new agent reads it back from the kernel's
/// table: `state::saved::adopt_quorum`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    pub health: BTreeMap<Slot, Status>,
    pub weights: BTreeMap<Slot, u32>,
    /// Without it, a reload would judge every service as new, and one whose
    /// healthy weight sits inside its hysteresis band would go down and hand
    /// its traffic to the sorry server although nothing changed.
    pub quorum: BTreeMap<ServiceKey, bool>,
}

pub struct Reconciler<'k> {
    director: Director,
    probes: Probes,
    watches: Vec<RiseFall>,
    /// Each service's quorum state, for the hysteresis.
    services_up: BTreeMap<ServiceKey, bool>,
    overrides: Overrides,
    ipvs: &'k mut dyn Ipvs,
    owns: Ownership,
    /// None until the first full check, and after a dump fails.
    known: Option<Table>,
    next_full_check: Option<Instant>,
}

impl<'k> Reconciler<'k> {
    /// Touches nothing yet: the first [`full_check`](Self::full_check) programs the table.
    pub fn new(director: Director, ipvs: &'k mut dyn Ipvs) -> Reconciler<'k> {
        let probes = Probes::of(&director);
        let watches = probes.watches.iter().map(|w| RiseFall::new(w.initial, w.rise, w.fall)).collect();
        let owns = if director.own_whole_table { Ownership::WholeTable } else { Ownership::NamedServices };
        Reconciler {
            director,
            probes,
            watches,
            services_up: BTreeMap::new(),
            overrides: Overrides::default(),
            ipvs,
            owns,
            known: None,
            next_full_check: None,
        }
    }

    /// What the probe engine is to probe; an outcome's `target` indexes this.
    pub fn targets(&self) -> &[Target] {
        &self.probes.targets
    }

    pub fn probes(&self) -> &Probes {
        &self.probes
    }

    /// A real server's health; unchecked ones are always up.
    pub fn status(&self, slot: &Slot) -> Status {
        match self.probes.watch_of(slot) {
            Some(w) => self.watches[w].status(),
            None => Status::Up,
        }
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// The table as last programmed or dumped; None before the first full check.
    pub fn known(&self) -> Option<&Table> {
        self.known.as_ref()
    }

    pub fn carried(&self) -> Carried {
        let health = self.probes.slots.iter().map(|(slot, w)| (*slot, self.watches[*w].status())).collect();
        // A loop of inserts, not collect(): the same code as the state file's, no new sort in the binary.
        let mut weights = BTreeMap::new();
        for (slot, weight) in self.overrides.iter() {
            weights.insert(slot, weight);
        }
        let mut quorum = BTreeMap::new();
        for (key, up) in &self.services_up {
            quorum.insert(*key, *up);
        }
        Carried { health, weights, quorum }
    }

    /// Goes on from what an earlier reconciler knew. Slots and services this
    /// config no longer has are dropped; slots it has that `carried` does not
    /// name keep their `initial`. Call before the first full check.
    pub fn resume(&mut self, carried: &Carried) {
        for (key, up) in &carried.quorum {
            if self.director.services.iter().any(|s| s.service.key == *key) {
                self.services_up.insert(*key, *up);
            }
        }
        for (slot, status) in &carried.health {
            if let Some(w) = self.probes.watch_of(slot) {
                let watch = self.probes.watches[w];
                self.watches[w] = RiseFall::resumed(*status, watch.rise, watch.fall);
            }
        }
        for (slot, weight) in &carried.weights {
            if self.director.services.iter().any(|s| {
                s.service.key == slot.service && s.real_servers.iter().any(|r| r.dest.addr == slot.real_server)
            }) {
                self.overrides.set(*slot, Some(*weight));
            }
        }
    }

    /// Brings the kernel to the desired table now, as changes of the config
    /// (after a reload), not as drift.
    pub fn converge_now(&mut self) -> Report {
        let mut report = Report::default();
        self.converge(&mut report);
        report
    }

    /// How often to call [`full_check`](Self::full_check): the shortest check interval, at least [`FULL_CHECK_FLOOR`].
    pub fn full_check_interval(&self) -> Duration {
        self.probes.targets.iter().map(|t| t.interval).min().map_or(FULL_CHECK_DEFAULT, |i| i.max(FULL_CHECK_FLOOR))
    }

    /// When the next full check is due; now, before the first one.
    pub fn next_full_check(&self, now: Instant) -> Instant {
        self.next_full_check.unwrap_or(now)
    }

    /// Takes one probe result. Only a change of health reaches the kernel, as
    /// the few changes it makes to the table.
    pub fn on_outcome(&mut self, outcome: &Outcome) -> Report {
        self.on_outcomes(std::slice::from_ref(outcome))
    }

    /// Takes a batch of probe results in the order they came: each transition
    /// is logged, then the table is planned and sent once for all of them, so
    /// that a burst of N transitions is one plan and one netlink batch.
    pub fn on_outcomes(&mut self, outcomes: &[Outcome]) -> Report {
        let mut report = Report::default();
        for outcome in outcomes {
            let Some(target) = self.probes.targets.get(outcome.target) else {
                log::warn!("outcome for unknown target {} ignored", outcome.target);
                continue;
            };
            for w in self.probes.watches_of(outcome.target) {
                if let Some(t) = self.watches[w].record(outcome.passed, &outcome.detail) {
                    report.push(Event::Transition(Line(target, &t).to_string()));
                }
            }
        }
        if !report.events.is_empty() {
            self.converge(&mut report);
        }
        report
    }

    /// The slot of a real server of a service named as the log names it
    /// ("TCP 192.0.2.80:80", any case), and its configured weight; a real
    /// server without a port has the service's. The error lists what there is.
    pub fn slot(&self, service: &str, real_server: Endpoint) -> Result<(Slot, u32), WeightError> {
        let names = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(", ");
        let Some(spec) =
            self.director.services.iter().find(|s| s.service.key.to_string().eq_ignore_ascii_case(service))
        else {
            let known = names(&mut self.director.services.iter().map(|s| s.service.key.to_string()));
            return Err(WeightError::NoService { service: service.to_string(), known });
        };
        let real_server = real_server.with_default_port(spec.service.key.port().unwrap_or(0));
        match spec.real_servers.iter().find(|r| r.dest.addr == real_server) {
            Some(r) => Ok((Slot { service: spec.service.key, real_server }, r.dest.weight)),
            None => {
                let known = names(&mut spec.real_servers.iter().map(|r| r.dest.addr.to_string()));
                Err(WeightError::NoRealServer { service: spec.service.key.to_string(), real_server, known })
            }
        }
    }

    /// Sets (Some) or clears (None) an operator's weight for one real server
    /// (health still decides: a server that is down stays out until it is up).
    pub fn set_weight(
        &mut self,
        service: &str,
        real_server: Endpoint,
        weight: Option<u32>,
    ) -> Result<Report, WeightError> {
        let (slot, configured) = self.slot(service, real_server)?;
        self.overrides.set(slot, weight);
        let what = match weight {
            Some(w) => format!("{w} by the operator (configured {configured})"),
            None => format!("the configured {configured}"),
        };
        let down = if self.status(&slot) == Status::Down { "; down: 0 until up" } else { "" };
        let mut report = Report::default();
        report.push(Event::Service(format!("weight of {} in {}: {what}{down}", slot.real_server, slot.service)));
        self.converge(&mut report);
        Ok(report)
    }

    /// Dumps the kernel's table and brings it to the desired one; every
    /// difference not caused by an earlier refusal is logged as drift.
    pub fn full_check(&mut self, now: Instant) -> Report {
        let report = self.check_kernel();
        // The dump's own time counts: a slow dump must not be followed by another at once.
        let ended = Instant::now().max(now);
        self.next_full_check = Some(next_full_check(now, ended, self.full_check_interval()));
        report
    }

    fn check_kernel(&mut self) -> Report {
        let mut report = Report::default();
        let observed = match self.ipvs.dump() {
            Ok(t) => t,
            Err(e) => {
                self.known = None;
                report.fail(ReconcileError::Dump(e));
                return report;
            }
        };
        let want = self.desired(&mut report).table;
        let changes = plan(&want, &observed, self.owns);
        let classify: Box<dyn Fn(Change) -> Event> = match &self.known {
            // The first check programs the table: nothing there was drift.
            None => Box::new(Event::Applied),
            Some(known) => {
                let pending = plan(&want, known, self.owns);
                Box::new(move |c| if pending.contains(&c) { Event::Retried(c) } else { Event::DriftRepaired(c) })
            }
        };
        self.send(observed, changes, &*classify, &mut report);
        report
    }

    /// Plans the desired table against the known one, or a fresh dump before the first full check.
    fn converge(&mut self, report: &mut Report) {
        let want = self.desired(report).table;
        let base = match self.known.take() {
            Some(known) => known,
            None => match self.ipvs.dump() {
                Ok(t) => t,
                Err(e) => return report.fail(ReconcileError::Dump(e)),
            },
        };
        let changes = plan(&want, &base, self.owns);
        self.send(base, changes, &Event::Applied, report);
    }

    fn send(&mut self, mut base: Table, changes: Vec<Change>, event: &dyn Fn(Change) -> Event, report: &mut Report) {
        let result = if changes.is_empty() { Ok(()) } else { self.ipvs.apply(&changes) };
        let applied = match &result {
            Ok(()) => changes.len(),
            Err(e) => e.applied,
        };
        play(&mut base, &changes[..applied]);
        self.known = Some(base);
        for c in changes.into_iter().take(applied) {
            report.push(event(c));
        }
        if let Err(e) = result {
            report.fail(ReconcileError::Refused(e));
        }
    }

    /// The desired table now; logs each service that lost or regained its quorum.
    fn desired(&mut self, report: &mut Report) -> Desired {
        let (probes, watches) = (&self.probes, &self.watches);
        let up = |slot: &Slot| probes.watch_of(slot).is_none_or(|w| watches[w].is_up());
        let d = desired(&self.director, &up, &self.services_up, &self.overrides);
        for spec in &self.director.services {
            let key = spec.service.key;
            let now = d.services[&key];
            let before = self.services_up.insert(key, now.up);
            // Starting up is the normal case; starting down is worth a line (which servers wait for a check).
            if before == Some(now.up) || (before.is_none() && now.up) {
                continue;
            }
            let need = match spec.quorum {
                Some(q) if now.up => format!(" (quorum {} + hysteresis {})", q.min_weight, q.hysteresis),
                Some(q) => format!(" (quorum {})", q.min_weight),
                None => String::new(),
            };
            let sorry = match (spec.sorry_server, now.up) {
                (Some(s), false) => format!("; sorry server {} takes the traffic", s.addr),
                (Some(s), true) => format!("; sorry server {} removed", s.addr),
                (None, _) => String::new(),
            };
            let what = if now.up { "up" } else { "down" };
            report.push(Event::Service(format!("service {key} {what}: healthy weight {}{need}{sorry}", now.up_weight)));
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn full_checks_keep_their_pace_but_a_slow_dump_gets_a_rest_after_it() {
        let t0 = Instant::now();
        assert_eq!(next_full_check(t0, t0 + 20 * MS, 1000 * MS), t0 + 1000 * MS);
        assert_eq!(next_full_check(t0, t0 + 500 * MS, 1000 * MS), t0 + 1000 * MS);
        // A dump of 3 s on a 1 s interval: half an interval of rest, not another dump at once.
        assert_eq!(next_full_check(t0, t0 + 3000 * MS, 1000 * MS), t0 + 3500 * MS);
    }
}
