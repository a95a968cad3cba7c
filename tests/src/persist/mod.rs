//! The persist lab (issue 7): a director that saves its state, restores it,
//! and takes a new config file while it runs.
//!
//! - [`session`]: ds, rs1, rs2, rs3 and test code as a client sending
//!   requests in a loop; the test swaps in a file that adds rs3 and changes
//!   rs1's weight, kills the agent with SIGKILL, then swaps in an invalid
//!   file. No request may fail, the table must follow the file as a diff and
//!   stay as it is across the restart and the invalid file. Judged by
//!   [`judge`] on the recorded timeline.
//! - [`reboot`]: ds on a state disk with rs1 and rs2 up; rebooted, its rules
//!   are back before its first probe completes (the log's timestamps).
//! - [`damage`]: ds alone on copies of a state disk whose state.ron was cut
//!   short or had a byte flipped: every boot succeeds, the table comes from
//!   the config, and the log says the state was ignored.
//!
//! The files are in `tests/lab/persist/`; [`plan`] loads them and checks
//! they make the lab the tests assume (no root needed). docs/LAB.md has the
//! section.

pub mod damage;
pub mod judge;
pub mod lab;
pub mod reboot;
pub mod session;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use lvs_config::model::Role;

use crate::watch::files::{load, machine};
use crate::watch::status::{self, Line};
pub use crate::watch::{Check, Machine};

/// The director's busybox nc (`-ll`: a shell per connection, for as long as
/// the VM runs) answers every connection to this port with
/// `tests/lab/persist/control.sh`: `status`, `swap`, `kill`, `log`, `reboot`.
pub const CONTROL_PORT: u16 = 9999;
/// The client, the test itself, on the lab's bridge.
pub const CLIENT: &str = "192.0.2.1/24";
/// Where the director's config is in its initramfs, and where PID 1 points
/// the agent when no disk has a config partition: the file the test swaps.
pub const GUEST_CONFIG: &str = "/etc/lvs/appliance.ron";
/// How often the agent looks at its config file (the contract of issue 7).
pub const FILE_POLL: Duration = Duration::from_secs(1);
/// What TCG adds to a bound the director's own settings give: four guests on
/// two cores (a probe or a file poll starts late), and sampling (a change
/// shows at the end of the status poll that reads it, 0.1–0.3 s under TCG;
/// a console line reaches the host a moment after the guest printed it).
pub const ALLOWANCE: Duration = Duration::from_millis(1500);

/// The lab's files, relative to the repository.
pub const DIRECTOR: &str = "tests/lab/persist/ds.ron";
pub const SWAP: &str = "tests/lab/persist/ds-swap.ron";
pub const INVALID: &str = "tests/lab/persist/ds-invalid.ron";
pub const REAL_SERVERS: [&str; 3] =
    ["tests/lab/persist/rs1.ron", "tests/lab/persist/rs2.ron", "tests/lab/persist/rs3.ron"];

/// One real server line of a table: address, forwarding, weight.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dest {
    pub addr: SocketAddr,
    pub forward: String,
    pub weight: u32,
}

/// The rules of an IPVS table, as `lvs-agent status` (ipvsadm -Ln's layout)
/// lists them, without the connection counters: each service line (spaces
/// squeezed: `TCP 192.0.2.80:80 rr`) with its real servers. Two tables with
/// the same rules are the same table to a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub services: Vec<(String, Vec<Dest>)>,
}

impl Rules {
    /// Reads `lvs-agent status` output.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        for line in status::lines(text)? {
            match line {
                Line::Service(service) => rules.services.push((service, Vec::new())),
                Line::Dest { addr, forward, weight, text } => {
                    let (Some(forward), Some(weight)) = (forward, weight) else {
                        return Err(format!("no forwarding and weight in {text:?}"));
                    };
                    let Some((_, dests)) = rules.services.last_mut() else {
                        return Err(format!("a real server before any service: {text:?}"));
                    };
                    dests.push(Dest { addr, forward: forward.to_string(), weight });
                }
            }
        }
        Ok(rules)
    }

    /// The weights of the real servers of the service whose line is `service`.
    pub fn weights(&self, service: &str) -> Option<BTreeMap<SocketAddr, u32>> {
        self.services.iter().find(|(s, _)| s == service).map(|(_, d)| d.iter().map(|d| (d.addr, d.weight)).collect())
    }

    /// One line for the timeline: `TCP 192.0.2.80:80 rr: rs1 3, rs2 1`,
    /// real servers named by `names` where known.
    pub fn render(&self, names: &BTreeMap<SocketAddr, String>) -> String {
        if self.services.is_empty() {
            return "no service".into();
        }
        let one = |(line, dests): &(String, Vec<Dest>)| {
            let d: Vec<String> = dests
                .iter()
                .map(|d| {
                    let who = names.get(&d.addr).cloned().unwrap_or_else(|| d.addr.to_string());
                    if d.forward == "Route" {
                        format!("{who} {}", d.weight)
                    } else {
                        format!("{who} {} {}", d.forward, d.weight)
                    }
                })
                .collect();
            format!("{line}: {}", if d.is_empty() { "no real server".into() } else { d.join(", ") })
        };
        self.services.iter().map(one).collect::<Vec<_>>().join(" | ")
    }
}

// What the check means for this lab's swap is this lab's to say.
impl Check {
    /// From a swapped file landing to its table, with a new real server up:
    /// the agent notices the file within [`FILE_POLL`], adds the server down
    /// (`initial: Down`), its probes start within an interval, and it is up
    /// at its first pass (a fresh server needs no `rise`); `rise` more
    /// intervals leave room for a first probe that fails before it listens.
    pub fn swap_within(&self) -> Duration {
        FILE_POLL + self.interval + self.interval * self.rise
    }
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub director: Machine,
    /// rs1, rs2, rs3.
    pub real_servers: [Machine; 3],
    /// The service the client sends to.
    pub service: SocketAddr,
    /// The service's line in `lvs-agent status`: `TCP 192.0.2.80:80 rr`.
    pub service_line: String,
    /// ds.ron with rs1 and rs2 up.
    pub base: Rules,
    /// ds.ron with nothing up: what a director alone programs from its
    /// config (every real server starts down, quiesced).
    pub base_down: Rules,
    /// ds-swap.ron with rs1, rs2 and rs3 up.
    pub swapped: Rules,
    pub check: Check,
    /// `file:line:column` of each error `lvs-agent check` finds in
    /// ds-invalid.ron when it is the guest's config file, as the agent must
    /// name them (`appliance.ron:23:41`).
    pub invalid_at: Vec<String>,
    /// Those errors in full, for the report.
    pub invalid_diagnostics: String,
}

/// The one DR service of a director file: its address, line and real servers'
/// (address, weight), each checked by the same HTTP check.
struct OneService {
    addr: SocketAddr,
    line: String,
    dests: Vec<(SocketAddr, u32)>,
    check: Check,
}

fn one_service(file: &'static str) -> Result<(lvs_config::model::Appliance, OneService), String> {
    let loaded = load(file)?;
    let Role::Director(dir) = &loaded.model.role else {
        return Err(format!("{file} is not a director"));
    };
    let [svc] = dir.services.as_slice() else {
        return Err(format!("{file}: the lab has one service, the file {}", dir.services.len()));
    };
    let lvs_ipvs::ServiceKey::Inet { addr, .. } = svc.service.key else {
        return Err(format!("{file}: the service is a fwmark service"));
    };
    if svc.service.scheduler != lvs_ipvs::Scheduler::Rr {
        return Err(format!("{file}: the client's answers assume rr, the service runs {:?}", svc.service.scheduler));
    }
    if svc.when_down != lvs_config::file::WhenDown::Quiesce || svc.initial != lvs_config::file::Initial::Down {
        return Err(format!("{file}: the tests assume `when_down: Quiesce` and `initial: Down`"));
    }
    let mut checks = Vec::new();
    let mut dests = Vec::new();
    for r in &svc.real_servers {
        if r.dest.forward != lvs_ipvs::Forward::DirectRouting || r.dest.weight == 0 {
            return Err(format!("{file}: {} must be forwarded by DR with a weight above 0", r.dest.addr));
        }
        match &r.health {
            Some(h) if matches!(h.target.check, lvs_agent::health::target::Check::Http { .. }) => {
                checks.push(Check::of(h));
            }
            _ => return Err(format!("{file}: {} needs the service's HTTP check", r.dest.addr)),
        }
        dests.push((r.dest.addr, r.dest.weight));
    }
    let check = *checks.first().ok_or_else(|| format!("{file}: no real servers"))?;
    if checks.iter().any(|c| *c != check) {
        return Err(format!("{file}: every real server needs the one HTTP check"));
    }
    let line = format!("TCP {addr} rr");
    let model = loaded.model.clone();
    Ok((model, OneService { addr, line, dests, check }))
}

fn rules(line: &str, dests: impl IntoIterator<Item = (SocketAddr, u32)>) -> Rules {
    Rules {
        services: vec![(
            line.to_string(),
            dests.into_iter().map(|(addr, weight)| Dest { addr, forward: "Route".into(), weight }).collect(),
        )],
    }
}

/// Loads the lab's files and checks that they make the lab the tests assume:
/// one DR rr service, `initial: Down` and quiesce, every real server checked
/// by one HTTP check; ds.ron names rs1 and rs2; ds-swap.ron the same service
/// with rs1's weight changed and rs3 added; ds-invalid.ron refused by the
/// agent's own validation, with positions; every real server holds the VIP
/// and answers a body the client tells apart.
pub fn plan() -> Result<Plan, String> {
    let (ds_model, base) = one_service(DIRECTOR)?;
    let (_, swap) = one_service(SWAP)?;
    let director = machine(DIRECTOR, &ds_model)?;
    if base.addr != swap.addr || base.check != swap.check {
        return Err(format!("{SWAP} must keep {DIRECTOR}'s service and check"));
    }

    let mut real_servers = Vec::new();
    for file in REAL_SERVERS {
        let cfg = load(file)?;
        let Role::RealServer(rs) = &cfg.model.role else {
            return Err(format!("{file} is not a real server"));
        };
        if !rs.vips.contains(&base.addr.ip()) {
            return Err(format!("{file}: DR needs the VIP {} on the real server", base.addr.ip()));
        }
        let m = machine(file, &cfg.model)?;
        match rs.http.as_ref().map(|h| (&h.content, h.port)) {
            Some((lvs_config::model::HttpContent::Body(body), port)) if *body == m.body && port == base.addr.port() => {
            }
            _ => {
                return Err(format!(
                    "{file}: the real server must answer with its hostname (`http: StaticHttp()`) on port {}",
                    base.addr.port()
                ))
            }
        }
        real_servers.push(m);
    }
    let addr_of = |m: &Machine| SocketAddr::new(m.address, base.addr.port());
    let [rs1, rs2, rs3] = [addr_of(&real_servers[0]), addr_of(&real_servers[1]), addr_of(&real_servers[2])];
    let base_addrs: Vec<SocketAddr> = base.dests.iter().map(|d| d.0).collect();
    if base_addrs != [rs1, rs2] {
        return Err(format!("{DIRECTOR}: the service must go to rs1 and rs2 ({rs1}, {rs2}), not {base_addrs:?}"));
    }
    let swap_addrs: Vec<SocketAddr> = swap.dests.iter().map(|d| d.0).collect();
    if swap_addrs != [rs1, rs2, rs3] {
        return Err(format!("{SWAP}: the service must go to rs1, rs2 and rs3, not {swap_addrs:?}"));
    }
    if swap.dests[0].1 == base.dests[0].1 || swap.dests[1].1 != base.dests[1].1 {
        return Err(format!("{SWAP}: the swap changes rs1's weight and keeps rs2's"));
    }

    let text =
        std::fs::read_to_string(crate::repo_root().join(INVALID)).map_err(|e| format!("reading {INVALID}: {e}"))?;
    let (invalid_at, invalid_diagnostics) = match lvs_config::parse(&text, Path::new(GUEST_CONFIG)) {
        Ok(_) => return Err(format!("{INVALID} is valid; it must not be")),
        Err(lvs_config::ConfigError::Invalid { errors, .. }) => {
            let mut at = Vec::new();
            for e in &errors {
                let p = e.position.ok_or_else(|| format!("{INVALID}: an error without a position: {e}"))?;
                at.push(format!("appliance.ron:{}:{}", p.line, p.column));
            }
            (at, errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))
        }
        Err(e) => return Err(format!("{INVALID}: {e}")),
    };

    let bodies: Vec<&String> = real_servers.iter().map(|m| &m.body).collect();
    if bodies[0] == bodies[1] || bodies[0] == bodies[2] || bodies[1] == bodies[2] {
        return Err(format!("the client cannot tell the answers apart: {bodies:?}"));
    }
    let real_servers: [Machine; 3] = real_servers.try_into().map_err(|_| "three real servers".to_string())?;
    Ok(Plan {
        director,
        real_servers,
        service: base.addr,
        base: rules(&base.line, base.dests.iter().copied()),
        base_down: rules(&base.line, base.dests.iter().map(|(a, _)| (*a, 0))),
        swapped: rules(&swap.line, swap.dests.iter().copied()),
        service_line: base.line,
        check: base.check,
        invalid_at,
        invalid_diagnostics,
    })
}

impl Plan {
    /// The real servers' names by their address on the service, for tables.
    pub fn names(&self) -> BTreeMap<SocketAddr, String> {
        self.real_servers.iter().map(|m| (SocketAddr::new(m.address, self.service.port()), m.name.clone())).collect()
    }

    pub fn labels(&self) -> [String; 3] {
        self.real_servers.clone().map(|m| m.name)
    }

    pub fn bodies(&self) -> [String; 3] {
        self.real_servers.clone().map(|m| m.body)
    }
}

/// A line that says the agent sent the kernel a change: one of plan's
/// `+`/`~`/`-` lines, or the reconciler's drift repair or retry.
pub fn is_change(text: &str) -> bool {
    ["+ ", "~ ", "- ", "drift repaired", "retried: "].iter().any(|p| text.starts_with(p))
}

// The contract's log lines (issue 7), each the start of the text.
pub const RESTORED: &str = "state: restored ";
pub const NO_STATE: &str = "state: no saved state";
pub const IGNORED: &str = "state: ignored ";
pub const FIRST_PROBE: &str = "health: first probe result: ";
pub const RELOADING: &str = "config: reloading ";
pub const INVALID_KEPT: &str = "config: invalid, the running config stays: ";
pub const APPLIED: &str = "config: applied ";

/// FNV-1a, 64 bits: the state file's checksum.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// What a sound state file's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateHeader {
    /// The header line's length with its newline: where the body starts.
    pub header_len: usize,
    pub body_len: usize,
    pub hash: u64,
}

/// Checks a state file as the contract has it: a first line
/// `lvs-agent-state 1 <body length> <fnv1a64 hex of body>`, then the body,
/// exactly that long, with that hash.
pub fn check_state(bytes: &[u8]) -> Result<StateHeader, String> {
    let nl =
        bytes.iter().position(|b| *b == b'\n').ok_or_else(|| format!("no header line in {} bytes", bytes.len()))?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "the header is not UTF-8".to_string())?;
    let f: Vec<&str> = header.split(' ').collect();
    let [magic, version, len, hash] = f.as_slice() else {
        return Err(format!("the header {header:?} is not `lvs-agent-state 1 <length> <fnv1a64>`"));
    };
    if *magic != "lvs-agent-state" || *version != "1" {
        return Err(format!("the header {header:?} does not start `lvs-agent-state 1 `"));
    }
    let body_len: usize = len.parse().map_err(|_| format!("the header's length {len:?} is not a number"))?;
    let hash = u64::from_str_radix(hash, 16).map_err(|_| format!("the header's checksum {hash:?} is not hex"))?;
    let body = &bytes[nl + 1..];
    if body.len() != body_len {
        return Err(format!("the header says {body_len} bytes of body, the file has {}", body.len()));
    }
    if fnv1a64(body) != hash {
        return Err(format!("the body's fnv1a64 is {:016x}, the header says {hash:016x}", fnv1a64(body)));
    }
    Ok(StateHeader { header_len: nl + 1, body_len, hash })
}

/// One damaged copy of a state file, as a power cut or a bad sector leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Names the VM and its disk: `cut-0`, `flip-body-digit`.
    pub name: String,
    pub what: String,
    pub bytes: Vec<u8>,
}

/// Damaged copies of `good`, a sound state file: cut short at four offsets
/// (nothing left, inside the header, inside the body, the last byte gone)
/// and one byte flipped at four (the header's magic, its length, the body's
/// last digit, so that the RON still parses and only the checksum can tell,
/// and the last byte).
pub fn damages(good: &[u8]) -> Result<Vec<Damage>, String> {
    let h = check_state(good)?;
    let n = good.len();
    let body_mid = h.header_len + h.body_len / 2;
    let cut = |name: &str, at: usize, what: &str| Damage {
        name: format!("cut-{name}"),
        what: format!("cut short after {at} of {n} bytes ({what})"),
        bytes: good[..at].to_vec(),
    };
    let flip = |name: &str, at: usize, what: &str| {
        let mut bytes = good.to_vec();
        bytes[at] ^= 0x01;
        Damage {
            name: format!("flip-{name}"),
            what: format!(
                "byte {at} of {n} flipped, {:?} -> {:?} ({what})",
                char::from(good[at]),
                char::from(bytes[at])
            ),
            bytes,
        }
    };
    // The length is the header's third field.
    let len_at = good[..h.header_len]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b' ')
        .nth(1)
        .map(|(i, _)| i + 1)
        .ok_or("no length field")?;
    // The last digit: in the saved table, as the agent writes its state today.
    let digit_at = (h.header_len..n).rev().find(|i| good[*i].is_ascii_digit()).ok_or("no digit in the body")?;
    if h.body_len < 2 {
        return Err(format!("a body of {} bytes is too short to cut in its middle", h.body_len));
    }
    Ok(vec![
        cut("0", 0, "an empty file"),
        cut("header", h.header_len / 2, "inside the header"),
        cut("body", body_mid, "inside the body"),
        cut("last", n - 1, "the last byte gone"),
        flip("magic", 0, "the header's first byte"),
        flip("length", len_at, "the header's body length"),
        flip("body-digit", digit_at, "the body's last digit: the RON still parses"),
        flip("last", n - 1, "the body's last byte"),
    ])
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_files_plan() {
        let p = plan().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.labels(), ["rs1", "rs2", "rs3"]);
        assert_eq!(p.bodies(), ["rs1\n", "rs2\n", "rs3\n"]);
        assert_eq!(p.service, "192.0.2.80:80".parse().unwrap());
        assert_eq!(p.service_line, "TCP 192.0.2.80:80 rr");
        for ip in [p.director.address, p.service.ip()].into_iter().chain(p.real_servers.iter().map(|m| m.address)) {
            crate::lab::ensure_lab_address(ip).unwrap();
        }
        let names = p.names();
        assert_eq!(p.base.render(&names), "TCP 192.0.2.80:80 rr: rs1 1, rs2 1");
        assert_eq!(p.base_down.render(&names), "TCP 192.0.2.80:80 rr: rs1 0, rs2 0");
        assert_eq!(p.swapped.render(&names), "TCP 192.0.2.80:80 rr: rs1 3, rs2 1, rs3 1");
        assert_eq!(p.invalid_at, ["appliance.ron:23:41"], "{}", p.invalid_diagnostics);
        assert!(
            p.invalid_diagnostics.starts_with("/etc/lvs/appliance.ron:23:41: error: real server 192.0.2.24:8080"),
            "{}",
            p.invalid_diagnostics
        );
        assert_eq!(p.check.swap_within(), Duration::from_secs(4));
    }

    #[test]
    fn parses_status_rules_without_counters() {
        let status = status::sample(&[("192.0.2.21:80", 3, 0, 3), ("192.0.2.22:80", 1, 1, 2)]);
        let r = Rules::parse(&status).unwrap();
        let p = plan().unwrap();
        let mut expected = p.swapped.clone();
        expected.services[0].1.pop();
        assert_eq!(r, expected);
        // Counters are not rules.
        assert_eq!(Rules::parse(&status.replace("1          2", "0          9")).unwrap(), r);
        assert_eq!(r.weights("TCP 192.0.2.80:80 rr").unwrap().values().copied().collect::<Vec<_>>(), [3, 1]);
        assert!(Rules::parse("sh: lvs-agent: not found").is_err());
        assert_eq!(
            Rules::parse("IP Virtual Server\n  -> 192.0.2.21:80 Route\n"),
            Err("no forwarding and weight in \"  -> 192.0.2.21:80 Route\"".into())
        );
        assert_eq!(
            Rules::parse("IP Virtual Server\n  -> 192.0.2.21:80 Route 1\n"),
            Err("a real server before any service: \"  -> 192.0.2.21:80 Route 1\"".into())
        );
        assert_eq!(Rules::parse("IP Virtual Server version 1.2.1 (size=4096)\n").unwrap(), Rules::default());
    }

    #[test]
    fn tells_change_lines() {
        assert!(is_change("~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 3") && is_change("- TCP 192.0.2.80:80"));
        assert!(!is_change("ready") && !is_change("state: restored 1 service"));
    }

    fn state_file(body: &str) -> Vec<u8> {
        format!("lvs-agent-state 1 {} {:016x}\n{body}", body.len(), fnv1a64(body.as_bytes())).into_bytes()
    }

    #[test]
    fn fnv1a64_is_the_published_one() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn a_sound_state_file_checks_and_every_damage_is_caught() {
        let good = state_file("State(\n    table: [(\"192.0.2.21:80\", 1)],\n)\n");
        let h = check_state(&good).unwrap();
        assert_eq!(h.header_len, good.iter().position(|b| *b == b'\n').unwrap() + 1);
        let d = damages(&good).unwrap();
        assert_eq!(d.len(), 8);
        let mut names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), 8, "{names:?}");
        for damage in &d {
            assert!(check_state(&damage.bytes).is_err(), "{}: {}", damage.name, damage.what);
            assert_ne!(damage.bytes, good);
        }
        let digit = d.iter().find(|d| d.name == "flip-body-digit").unwrap();
        assert_eq!(digit.bytes.len(), good.len());
        let at = (0..good.len()).find(|i| good[*i] != digit.bytes[*i]).unwrap();
        assert!(at >= h.header_len && digit.bytes[at].is_ascii_digit(), "{}", digit.what);
        assert!(d[0].bytes.is_empty());
        assert!(check_state(b"lvs-agent-state 1 3 0\nabc").unwrap_err().contains("fnv1a64"));
        assert!(check_state(b"lvs-agent-state 2 0 cbf29ce484222325\n").is_err());
        assert!(check_state(b"lvs-agent-state 1 0 cbf29ce484222325\n").is_ok());
    }
}
