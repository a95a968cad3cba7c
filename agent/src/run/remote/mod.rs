//! The agent's side of the management API: [`Remote`] implements
//! [`Operations`] for the server's threads. What changes the agent (apply,
//! try, confirm, weight) goes to the main loop through [`queue`] and runs
//! there through the functions the local paths use (the try folder, the
//! weight requests, the swap); what only reads the kernel (status, validate's
//! plan, a drain's connections) opens its own netlink socket on the server's
//! thread, so that a slow dump never holds up the main loop.
//!
//! Status on a machine whose kernel has no IPVS table to show (a real server
//! without ip_vs, a host): `Failed`, with the kernel's reason and what to do,
//! as the local `lvs-agent status` fails there; a kernel with IPVS but no
//! services gives the empty table.

pub mod power;
pub mod queue;
mod status;
mod validate;

pub use queue::{Ask, AskQueue, Asks};

use crate::manage::api::{ConfigAnswer, Done, StatusAnswer, StatusQuery, Validation, WeightAsk, MAX_LOG_LINES};
use crate::manage::{OpError, Operations, Power};
use lvs_ipvs::{Ipvs, IpvsError};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

/// How long an action waits for the main loop: longer than the keeper's own
/// wait for the kernel (30 s), so that its answer, not this, says what happened.
const ACTION_WAIT: Duration = Duration::from_secs(60);
/// How long status waits for the health; without it, the table still goes out.
const HEALTH_WAIT: Duration = Duration::from_secs(5);
/// The longest try, as the local `--within` takes it.
pub const MAX_WITHIN: Duration = Duration::from_secs(24 * 3600);

/// Opens the kernel's IPVS for one request (a fake one in tests).
pub type Kernel = Box<dyn Fn() -> Result<Box<dyn Ipvs>, IpvsError> + Send + Sync>;

pub struct Remote {
    asks: Asks,
    kernel: Kernel,
    /// Whether reboot and power off may signal PID 1 (see `power`).
    under_init: bool,
}

/// The main loop's queue and the operations on it, for [`super::run_with`].
pub fn channel(under_init: bool) -> std::io::Result<(AskQueue, Arc<Remote>)> {
    let (asks, queue) = queue::queue()?;
    Ok((queue, Arc::new(Remote::new(asks, Box::new(netlink), under_init))))
}

fn netlink() -> Result<Box<dyn Ipvs>, IpvsError> {
    Ok(Box::new(lvs_ipvs::netlink::IpvsNetlink::connect()?))
}

impl Remote {
    pub fn new(asks: Asks, kernel: Kernel, under_init: bool) -> Remote {
        Remote { asks, kernel, under_init }
    }

    /// Stops the agent as SIGTERM does: for a caller that runs it on a
    /// thread of its own ([`super::run_with`]), where signals are the process's.
    pub fn stop_agent(&self) -> Result<(), OpError> {
        self.asks.send(Ask::Stop)
    }

    fn snapshot(&self) -> Result<lvs_ipvs::Snapshot, IpvsError> {
        (self.kernel)()?.snapshot()
    }
}

impl Operations for Remote {
    fn status(&self, query: &StatusQuery) -> Result<StatusAnswer, OpError> {
        let snapshot = self.snapshot().map_err(status::unreadable)?;
        // The keeper answers on `done` itself; without an answer the table still goes out.
        let (done, rows) = std::sync::mpsc::channel();
        let health = match self.asks.send(Ask::Health(done)) {
            Ok(()) => rows.recv_timeout(HEALTH_WAIT).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        Ok(status::answer(&snapshot, query, health))
    }

    fn config(&self) -> Result<ConfigAnswer, OpError> {
        self.asks.ask(ACTION_WAIT, Ask::Config)
    }

    fn validate(&self, text: &str) -> Validation {
        validate::validate(text, || self.snapshot().map(|s| s.table()))
    }

    fn apply(&self, text: &str) -> Result<Done, OpError> {
        let checked = validate::check(text)?;
        let text = text.to_string();
        let done = self.asks.ask(ACTION_WAIT, |reply| Ask::Apply { text, reply })?;
        Ok(with_warnings(done, &checked))
    }

    fn try_config(&self, text: &str, within: Duration) -> Result<Done, OpError> {
        if within.is_zero() || within > MAX_WITHIN {
            return Err(OpError::Refused(format!(
                "a try runs for more than 0 s and at most {} h; confirm it and try again if you need longer",
                MAX_WITHIN.as_secs() / 3600
            )));
        }
        let checked = validate::check(text)?;
        let text = text.to_string();
        let done = self.asks.ask(ACTION_WAIT, |reply| Ask::Try { text, within, reply })?;
        Ok(with_warnings(done, &checked))
    }

    fn confirm(&self) -> Result<Done, OpError> {
        self.asks.ask(ACTION_WAIT, Ask::Confirm)
    }

    fn weight(&self, ask: &WeightAsk) -> Result<Done, OpError> {
        let drain = ask.weight.trim().eq_ignore_ascii_case("drain");
        let request = crate::run::weight_requests::parse(&ask.service, &ask.real_server, &ask.weight)
            .map_err(|e| OpError::Refused(e.to_string()))?;
        let (service, real_server) = (request.service.clone(), request.real_server);
        let mut done = self.asks.ask(ACTION_WAIT, |reply| Ask::Weight { request, reply })?;
        if drain {
            let left = self.snapshot().map_err(|e| e.to_string());
            done.message.push('\n');
            done.message.push_str(&status::still_active(left.as_ref(), &service, real_server));
        }
        Ok(done)
    }

    fn logs(&self, lines: usize) -> Vec<String> {
        crate::logging::ring::RING.last(lines.min(MAX_LOG_LINES))
    }

    fn follow(&self) -> Receiver<String> {
        crate::logging::ring::RING.follow()
    }

    fn power(&self, what: Power) -> Result<Done, OpError> {
        power::power(what, self.under_init)
    }
}

/// The candidate's warnings after what was done, as the local commands print them.
fn with_warnings(mut done: Done, warnings: &[String]) -> Done {
    for w in warnings {
        done.message.push('\n');
        done.message.push_str(w);
    }
    done
}

#[cfg(test)]
mod tests;
