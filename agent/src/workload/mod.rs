//! A real server's workloads: the programs of the image that the agent runs,
//! restarts per their policy (with init's backoff, 1 s doubling to 30 s), and
//! stops at shutdown.
//!
//! Each runs with exactly its configured environment, stdin on /dev/null, its
//! output in the agent's log as `<name>: <line>`, no signal blocked, and in a
//! process group of its own so that stopping it stops what it started.
//!
//! ```ignore
//! let workloads = workload::start(real_server.workloads.clone())?; // after blocking the stop signals
//! // ... sigwait ...
//! let report = workloads.stop(); // each outcome is already logged
//! ```

mod exit;
mod handle;
mod os;
mod output;
mod report;
mod seams;
mod supervisor;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use exit::{restarts, Exit};
pub use handle::{start, start_with, Handle, WorkloadError, TICK};
pub use output::MAX_LINE;
pub use report::{Outcome, StopReport, Stopped};
pub use seams::{Clock, Process, Spawner, SystemClock};
pub use supervisor::{Supervisor, KILL_GRACE};
