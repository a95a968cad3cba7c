//! What the management server asks of the running agent. The agent's side
//! (`run::remote`) implements it against the main loop and the keeper; the
//! server's tests use a fake.

use super::api::{ConfigAnswer, Done, StatusAnswer, StatusQuery, Validation, WeightAsk};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Why an operation did not happen. Each maps to one HTTP status (docs/API.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The input is wrong (a config with its line:col, an unknown real server): 422.
    #[error("{0}")]
    Refused(String),
    /// Not now (confirm with no try running): 409.
    #[error("{0}")]
    Conflict(String),
    /// The agent cannot take it at the moment (between two configs): 503.
    #[error("{0}")]
    Unavailable(String),
    /// Tried and failed (the kernel refused, a write failed): 500.
    #[error("{0}")]
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Reboot,
    Off,
}

pub trait Operations: Send + Sync + 'static {
    fn status(&self, query: &StatusQuery) -> Result<StatusAnswer, OpError>;
    fn config(&self) -> Result<ConfigAnswer, OpError>;
    /// Never changes anything.
    fn validate(&self, text: &str) -> Validation;
    /// Applies `text` now and writes it to the config partition.
    fn apply(&self, text: &str) -> Result<Done, OpError>;
    /// Runs `text` until `within` has passed, then goes back, unless confirmed.
    fn try_config(&self, text: &str, within: Duration) -> Result<Done, OpError>;
    fn confirm(&self) -> Result<Done, OpError>;
    fn weight(&self, ask: &WeightAsk) -> Result<Done, OpError>;
    /// The last `lines` log lines, oldest first.
    fn logs(&self, lines: usize) -> Vec<String>;
    /// Each line logged from now on. The sender is dropped (and the follower
    /// forgotten) when the receiver is, or when it falls too far behind: a
    /// slow client never holds up logging.
    fn follow(&self) -> Receiver<String>;
    /// Answers, then reboots or powers off shortly after (so the answer gets out).
    fn power(&self, what: Power) -> Result<Done, OpError>;
}
