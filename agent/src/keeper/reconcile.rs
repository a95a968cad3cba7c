//! The convergence without its threads: outcomes, reloads and operator
//! weights in, changes to the kernel out. A transition is planned against
//! the table as last known (one change, no dump); the periodic full check
//! dumps the kernel, so that a table flushed or edited by hand is repaired
//! within one check interval, and a change the kernel refused is tried again.
//! A director without health checks has no watches at all: every real server
//! is up, and only the full check and operator weights move anything.

use super::carried::Carried;
use super::desired::{desired, Desired};
use super::known::play;
use super::overrides::Overrides;
use super::report::{Event, ReconcileError, Report, WeightError};
use crate::deadline::after;
use crate::health::state::Status;
use crate::health::target::{Outcome, Target};
use crate::health::watches::Watches;
use lvs_config::model::{Director, Slot};
use lvs_config::values::Endpoint;
use lvs_ipvs::{plan, Change, Ipvs, Ownership, ServiceKey, Table};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Full checks come at the shortest check interval, but not more often than
/// this: a dump of a large table is not free, and drift is rare.
pub const FULL_CHECK_FLOOR: Duration = Duration::from_secs(1);
/// The full check interval when nothing is probed.
pub const FULL_CHECK_DEFAULT: Duration = Duration::from_secs(2);

/// When the full check after one that started at `started` and ended at
/// `ended` is due: one interval after the start, so that checks keep their
/// pace, but never sooner than half an interval after the end, so that a dump
/// slower than the interval does not run back to back with the next and the
/// thread keeps time for the probes' outcomes. An interval past the clock's
/// range (a health interval of "500000000000y") is cut, not a panic.
pub fn next_full_check(started: Instant, ended: Instant, interval: Duration) -> Instant {
    after(started, interval).max(after(ended, interval / 2))
}

pub struct Reconciler<'k> {
    director: Director,
    /// None when the director checks no real server.
    watches: Option<Watches>,
    /// Each service's quorum state, for the hysteresis.
    services_up: BTreeMap<ServiceKey, bool>,
    overrides: Overrides,
    ipvs: &'k mut dyn Ipvs,
    owns: Ownership,
    /// None until the first full check, and after a dump fails.
    known: Option<Table>,
    next_full_check: Option<Instant>,
}

fn watches_of(director: &Director) -> Option<Watches> {
    let checked = director.services.iter().flat_map(|s| &s.real_servers).any(|r| r.health.is_some());
    checked.then(|| Watches::of(director))
}

impl<'k> Reconciler<'k> {
    /// Touches nothing yet: the first [`full_check`](Self::full_check) programs the table.
    pub fn new(director: Director, ipvs: &'k mut dyn Ipvs) -> Reconciler<'k> {
        Reconciler {
            watches: watches_of(&director),
            owns: director.ownership(),
            director,
            services_up: BTreeMap::new(),
            overrides: Overrides::default(),
            ipvs,
            known: None,
            next_full_check: None,
        }
    }

    pub fn director(&self) -> &Director {
        &self.director
    }

    /// What the probe engine is to probe (nothing without health checks); an
    /// outcome's `target` indexes this.
    pub fn targets(&self) -> &[Target] {
        self.watches.as_ref().map_or(&[], |w| w.targets())
    }

    /// The checked real servers' watches; None when nothing is checked.
    pub fn watches(&self) -> Option<&Watches> {
        self.watches.as_ref()
    }

    /// A real server's health; unchecked ones are always up.
    pub fn status(&self, slot: &Slot) -> Status {
        self.watches.as_ref().map_or(Status::Up, |w| w.status(slot))
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// The table as last programmed or dumped; None before the first full check.
    pub fn known(&self) -> Option<&Table> {
        self.known.as_ref()
    }

    pub fn carried(&self) -> Carried {
        Carried {
            health: self.watches.as_ref().map(Watches::statuses).unwrap_or_default(),
            weights: self.overrides.iter().collect(),
            quorum: self.services_up.clone(),
        }
    }

    /// Goes on from what an earlier reconciler or agent knew. Slots and
    /// services this config does not have are dropped; slots it has that
    /// `carried` does not name keep their `initial`. Call before the first
    /// full check.
    pub fn resume(&mut self, carried: &Carried) {
        if let Some(watches) = &mut self.watches {
            watches.resume(&carried.health);
        }
        self.resume_services(carried);
    }

    fn resume_services(&mut self, carried: &Carried) {
        for (key, up) in &carried.quorum {
            if self.director.services.iter().any(|s| s.service.key == *key) {
                self.services_up.insert(*key, *up);
            }
        }
        for (slot, weight) in &carried.weights {
            let has = |s: &&lvs_config::model::ServiceSpec| s.service.key == slot.service;
            if self
                .director
                .services
                .iter()
                .filter(has)
                .any(|s| s.real_servers.iter().any(|r| r.dest.addr == slot.real_server))
            {
                self.overrides.set(*slot, Some(*weight));
            }
        }
    }

    /// Takes a new config and brings the kernel to it now, as changes of the
    /// config (not drift). What carries over: every real server's health (a
    /// watch judged as before keeps its rise/fall streak), the operator's
    /// weights and each service's quorum state, for what the new config
    /// still has.
    pub fn reload(&mut self, director: Director) -> Report {
        let carried = self.carried();
        let mut watches = watches_of(&director);
        if let (Some(next), Some(before)) = (&mut watches, &self.watches) {
            next.go_on_from(before);
        }
        self.owns = director.ownership();
        self.director = director;
        self.watches = watches;
        self.services_up.clear();
        self.overrides = Overrides::default();
        self.resume_services(&carried);
        self.converge_now()
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
        self.targets().iter().map(|t| t.interval).min().map_or(FULL_CHECK_DEFAULT, |i| i.max(FULL_CHECK_FLOOR))
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
        let Some(watches) = &mut self.watches else {
            log::warn!("{} probe outcomes ignored: no real server is checked", outcomes.len());
            return report;
        };
        for line in watches.record(outcomes) {
            report.push(Event::Transition(line));
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
        let services = &self.director.services;
        let Some(spec) = services.iter().find(|s| s.service.key.to_string().eq_ignore_ascii_case(service)) else {
            let known = names(&mut services.iter().map(|s| s.service.key.to_string()));
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
    /// The report's first event says what was set.
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
        let watches = self.watches.as_ref();
        let up = |slot: &Slot| watches.is_none_or(|w| w.is_up(slot));
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

    #[test]
    fn an_interval_past_the_clocks_range_is_forever_not_a_panic() {
        let t0 = Instant::now();
        for huge in [humantime::parse_duration("500000000000y").unwrap(), Duration::MAX] {
            // Half of it is still past the range: the rest after the end wins.
            assert_eq!(next_full_check(t0, t0 + 20 * MS, huge), t0 + 20 * MS + crate::deadline::FOREVER);
        }
    }
}
