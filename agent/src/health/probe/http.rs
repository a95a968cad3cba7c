//! HTTP: `GET path HTTP/1.0` with a Host header and `Connection: close`.
//! 1.0 rather than 1.1 so that no server answers in chunks: the body needle
//! is searched in the bytes as they come.

use super::buffer::with_buffer;
use super::needle::Needle;
use super::response::{Response, Step};
use super::{tcp, Failure, Phase};
use crate::health::target::{Check, Target};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use tokio::io::Interest;

#[derive(Debug)]
pub struct Prepared {
    request: Vec<u8>,
    expect_status: Vec<RangeInclusive<u16>>,
    needle: Option<Needle>,
    max_bytes: usize,
}

impl Prepared {
    pub fn new(target: &Target) -> Prepared {
        let Check::Http { path, host, expect_status, expect_body, max_bytes } = &target.check else {
            unreachable!("an HTTP check")
        };
        let host = host.clone().unwrap_or_else(|| default_host(target.addr));
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: lvs-agent\r\nConnection: close\r\n\r\n");
        Prepared {
            request: request.into_bytes(),
            expect_status: expect_status.clone(),
            needle: expect_body.as_ref().map(|b| Needle::new(b.as_bytes())),
            max_bytes: *max_bytes,
        }
    }

    pub async fn check(&self, addr: SocketAddr, phase: &mut Phase) -> Result<String, Failure> {
        let mut connection = tcp::connect(addr).await?;
        *phase = Phase::Sending;
        tcp::write_all(&connection.stream, &self.request).await.map_err(Failure::Send)?;
        let mut response = Response::new(&self.expect_status, self.needle.as_ref(), self.max_bytes);
        loop {
            *phase = response.phase();
            let failed = |error: std::io::Error, response: &Response| Failure::Read { error, phase: response.phase() };
            let ready = connection.stream.ready(Interest::READABLE).await.map_err(|e| failed(e, &response))?;
            if ready.is_read_closed() {
                connection.server_closed();
            }
            let read = with_buffer(|buf| match connection.stream.try_read(buf) {
                Ok(0) => {
                    connection.server_closed();
                    Some(response.end())
                }
                Ok(n) => match response.feed(&buf[..n]) {
                    Step::Done(result) => Some(result),
                    Step::More => None,
                },
                Err(e) if e.kind() == ErrorKind::WouldBlock => None,
                Err(e) => Some(Err(failed(e, &response))),
            });
            if let Some(result) = read {
                return result;
            }
        }
    }
}

/// The address as a Host header: the port only when it is not 80.
fn default_host(addr: SocketAddr) -> String {
    let host = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    if addr.port() == 80 {
        host
    } else {
        format!("{host}:{}", addr.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn http(addr: &str, host: Option<&str>) -> Target {
        Target {
            addr: addr.parse().unwrap(),
            check: Check::Http {
                path: "/health".into(),
                host: host.map(String::from),
                expect_status: vec![200..=200],
                expect_body: None,
                max_bytes: 100,
            },
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn request_names_the_host() {
        let text = |t: Target| String::from_utf8(Prepared::new(&t).request).unwrap();
        assert_eq!(
            text(http("192.0.2.1:80", None)),
            "GET /health HTTP/1.0\r\nHost: 192.0.2.1\r\nUser-Agent: lvs-agent\r\nConnection: close\r\n\r\n"
        );
        assert!(text(http("[2001:db8::1]:8080", None)).contains("\r\nHost: [2001:db8::1]:8080\r\n"));
        assert!(text(http("192.0.2.1:8080", Some("www.example.com"))).contains("\r\nHost: www.example.com\r\n"));
    }
}
