//! What is probed, and what a probe found: the contract between the probe
//! engine and the health core. One `Target` per distinct endpoint and check,
//! shared by every service and real server that uses it.

pub use lvs_config::probe::{Check, Target};
use std::time::Instant;

/// Index of a target in the list handed to the engine.
pub type TargetId = usize;

/// What one probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub target: TargetId,
    pub passed: bool,
    /// Why it failed, or what passed ("HTTP 200", "connected"), for logs.
    pub detail: String,
    /// When the probe was due and when it ended: lateness = started - due.
    pub due: Instant,
    pub started: Instant,
    pub ended: Instant,
}
