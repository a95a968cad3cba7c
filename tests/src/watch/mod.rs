//! What the health and persist labs share for watching a director while the
//! test acts on the lab: a client sending requests in a loop and a poller
//! reading the director's table, on threads of their own for the whole run
//! ([`Watch`]); the records they leave ([`Request`], [`Poll`]) and the
//! [`Verdict`] a judge makes of them; `lvs-agent status` read as a table
//! ([`status`]); the guests' log lines ([`console`]); the timeline report
//! ([`Lines`]); and the lab files' machines and check ([`files`]). Each lab
//! keeps its own steps, tables, bounds and rules.

pub mod console;
pub mod files;
pub mod http;
pub mod record;
pub mod render;
pub mod status;
pub mod threads;

pub use files::{Check, Machine};
pub use http::{get, Who};
pub use record::{Poll, Request, Tally, Verdict, MIN_ANSWERS};
pub use render::{vm_section, Lines};
pub use threads::Watch;

use std::time::{Duration, Instant};

/// One client request: the connect, and each read and write. A working real
/// server answers in milliseconds (a hundred or so at worst under TCG), so a
/// second means a hung server (a stopped httpd) or a lost connection, not a
/// guest that was slow.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// The client's pause between requests, so that the timeline stays readable.
pub const PACE: Duration = Duration::from_millis(100);
/// How long the client runs with the real servers up before the first step:
/// the first window's answers.
pub const BASELINE: Duration = Duration::from_millis(1500);
/// Beyond a step's bound, how long the test keeps watching before it gives
/// up: a late change is then reported with its time, not just as missing.
pub const GRACE: Duration = Duration::from_secs(6);

/// Seconds since `t0`: every record of a run is on that one clock.
pub fn secs(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64()
}
