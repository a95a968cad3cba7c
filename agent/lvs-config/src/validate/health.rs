//! Health checks: per service, with per-real-server overrides; and what
//! quiescing a failed server means for the hashing schedulers.

use super::{address, Findings};
use crate::diagnostic::shown;
use crate::file::{self, SchedFlag};
use crate::model::Health;
use crate::path::Path;
use crate::probe::{Check, Target};
use crate::values::Span;
use lvs_ipvs::{SchedFlags, Scheduler, ServiceKey};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Above this an HTTP check reads more than a health page needs, per probe, per server.
pub(crate) const MAX_BYTES_LIMIT: u32 = 1024 * 1024;
/// Probes come at least every 10ms...
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// ... and at most an hour apart, each taking at most an hour: a check that
/// rare is no check, and the probe schedule adds these to the clock.
const MAX_CHECK_TIME: Duration = Duration::from_secs(3600);
/// The largest UDP payload one IPv4 datagram carries.
pub(crate) const MAX_UDP_PAYLOAD: usize = 65507;

/// A check as validated once per service, before it is aimed at each real server.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    check: Check,
    address: Option<IpAddr>,
    port: Option<u16>,
    interval: Duration,
    timeout: Duration,
    rise: u32,
    fall: u32,
}

impl CheckSpec {
    /// Whether the check names its own port rather than the real server's.
    pub fn has_port(&self) -> bool {
        self.port.is_some()
    }

    /// The kind of check as people say it: "TCP", "HTTP", "UDP".
    pub fn kind(&self) -> &'static str {
        match self.check {
            Check::Tcp => "TCP",
            Check::Http { .. } => "HTTP",
            Check::Udp { .. } => "UDP",
        }
    }

    /// The kind of check as the file writes it: `Tcp`, `Http`, `Udp`.
    pub fn kind_name(&self) -> &'static str {
        match self.check {
            Check::Tcp => "Tcp",
            Check::Http { .. } => "Http",
            Check::Udp { .. } => "Udp",
        }
    }

    /// The check aimed at one real server: its address and port unless the check names others.
    pub fn resolve(&self, real_server: SocketAddr) -> Health {
        let addr = SocketAddr::new(self.address.unwrap_or(real_server.ip()), self.port.unwrap_or(real_server.port()));
        Health {
            target: Target { addr, check: self.check.clone(), interval: self.interval, timeout: self.timeout },
            rise: self.rise,
            fall: self.fall,
        }
    }
}

/// The check as written, validated; None for `Off`.
pub fn health(f: &mut Findings, at: &Path, h: &file::Health) -> Option<CheckSpec> {
    let (check, address, port, timing) = match h {
        file::Health::Off => return None,
        file::Health::Tcp(c) => (Check::Tcp, c.address, c.port, Timing::of(c.interval, c.timeout, c.rise, c.fall)),
        file::Health::Http(c) => {
            http(f, at, c);
            let check = Check::Http {
                path: c.path.clone(),
                host: c.host.clone(),
                expect_status: c.expect_status.iter().map(|s| s.0.clone()).collect(),
                expect_body: c.expect_body.clone(),
                max_bytes: c.max_bytes.clamp(1, MAX_BYTES_LIMIT) as usize,
            };
            (check, c.address, c.port, Timing::of(c.interval, c.timeout, c.rise, c.fall))
        }
        file::Health::Udp(c) => {
            udp(f, at, c);
            let check = Check::Udp {
                payload: c.payload.clone().into_bytes(),
                expect: c.expect.clone().map(String::into_bytes),
            };
            (check, c.address, c.port, Timing::of(c.interval, c.timeout, c.rise, c.fall))
        }
    };
    if let Some(a) = address {
        if let Some(why) = address::not_one_host(a) {
            f.error(
                at.field("address"),
                format!("check address {a} is not the address of one host: it is {why}"),
                "write the unicast address that answers the check, or leave `address` out to probe the real server",
            );
        }
    }
    if port == Some(0) {
        f.error(
            at.field("port"),
            "check port 0",
            "write the port that answers the check, or leave `port` out to probe the real server's port",
        );
    }
    timing.check(f, at);
    Some(CheckSpec {
        check,
        address,
        port,
        interval: timing.interval.0,
        timeout: timing.timeout.0,
        rise: timing.rise,
        fall: timing.fall,
    })
}

/// sh and mh give each real server a share of a hash table, and a quiesced
/// one (weight 0) keeps its share: ip_vs_mh.c builds the table from each
/// server's last non-zero weight, ip_vs_sh.c gives a weight-0 server buckets
/// too. A new connection hashed there finds the server unavailable and is
/// dropped ("no destination available"), unless the fallback flag makes the
/// scheduler look for the next available server.
pub fn quiesce_keeps_hash_share(f: &mut Findings, at: &Path, key: &ServiceKey, s: &file::Service, flags: SchedFlags) {
    let fallback = match s.scheduler {
        Scheduler::Mh => SchedFlag::MhFallback,
        Scheduler::Sh => SchedFlag::ShFallback,
        _ => return,
    };
    if flags.fallback {
        return;
    }
    let add = if s.scheduler_flags.is_empty() {
        format!("`scheduler_flags: [{fallback:?}]`")
    } else {
        let names: Vec<String> = s.scheduler_flags.iter().chain([&fallback]).map(|x| format!("{x:?}")).collect();
        format!("{fallback:?} to `scheduler_flags` (`scheduler_flags: [{}]`)", names.join(", "))
    };
    f.warning(
        at.field("scheduler"),
        format!(
            "service {key} uses {} with health checks that quiesce a failed real server, but without {fallback:?}: \
             the quiesced server keeps its share of the hash, and new connections hashed to it are dropped",
            s.scheduler
        ),
        format!("add {add}, so that the kernel sends them to the next available server, or set `when_down: Remove`"),
    );
}

fn http(f: &mut Findings, at: &Path, c: &file::HttpCheck) {
    // The path and Host go into the request as written: a CR or LF would end
    // the request line or add headers, a space would split the request line.
    if c.path.chars().any(|ch| ch.is_control() || ch.is_whitespace()) {
        f.error(
            at.field("path"),
            format!("HTTP check path `{}` holds a space or a control character", shown(&c.path)),
            "it is sent as written in the request line: write the path part of the URL with spaces \
             percent-encoded (%20) and no control characters, e.g. \"/health\"",
        );
    } else if !c.path.starts_with('/') {
        f.error(
            at.field("path"),
            format!("HTTP check path `{}` does not start with '/'", shown(&c.path)),
            format!("write the path part of the URL, e.g. \"/{}\"", shown(c.path.trim_start_matches('/'))),
        );
    }
    if c.expect_status.is_empty() {
        f.error(
            at.field("expect_status"),
            "expect_status is empty, so no answer could pass",
            "list the codes that mean healthy, e.g. [200] or [200, \"300-399\"]",
        );
    }
    if matches!(&c.host, Some(h) if h.is_empty() || h.contains(|ch: char| ch.is_whitespace() || ch.is_control())) {
        f.error(
            at.field("host"),
            "the Host header is empty or has spaces or control characters",
            "it is sent as written: write a host name, e.g. \"www.example.com\"",
        );
    }
    if c.max_bytes == 0 || c.max_bytes > MAX_BYTES_LIMIT {
        f.error(
            at.field("max_bytes"),
            format!("max_bytes {} is outside 1 to {MAX_BYTES_LIMIT}", c.max_bytes),
            "a health page needs little: leave it out for 64 KiB (65536), or give up to 1 MiB (1048576)",
        );
    } else if let Some(body) = c.expect_body.as_ref().filter(|b| b.len() > c.max_bytes as usize) {
        f.error(
            at.field("expect_body"),
            format!("expect_body is {} bytes, more than the {} bytes read (max_bytes)", body.len(), c.max_bytes),
            "the check could never pass: shorten expect_body or raise max_bytes",
        );
    }
}

fn udp(f: &mut Findings, at: &Path, c: &file::UdpCheck) {
    if c.payload.len() > MAX_UDP_PAYLOAD {
        f.error(
            at.field("payload"),
            format!("the UDP payload is {} bytes; one datagram carries at most {MAX_UDP_PAYLOAD}", c.payload.len()),
            "send a short request, such as the service's own ping or status query",
        );
    }
    if c.expect.as_deref() == Some("") {
        f.error(
            at.field("expect"),
            "expect is empty, which every reply contains",
            "remove `expect` to accept any reply, or write the text a healthy reply contains",
        );
    }
}

struct Timing {
    interval: Span,
    timeout: Span,
    rise: u32,
    fall: u32,
}

impl Timing {
    fn of(interval: Span, timeout: Span, rise: u32, fall: u32) -> Timing {
        Timing { interval, timeout, rise, fall }
    }

    fn check(&self, f: &mut Findings, at: &Path) {
        let Timing { interval, timeout, rise, fall } = self;
        if interval.0 < MIN_INTERVAL {
            f.error(
                at.field("interval"),
                format!("interval {interval} is shorter than 10ms"),
                "probe at most every 10ms; \"1s\" to \"10s\" is usual (10ms to 1h)",
            );
        } else if interval.0 > MAX_CHECK_TIME {
            f.error(
                at.field("interval"),
                format!("interval {interval} is longer than 1h"),
                "probe at least once an hour, or turn the check off with `health: Off`; \"1s\" to \"10s\" is usual \
                 (10ms to 1h)",
            );
        }
        if timeout.0.is_zero() {
            f.error(at.field("timeout"), "timeout is 0", "give the probe time to answer, e.g. \"1s\"");
        } else if timeout.0 > MAX_CHECK_TIME {
            f.error(
                at.field("timeout"),
                format!("timeout {timeout} is longer than 1h"),
                "give the probe at most 1h, and less than the interval; \"1s\" is usual",
            );
        } else if timeout.0 >= interval.0 {
            f.error(
                at.field("timeout"),
                format!("timeout {timeout} is not shorter than interval {interval}"),
                "a probe must finish before the next one starts: make the timeout shorter than the interval",
            );
        }
        for (name, n) in [("rise", *rise), ("fall", *fall)] {
            if n == 0 {
                f.error(
                    at.field(name),
                    format!("{name} is 0"),
                    format!("{name} counts consecutive results: use 1 or more"),
                );
            }
        }
    }
}
