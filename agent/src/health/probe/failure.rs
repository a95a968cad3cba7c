//! Why a probe failed. The text of each is the probe's `detail`, in logs and
//! status, so it reads as a sentence a person can act on; each variant keeps
//! what failed (the system's error, the status, the bytes the server sent).

use super::response::HEADERS_MAX;
use super::words::{io_error, quoted, quoted_start, statuses};
use super::Phase;
use std::io;
use std::ops::RangeInclusive;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The probe's deadline passed.
    #[error("timeout after {} while {phase}", humantime::format_duration(*.after))]
    Timeout { after: Duration, phase: Phase },
    /// Opening or connecting the socket failed: refused, unreachable, reset.
    #[error("{}", io_error(.0))]
    Connect(io::Error),
    /// A UDP socket could not be had.
    #[error("cannot open a socket: {}", io_error(.0))]
    Socket(io::Error),
    /// Writing the HTTP request failed.
    #[error("{} while sending the request", io_error(.0))]
    Send(io::Error),
    /// Reading the HTTP response failed.
    #[error("{} while {phase}", io_error(.error))]
    Read { error: io::Error, phase: Phase },
    /// An ICMP port unreachable came back for the datagram (ECONNREFUSED).
    #[error("port unreachable")]
    PortUnreachable(io::Error),
    /// Sending the datagram or reading its reply failed otherwise.
    #[error("{}", io_error(.0))]
    Datagram(io::Error),
    /// The server closed before the status line ended; `start` is what came of it.
    #[error("{}", closed_in_status_line(.start))]
    ClosedInStatusLine { start: Vec<u8> },
    #[error("connection closed in the headers")]
    ClosedInHeaders { status: u16 },
    /// The first bytes (at most 41) of what the server sent.
    #[error("not an HTTP response: {}", quoted_start(.start))]
    NotHttp { start: Vec<u8> },
    #[error("HTTP {status}, expected {}", statuses(.expected))]
    Status { status: u16, expected: Vec<RangeInclusive<u16>> },
    #[error("HTTP {status}, headers longer than {HEADERS_MAX} bytes")]
    HeadersTooLong { status: u16 },
    /// The body ended, or `max_bytes` of it were read (`within`), without the needle.
    #[error("HTTP {status}, body lacks {}{}", quoted(.needle), within_first(*.within))]
    BodyLacks { status: u16, needle: Vec<u8>, within: Option<usize> },
    #[error("reply of {len} bytes lacks {}", quoted(.needle))]
    ReplyLacks { len: usize, needle: Vec<u8> },
}

impl Failure {
    /// A datagram's error: ECONNREFUSED is the ICMP port unreachable.
    pub fn datagram(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::ConnectionRefused {
            Failure::PortUnreachable(e)
        } else {
            Failure::Datagram(e)
        }
    }
}

fn closed_in_status_line(start: &[u8]) -> String {
    if start.is_empty() {
        "connection closed before the status line".into()
    } else {
        format!("connection closed in the status line {}", quoted_start(start))
    }
}

fn within_first(max_bytes: Option<usize>) -> String {
    max_bytes.map(|n| format!(" in its first {n} bytes")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The details logs and status show for each kind of failure.
    #[test]
    fn each_failure_reads_as_before() {
        let os = io::Error::from_raw_os_error;
        let cases = [
            (
                Failure::Timeout { after: Duration::from_millis(1500), phase: Phase::Connecting },
                "timeout after 1s 500ms while connecting",
            ),
            (Failure::Connect(os(113)), "no route to host"),
            (Failure::Socket(os(24)), "cannot open a socket: too many open files"),
            (Failure::Send(os(104)), "connection reset while sending the request"),
            (Failure::Read { error: os(104), phase: Phase::Body }, "connection reset while reading the body"),
            (Failure::datagram(os(111)), "port unreachable"),
            (Failure::datagram(os(113)), "no route to host"),
            (
                Failure::ClosedInStatusLine { start: b"HTTP/1.1 2".to_vec() },
                "connection closed in the status line \"HTTP/1.1 2\"",
            ),
            (Failure::ReplyLacks { len: 3, needle: b"ok\n".to_vec() }, "reply of 3 bytes lacks \"ok\\n\""),
        ];
        for (failure, text) in cases {
            assert_eq!(failure.to_string(), text, "{failure:?}");
        }
    }
}
