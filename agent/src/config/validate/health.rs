//! Health checks: per service, with per-real-server overrides.

use super::Findings;
use crate::config::file;
use crate::config::model::{Health, Probe};
use crate::config::path::Path;
use crate::config::values::Span;
use std::time::Duration;

impl Health {
    /// Probes without their own port go to the real server's.
    pub(crate) fn with_default_port(mut self, port: u16) -> Health {
        match &mut self.probe {
            Probe::Tcp { port: p } | Probe::Http { port: p, .. } if *p == 0 => *p = port,
            _ => {}
        }
        self
    }
}

/// The model of a check; None for `Off`. Ports left 0 are filled per real server.
pub fn health(f: &mut Findings, at: &Path, h: &file::Health) -> Option<Health> {
    match h {
        file::Health::Off => None,
        file::Health::Tcp(c) => {
            let probe = Probe::Tcp { port: c.port.unwrap_or(0) };
            Some(timing(f, at, probe, &c.interval, &c.timeout, c.rise, c.fall))
        }
        file::Health::Http(c) => {
            if !c.path.starts_with('/') {
                f.error(
                    at.field("path"),
                    format!("HTTP check path `{}` does not start with '/'", c.path),
                    format!("write the path part of the URL, e.g. \"/{}\"", c.path.trim_start_matches('/')),
                );
            }
            if c.expect_status.is_empty() {
                f.error(
                    at.field("expect_status"),
                    "expect_status is empty, so no answer could pass",
                    "list the codes that mean healthy, e.g. [200] or [200, \"300-399\"]",
                );
            }
            if matches!(&c.host, Some(h) if h.is_empty() || h.contains(char::is_whitespace)) {
                f.error(at.field("host"), "the Host header is empty or has spaces", "write a host name, e.g. \"www.example.com\"");
            }
            let probe = Probe::Http {
                port: c.port.unwrap_or(0),
                path: c.path.clone(),
                host: c.host.clone(),
                expect_status: c.expect_status.iter().map(|s| s.0.clone()).collect(),
                expect_body: c.expect_body.clone(),
            };
            Some(timing(f, at, probe, &c.interval, &c.timeout, c.rise, c.fall))
        }
    }
}

fn timing(f: &mut Findings, at: &Path, probe: Probe, interval: &Span, timeout: &Span, rise: u32, fall: u32) -> Health {
    if interval.0 < Duration::from_millis(10) {
        f.error(at.field("interval"), format!("interval {interval} is shorter than 10ms"), "probe at most every 10ms; \"1s\" to \"10s\" is usual");
    }
    if timeout.0.is_zero() {
        f.error(at.field("timeout"), "timeout is 0", "give the probe time to answer, e.g. \"1s\"");
    } else if timeout.0 >= interval.0 {
        f.error(
            at.field("timeout"),
            format!("timeout {timeout} is not shorter than interval {interval}"),
            "a probe must finish before the next one starts: make the timeout shorter than the interval",
        );
    }
    for (name, n) in [("rise", rise), ("fall", fall)] {
        if n == 0 {
            f.error(at.field(name), format!("{name} is 0"), format!("{name} counts consecutive results: use 1 or more"));
        }
    }
    Health {
        probe,
        interval: interval.0,
        timeout: timeout.0,
        rise,
        fall,
    }
}
