//! What stopping the workloads did, one line per workload.

use super::exit::Exit;
use std::fmt;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not running at the stop: waiting for its restart.
    NotRunning,
    /// Had ended before the stop and its restart policy left it down
    /// (`None`: its program could not be started).
    EndedBefore(Option<Exit>),
    /// Ended this long after SIGTERM, within its stop_timeout.
    Exited { exit: Exit, after: Duration },
    /// Outlived its stop_timeout and was SIGKILLed.
    Killed { after: Duration },
    /// Could not be reaped (stuck in the kernel, or lost): PID 1 reaps it later.
    Unreaped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StopReport {
    pub workloads: Vec<Stopped>,
}

impl StopReport {
    /// True when every workload ended within its stop_timeout, or was not running.
    pub fn clean(&self) -> bool {
        self.workloads.iter().all(|w| !matches!(w.outcome, Outcome::Killed { .. } | Outcome::Unreaped))
    }

    pub fn get(&self, name: &str) -> Option<Outcome> {
        self.workloads.iter().find(|w| w.name == name).map(|w| w.outcome)
    }
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match self.outcome {
            Outcome::NotRunning => write!(f, "workload {name} was not running"),
            Outcome::EndedBefore(Some(exit)) => write!(f, "workload {name} had already exited ({exit})"),
            Outcome::EndedBefore(None) => write!(f, "workload {name} had not started"),
            Outcome::Exited { exit, after } => {
                write!(f, "workload {name} stopped ({exit}) {:.3}s after SIGTERM", after.as_secs_f64())
            }
            Outcome::Killed { after } => {
                write!(f, "workload {name} killed with SIGKILL after {}s", after.as_secs_f64())
            }
            Outcome::Unreaped => write!(f, "workload {name} did not die, even after SIGKILL"),
        }
    }
}

impl fmt::Display for StopReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.workloads.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{w}")?;
        }
        Ok(())
    }
}
