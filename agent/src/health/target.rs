//! What is probed, and what a probe found: the contract between the probe
//! engine and the health core. One `Target` per distinct endpoint and check,
//! shared by every service and real server that uses it.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

/// Index of a target in the list handed to the engine.
pub type TargetId = usize;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// A TCP connection is accepted within the timeout.
    Tcp,
    /// `GET path` answered with one of the statuses, and the body (read up to
    /// `max_bytes`) contains `expect_body` when given.
    Http {
        path: String,
        /// The Host header; the target's address when None.
        host: Option<String>,
        expect_status: Vec<RangeInclusive<u16>>,
        expect_body: Option<String>,
        max_bytes: usize,
    },
    /// `payload` sent in one datagram; any reply (containing `expect` when
    /// given) within the timeout passes.
    Udp { payload: Vec<u8>, expect: Option<Vec<u8>> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The probed address and port: the real server's own unless the config
    /// names another.
    pub addr: SocketAddr,
    pub check: Check,
    pub interval: Duration,
    pub timeout: Duration,
}

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
