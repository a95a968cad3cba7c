//! What a health probe is: the check, the endpoint it is sent to and its
//! timing, as validation builds it from the config. The probe engine in
//! lvs-agent runs these; one `Target` serves every service and real server
//! that names the same endpoint and check.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

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
