//! The health of every checked real server: one rise/fall state per watch,
//! fed with the probe engine's outcomes. Pure; the keeper asks it who is up
//! and logs the transitions it returns.

use super::state::{Line, RiseFall, Status};
use super::target::{Outcome, Target};
use super::targets::{Probes, Slot};
use lvs_config::model::Director;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Watches {
    probes: Probes,
    /// Indexed by WatchId.
    states: Vec<RiseFall>,
}

impl Watches {
    /// Every checked real server at its `initial` status.
    pub fn of(director: &Director) -> Watches {
        let probes = Probes::of(director);
        let states = probes.watches.iter().map(|w| RiseFall::new(w.initial, w.rise, w.fall)).collect();
        Watches { probes, states }
    }

    /// What the probe engine is to probe; an outcome's `target` indexes this.
    pub fn targets(&self) -> &[Target] {
        &self.probes.targets
    }

    pub fn probes(&self) -> &Probes {
        &self.probes
    }

    /// The checked real servers.
    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.probes.slots.keys().copied()
    }

    /// A real server's health; unchecked ones are always up.
    pub fn status(&self, slot: &Slot) -> Status {
        self.probes.watch_of(slot).map_or(Status::Up, |w| self.states[w].status())
    }

    pub fn is_up(&self, slot: &Slot) -> bool {
        self.status(slot) == Status::Up
    }

    /// Every checked real server's status.
    pub fn statuses(&self) -> BTreeMap<Slot, Status> {
        self.probes.slots.iter().map(|(slot, w)| (*slot, self.states[*w].status())).collect()
    }

    /// Takes probe results in the order they came; returns a log line for
    /// each change of status ("192.0.2.21:80 http down after 3 failures: ...").
    pub fn record(&mut self, outcomes: &[Outcome]) -> Vec<String> {
        let mut transitions = Vec::new();
        for outcome in outcomes {
            let Some(target) = self.probes.targets.get(outcome.target) else {
                log::warn!("outcome for unknown target {} ignored", outcome.target);
                continue;
            };
            for w in self.probes.watches_of(outcome.target) {
                if let Some(t) = self.states[w].record(outcome.passed, &outcome.detail) {
                    transitions.push(Line(target, &t).to_string());
                }
            }
        }
        transitions
    }

    /// Goes on from statuses known before (a state file, an earlier config):
    /// leaving a resumed status takes the full rise or fall. Slots these
    /// watches do not have are ignored.
    pub fn resume(&mut self, statuses: &BTreeMap<Slot, Status>) {
        for (slot, status) in statuses {
            if let Some(w) = self.probes.watch_of(slot) {
                let watch = self.probes.watches[w];
                self.states[w] = RiseFall::resumed(*status, watch.rise, watch.fall);
            }
        }
    }

    /// Goes on from the watches of the config before a reload: a watch judged
    /// the same way as before (the same target, rise, fall and initial) keeps
    /// its state, streak included, so that a server two failures toward down
    /// is still two failures toward down; the others resume from their
    /// slot's status before.
    pub fn go_on_from(&mut self, before: &Watches) {
        self.resume(&before.statuses());
        for (id, watch) in self.probes.watches.iter().enumerate() {
            let target = &self.probes.targets[watch.target];
            let same = before.probes.watches.iter().position(|old| {
                before.probes.targets[old.target] == *target
                    && (old.rise, old.fall, old.initial) == (watch.rise, watch.fall, watch.initial)
            });
            if let Some(old) = same {
                self.states[id] = before.states[old].clone();
            }
        }
    }
}
