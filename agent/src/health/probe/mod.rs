//! One probe of one target, with the target's timeout as its deadline.
//!
//! A probe is prepared once per target ([`Probe::new`]: the request bytes, the
//! needle's search table) and run every interval. Each run reads through a
//! fixed-size buffer its thread shares with its other probes (`buffer`), so
//! memory does not grow with what a server sends nor with the probes in
//! flight, and a failure reads as a sentence a person can act on ("timeout
//! after 1s while reading the status line").

mod buffer;
mod failure;
mod http;
mod needle;
mod response;
mod tcp;
mod udp;
mod words;

pub use failure::Failure;
pub use needle::Needle;
pub use response::{Response, Step};

use crate::health::target::{Check, Target};
use std::fmt;

/// What a probe found: passed or not, and why, for logs and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    pub detail: String,
}

impl Verdict {
    fn from(result: Result<String, Failure>) -> Verdict {
        match result {
            Ok(detail) => Verdict { passed: true, detail },
            Err(failure) => Verdict { passed: false, detail: failure.to_string() },
        }
    }
}

/// Where a probe was when its deadline passed: the second half of a timeout's detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Connecting,
    Sending,
    StatusLine,
    Headers,
    Body,
    Reply,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connecting => "connecting",
            Phase::Sending => "sending the request",
            Phase::StatusLine => "reading the status line",
            Phase::Headers => "reading the headers",
            Phase::Body => "reading the body",
            Phase::Reply => "waiting for a reply",
        })
    }
}

/// A target made ready to probe.
#[derive(Debug)]
pub struct Probe {
    target: Target,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Tcp,
    Http(http::Prepared),
    Udp(udp::Prepared),
}

impl Probe {
    pub fn new(target: Target) -> Probe {
        let kind = match &target.check {
            Check::Tcp => Kind::Tcp,
            Check::Http { .. } => Kind::Http(http::Prepared::new(&target)),
            Check::Udp { payload, expect } => Kind::Udp(udp::Prepared::new(payload, expect.as_deref())),
        };
        Probe { target, kind }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs one probe. Must be called inside a tokio runtime with time and IO.
    pub async fn run(&self) -> Verdict {
        let mut phase = Phase::Connecting;
        let timeout = self.target.timeout;
        let result = tokio::time::timeout(timeout, self.check(&mut phase)).await;
        Verdict::from(result.unwrap_or(Err(Failure::Timeout { after: timeout, phase })))
    }

    async fn check(&self, phase: &mut Phase) -> Result<String, Failure> {
        let addr = self.target.addr;
        match &self.kind {
            Kind::Tcp => tcp::check(addr).await,
            Kind::Http(prepared) => prepared.check(addr, phase).await,
            Kind::Udp(prepared) => prepared.check(addr, phase).await,
        }
    }
}
