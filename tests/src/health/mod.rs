//! The health lab (issue 6): a DR director with an HTTP check, two real
//! servers running busybox httpd, a sorry server, and test code in the lab's
//! namespace as a client sending requests in a loop. The test stops and
//! continues the real servers' httpd through a control port on each, polls
//! the director's IPVS table through its status port, and judges the whole
//! timeline afterwards against bounds taken from the director's own check.
//!
//! The files are in `tests/lab/health/`; [`plan`] loads them and checks they
//! make the lab the test assumes (no root needed). [`run`] drives the lab,
//! [`timeline::judge`] says what went wrong. docs/LAB.md has the section.

pub mod run;
pub mod timeline;

use std::net::SocketAddr;
use std::time::Duration;

use lvs_config::model::{HttpContent, Role};

use crate::watch::files::{load, machine};
pub use crate::watch::{Check, Machine};
pub use run::{run, Outcome};
pub use timeline::{judge, Bounds, Step, Timeline};

/// The director's busybox nc (`-ll`: a shell per connection, for as long as
/// the VM runs) answers every connection to this port with
/// `tests/lab/health/status.sh`, the agent's `lvs-agent status`.
pub const STATUS_PORT: u16 = 9999;
/// Each real server's busybox nc runs `tests/lab/health/control.sh` for every
/// connection to this port: one word in (`stop`, `cont`, `state`), one line out.
pub const CONTROL_PORT: u16 = 9998;
/// The client, the test itself, on the lab's bridge.
pub const CLIENT: &str = "192.0.2.1/24";

/// What TCG adds to the bounds the check itself sets (fall × interval +
/// timeout to go down, rise × interval to come back). Four guests share two
/// host cores, so a probe can start late and a status read takes a while;
/// and what the test sees is sampled: the control message's round trip is
/// counted against the director (the stop is known only to have happened by
/// the reply), a change shows at the end of the status poll that read it
/// (busybox nc forks sh, which runs the agent: 0.1–0.3 s under TCG), and an
/// answer from a server that came back waits for the client's next request
/// (100 ms apart, and rr may give the first one to the other server).
pub const ALLOWANCE: Duration = Duration::from_millis(1000);

#[derive(Clone, Debug)]
pub struct Plan {
    pub director: Machine,
    /// rs1 and rs2, in the director's order.
    pub real_servers: [Machine; 2],
    pub sorry: Machine,
    /// The service the client sends to.
    pub service: SocketAddr,
    /// The real servers and the sorry server as the director's table names
    /// them: rs1, rs2, sorry.
    pub dests: [SocketAddr; 3],
    /// The configured weights of rs1 and rs2: what an up real server has.
    pub weights: [u32; 2],
    pub check: Check,
}

// What the check means for this lab's steps is this lab's to say.
impl Check {
    /// When a real server whose httpd hangs must be at weight 0: the last
    /// passing probe may have ended just before the stop, then `fall`
    /// probes, one per interval, each failing only when its timeout runs out.
    pub fn down_within(&self) -> Duration {
        self.interval * self.fall + self.timeout
    }

    /// When a real server whose httpd answers again must be back: `rise`
    /// passing probes, one per interval.
    pub fn up_within(&self) -> Duration {
        self.interval * self.rise
    }

    pub fn bounds(&self, allowance: Duration) -> Bounds {
        Bounds {
            down: (self.down_within() + allowance).as_secs_f64(),
            up: (self.up_within() + allowance).as_secs_f64(),
        }
    }
}

pub const FILES: [&str; 4] = [
    "tests/lab/health/director.ron",
    "tests/lab/health/rs1.ron",
    "tests/lab/health/rs2.ron",
    "tests/lab/health/sorry.ron",
];

/// Loads the four files and checks that they make the lab the test assumes:
/// the director's one service goes by DR to exactly rs1 and rs2, both probed
/// by the same HTTP check, with the sorry server named; each real server and
/// the sorry server hold the VIP; the client tells all three apart.
pub fn plan() -> Result<Plan, String> {
    let [d, r1, r2, s] = FILES;
    let director_cfg = load(d)?;
    let Role::Director(dir) = &director_cfg.model.role else {
        return Err(format!("{d} is not a director"));
    };
    let [svc] = dir.services.as_slice() else {
        return Err(format!("{d}: the lab has one service, the file {}", dir.services.len()));
    };
    let lvs_ipvs::ServiceKey::Inet { addr: service, .. } = svc.service.key else {
        return Err(format!("{d}: the service is a fwmark service"));
    };
    if svc.service.scheduler != lvs_ipvs::Scheduler::Rr {
        return Err(format!("{d}: the client's answers assume rr, the service runs {:?}", svc.service.scheduler));
    }
    if svc.when_down != lvs_config::file::WhenDown::Quiesce {
        return Err(format!(
            "{d}: the test looks for a failed real server at weight 0, which needs `when_down: Quiesce`"
        ));
    }
    let director = Machine { body: String::new(), ..machine(d, &director_cfg.model)? };

    let mut real_servers = Vec::new();
    for file in [r1, r2] {
        let cfg = load(file)?;
        let Role::RealServer(rs) = &cfg.model.role else {
            return Err(format!("{file} is not a real server"));
        };
        if !rs.vips.contains(&service.ip()) {
            return Err(format!("{file}: DR needs the VIP {} on the real server", service.ip()));
        }
        if !rs.workloads.iter().any(|w| w.args.first().is_some_and(|a| a == "httpd")) {
            return Err(format!("{file}: the control port stops busybox httpd, and no workload runs it"));
        }
        // run.rs writes its body as the real server's /www/index.html.
        real_servers.push(machine(file, &cfg.model)?);
    }
    let sorry_cfg = load(s)?;
    let sorry_body = match &sorry_cfg.model.role {
        Role::RealServer(rs) if rs.vips.contains(&service.ip()) => match rs.http.as_ref().map(|h| &h.content) {
            Some(HttpContent::Body(body)) => body.clone(),
            _ => return Err(format!("{s}: the sorry server must answer a fixed body")),
        },
        _ => return Err(format!("{s}: the sorry server must be a real server holding the VIP {}", service.ip())),
    };
    let sorry = Machine { body: sorry_body, ..machine(s, &sorry_cfg.model)? };

    let find = |m: &Machine| svc.real_servers.iter().find(|r| r.dest.addr.ip() == m.address);
    let (Some(a), Some(b)) = (find(&real_servers[0]), find(&real_servers[1])) else {
        return Err(format!("{d}: the service must go to {} and {}", real_servers[0].address, real_servers[1].address));
    };
    if svc.real_servers.len() != 2 {
        return Err(format!("{d}: the service must go to rs1 and rs2 only"));
    }
    for r in [a, b] {
        if r.dest.forward != lvs_ipvs::Forward::DirectRouting || r.dest.weight == 0 {
            return Err(format!("{d}: {} must be forwarded by DR with a weight above 0", r.dest.addr));
        }
    }
    let check = match (&a.health, &b.health) {
        (Some(x), Some(y))
            if x.target.check == y.target.check
                && Check::of(x) == Check::of(y)
                && matches!(x.target.check, lvs_agent::health::target::Check::Http { .. }) =>
        {
            Check::of(x)
        }
        _ => return Err(format!("{d}: both real servers need the one HTTP check")),
    };
    let sorry_dest = svc.sorry_server.as_ref().map(|s| s.addr).ok_or_else(|| format!("{d}: no sorry_server"))?;
    if sorry_dest.ip() != sorry.address {
        return Err(format!("{d}: the sorry server is {sorry_dest}, {s} is {}", sorry.address));
    }
    let bodies = [&real_servers[0].body, &real_servers[1].body, &sorry.body];
    if bodies[0] == bodies[1] || bodies[0] == bodies[2] || bodies[1] == bodies[2] {
        return Err(format!("the client cannot tell the answers apart: {bodies:?}"));
    }
    let real_servers: [Machine; 2] = real_servers.try_into().map_err(|_| "two real servers".to_string())?;
    Ok(Plan {
        director,
        real_servers,
        sorry,
        service,
        dests: [a.dest.addr, b.dest.addr, sorry_dest],
        weights: [a.dest.weight, b.dest.weight],
        check,
    })
}

impl Plan {
    /// Names for answers and table entries: rs1, rs2, sorry.
    pub fn labels(&self) -> [String; 3] {
        [self.real_servers[0].name.clone(), self.real_servers[1].name.clone(), self.sorry.name.clone()]
    }

    pub fn bodies(&self) -> [String; 3] {
        [self.real_servers[0].body.clone(), self.real_servers[1].body.clone(), self.sorry.body.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_files_plan() {
        let p = plan().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.labels(), ["rs1", "rs2", "sorry"]);
        assert_eq!(p.bodies(), ["rs1\n", "rs2\n", "sorry\n"]);
        assert_eq!(p.service, "192.0.2.80:80".parse().unwrap());
        for ip in
            [p.director.address, p.real_servers[0].address, p.real_servers[1].address, p.sorry.address, p.service.ip()]
        {
            crate::lab::ensure_lab_address(ip).unwrap();
        }
        // The run must fit in about a minute: each step waits at most its
        // bound, and the test holds a few seconds after each.
        assert!(
            p.check.down_within() <= Duration::from_secs(4) && p.check.up_within() <= Duration::from_secs(3),
            "{:?}",
            p.check
        );
    }

    #[test]
    fn bounds_follow_the_check() {
        let c = Check { interval: Duration::from_secs(1), timeout: Duration::from_millis(500), rise: 2, fall: 2 };
        assert_eq!(c.down_within(), Duration::from_millis(2500));
        assert_eq!(c.up_within(), Duration::from_secs(2));
        let b = c.bounds(Duration::from_millis(1000));
        assert!((b.down - 3.5).abs() < 1e-9 && (b.up - 3.0).abs() < 1e-9);
    }
}
