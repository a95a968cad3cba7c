//! What the reconciler did or saw: events, each one log line, and why a
//! call did not reach the table it wanted.

use lvs_ipvs::{ApplyError, Change, IpvsError};
use std::fmt;
use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("cannot read the IPVS table for the full check: {0}")]
    Dump(#[source] IpvsError),
    #[error("{0}; tried again at the next full check")]
    Refused(#[source] ApplyError),
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

    /// Whether anything changed that the state file holds.
    pub fn changed(&self) -> bool {
        !self.events.is_empty()
    }

    pub(super) fn push(&mut self, event: Event) {
        match &event {
            Event::DriftRepaired(_) => log::warn!("{event}"),
            _ => log::info!("{event}"),
        }
        self.events.push(event);
    }

    pub(super) fn fail(&mut self, error: ReconcileError) {
        log::error!("{error}");
        self.error = Some(error);
    }
}
