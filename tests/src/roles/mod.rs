//! The seeds' setups as lab scenarios: a director and two real servers booted
//! as VMs from the example RON files (renumbered into the lab's addresses by
//! [`mapping`]), and test code in the lab's namespace as the client that
//! counts which real server answered each request. `tests/tests/lab_roles.rs`
//! runs every scenario; `make demo` (src/bin/demo.rs) runs seed 001's.
//! docs/LAB.md has the table of scenarios and the mapping rules.

pub mod expect;
pub mod mapping;
pub mod run;

use std::net::{IpAddr, SocketAddr};

use lvs_config::model::Role;
use lvs_ipvs::{Forward, Scheduler, ServiceKey};

pub use expect::{judge, render_sequence};
use mapping::{derive, Derived, Edit, SeedMap, Twin};
pub use run::{run, Outcome, RunOptions};

/// How the VMs and the client are wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Director (eth0), real servers (eth0) and the client on one bridge:
    /// DR and TUN, where real servers answer the client directly.
    OneLan,
    /// The client and the director's eth0 on a front bridge; the director's
    /// eth1 and the real servers on a back bridge the client is not on, so
    /// that replies can only come back through the director.
    Nat,
}

/// Who answers HTTP on the real servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http {
    /// The agent's built-in server (`http: StaticHttp(...)` in the file).
    Builtin,
    /// busybox httpd as a supervised workload (`workloads: [...]` in the
    /// file), serving /www/index.html, which the lab writes with the real
    /// server's own address, as seed 004's `echo "192.168.2.100" > index.html`.
    BusyboxIndex,
}

/// What the client's answers must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Round robin: no real server twice in a row.
    Alternate,
    /// Weighted round robin with these weights (real servers in scenario
    /// order): every run of `w1 + w2` consecutive answers holds exactly `w1`
    /// of the first.
    Split { weights: [u32; 2] },
    /// Persistence: every answer to the client from one real server; then a
    /// second client (this seed-side address, on the same bridge) also sticks
    /// to one, the other (wlc sends it to the server with fewer connections,
    /// which shows that server was up all along).
    Sticky { second_client: &'static str },
}

/// One example file and the edits the scenario makes to it.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// Relative to the repository.
    pub path: &'static str,
    pub edits: &'static [Edit],
}

#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// Names the test, the lab's log folder (`roles_<name>`) and the images.
    pub name: &'static str,
    pub seed: &'static str,
    pub summary: &'static str,
    pub map: SeedMap,
    pub topology: Topology,
    pub director: Source,
    /// The first real server; the second is its [`Twin`].
    pub real_server: Source,
    pub twin: Twin,
    pub http: Http,
    /// Added to the real servers' kernel command line.
    pub real_server_cmdline: &'static str,
    /// The client's address on the (front) bridge, seed side, with its prefix.
    pub client: &'static str,
    pub expect: Expect,
    /// Sequential requests, each a new TCP connection, counted from the
    /// first answer on (a multiple of every weight sum here).
    pub requests: usize,
}

/// 001 shows both halves of its DR setup on one host-only network; the
/// seed's client is the VirtualBox host, which has .1 on such a network.
const MAP_001: SeedMap = SeedMap {
    networks: &[("192.168.56.0/24", "192.0.2.0/24")],
    narrowed: &[],
    interfaces: &[("eth2", "eth0"), ("eth1", "eth0")],
};

const DR_001_RS: Source = Source { path: "examples/001-dr-realserver.ron", edits: &[] };
const TWIN_001: Twin = Twin { address: ("192.168.56.183", "192.168.56.184"), name: ("rs1", "rs2") };

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "dr_rr_001",
        seed: "001_eaeabf6c51e0d334.txt",
        summary: "DR, rr: strict alternation (the seed's first half)",
        map: MAP_001,
        topology: Topology::OneLan,
        director: Source {
            path: "examples/001-dr-wrr-director.ron",
            edits: &[
                Edit {
                    from: "scheduler: Wrr",
                    to: "scheduler: Rr",
                    why:
                        "the seed's first half: wrr over two weight-1 servers, which is round robin; rr as issue 5 asks",
                },
                Edit {
                    from: "RealServer(address: \"192.168.56.183:80\", weight: 2)",
                    to: "RealServer(address: \"192.168.56.183:80\", weight: 1)",
                    why: "rs1's weight before the seed's `ipvsadm -e ... -w 2`",
                },
            ],
        },
        real_server: DR_001_RS,
        twin: TWIN_001,
        http: Http::Builtin,
        real_server_cmdline: "",
        client: "192.168.56.1/24",
        expect: Expect::Alternate,
        requests: 30,
    },
    Scenario {
        name: "dr_wrr_001",
        seed: "001_eaeabf6c51e0d334.txt",
        summary: "DR, wrr 2:1 (the seed's second half, after `ipvsadm -e ... -w 2`)",
        map: MAP_001,
        topology: Topology::OneLan,
        director: Source { path: "examples/001-dr-wrr-director.ron", edits: &[] },
        real_server: DR_001_RS,
        twin: TWIN_001,
        http: Http::Builtin,
        real_server_cmdline: "",
        client: "192.168.56.1/24",
        expect: Expect::Split { weights: [2, 1] },
        requests: 30,
    },
    Scenario {
        name: "nat_rr_002",
        seed: "002_274172f62f7df9db.txt",
        summary: "NAT, rr, real servers on 8080 behind VIP port 80, their default route via the director",
        // The outside network is the seed's bridged one, the inside its
        // host-only one. The seed "assumes" the client at 172.20.10.3, the
        // director's own outside address; the lab's client takes .2.
        map: SeedMap {
            networks: &[("172.20.10.0/24", "198.51.100.0/24"), ("192.168.137.0/24", "203.0.113.0/24")],
            narrowed: &[],
            interfaces: &[],
        },
        topology: Topology::Nat,
        director: Source { path: "examples/002-nat-rr-director.ron", edits: &[] },
        real_server: Source { path: "examples/002-nat-realserver.ron", edits: &[] },
        twin: Twin { address: ("192.168.137.53", "192.168.137.54"), name: ("r1-nat", "r2-nat") },
        http: Http::Builtin,
        real_server_cmdline: "",
        client: "172.20.10.2/24",
        expect: Expect::Alternate,
        requests: 30,
    },
    Scenario {
        name: "tun_rr_002",
        seed: "002_274172f62f7df9db.txt",
        summary: "TUN (ipip), rr, on one L2: the director encapsulates to the real servers' own addresses",
        // The seed's client is the Windows host; .1 on the host-only network.
        map: SeedMap { networks: &[("192.168.137.0/24", "192.0.2.0/24")], narrowed: &[], interfaces: &[] },
        topology: Topology::OneLan,
        director: Source { path: "examples/002-tun-rr-director.ron", edits: &[] },
        real_server: Source { path: "examples/002-tun-realserver.ron", edits: &[] },
        twin: Twin { address: ("192.168.137.61", "192.168.137.62"), name: ("r1-tun", "r2-tun") },
        http: Http::Builtin,
        // Strict reverse-path filtering, as the seed's CentOS (and any
        // systemd) boots with: it drops what arrives decapsulated on tunl0
        // from a client routed via eth0, unless the agent relaxes it as the
        // file's `rp_filter: 0` says. The guest kernel's own default is 0,
        // which would let this pass untested.
        real_server_cmdline: "sysctl.net.ipv4.conf.all.rp_filter=1 sysctl.net.ipv4.conf.default.rp_filter=1",
        client: "192.168.137.1/24",
        expect: Expect::Alternate,
        requests: 30,
    },
    Scenario {
        name: "persistence_000",
        seed: "000_a32a78afbd236b13.txt",
        summary: "DR, wlc with persistence 120 s: one client sticks to one real server",
        // The seed's hosts sit on 10.0.8.0/23 but all in 10.0.9.x: the lab's
        // /24 holds them. The client is the seed's CIP 10.0.9.18; the second
        // client (.19) is the lab's own.
        map: SeedMap { networks: &[("10.0.9.0/24", "192.0.2.0/24")], narrowed: &[(23, 24)], interfaces: &[] },
        topology: Topology::OneLan,
        director: Source { path: "examples/000-dr-wlc-persistent-director.ron", edits: &[] },
        real_server: Source { path: "examples/000-dr-realserver.ron", edits: &[] },
        twin: Twin { address: ("10.0.9.236", "10.0.9.234"), name: ("rs1", "rs2") },
        http: Http::Builtin,
        real_server_cmdline: "",
        client: "10.0.9.18/23",
        expect: Expect::Sticky { second_client: "10.0.9.19/23" },
        requests: 30,
    },
    Scenario {
        name: "nat_wrr_004_busybox",
        seed: "004_19f7262f3ca859e6.txt",
        summary: "NAT, wrr 2:3, real servers running busybox httpd as a supervised workload",
        // Outside 192.168.4.0/24 (the client is case 3's 192.168.4.10),
        // inside 192.168.2.0/24.
        map: SeedMap {
            networks: &[("192.168.4.0/24", "198.51.100.0/24"), ("192.168.2.0/24", "203.0.113.0/24")],
            narrowed: &[],
            interfaces: &[],
        },
        topology: Topology::Nat,
        director: Source { path: "examples/004-nat-wrr-director.ron", edits: &[] },
        real_server: Source { path: "examples/004-nat-realserver.ron", edits: &[] },
        twin: Twin { address: ("192.168.2.200", "192.168.2.201"), name: ("web200", "web201") },
        http: Http::BusyboxIndex,
        real_server_cmdline: "",
        client: "192.168.4.10/24",
        expect: Expect::Split { weights: [2, 3] },
        requests: 30,
    },
];

pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// A scenario with its configs derived and cross-checked: everything the
/// lab run needs, made without root.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: &'static Scenario,
    pub director: Derived,
    pub real_servers: [Derived; 2],
    /// The client's address with prefix, on the (front) bridge.
    pub client: String,
    pub second_client: Option<String>,
    /// The service the client sends to: the director's first service.
    pub service: SocketAddr,
    /// The director's own address on its first NIC (the lab reads its status there).
    pub director_address: IpAddr,
    /// What each real server answers, and how the answers are named.
    pub bodies: [String; 2],
    pub labels: [String; 2],
}

impl Plan {
    /// The NICs of each VM, in order: what the mapped configs may name.
    pub fn director_nics(&self) -> &'static [&'static str] {
        nics(self.scenario.topology, true)
    }
}

fn nics(topology: Topology, director: bool) -> &'static [&'static str] {
    match (topology, director) {
        (Topology::Nat, true) => &["eth0", "eth1"],
        _ => &["eth0"],
    }
}

fn read(path: &str) -> Result<String, String> {
    let full = crate::repo_root().join(path);
    std::fs::read_to_string(&full).map_err(|e| format!("reading {}: {e}", full.display()))
}

/// Derives the three configs and checks that they make the lab the scenario
/// says: the director's first service goes to exactly the two real servers,
/// by the forwarding the topology needs, with the scheduler, weights and
/// persistence the expectation assumes; the client's address is free and on
/// the director's front network.
pub fn plan(s: &'static Scenario) -> Result<Plan, String> {
    let fail = |m: String| format!("scenario {}: {m}", s.name);
    let director =
        derive(s.director.path, &read(s.director.path)?, &s.map, s.director.edits, None, nics(s.topology, true))?;
    let rs_text = read(s.real_server.path)?;
    let rs1 = derive(s.real_server.path, &rs_text, &s.map, s.real_server.edits, None, nics(s.topology, false))?;
    let rs2 =
        derive(s.real_server.path, &rs_text, &s.map, s.real_server.edits, Some(&s.twin), nics(s.topology, false))?;

    let Role::Director(d) = &director.model.role else {
        return Err(fail(format!("{} is not a director", s.director.path)));
    };
    let svc = d.services.first().ok_or_else(|| fail("the director has no service".into()))?;
    let ServiceKey::Inet { addr: service, .. } = svc.service.key else {
        return Err(fail("the director's first service is a fwmark service".into()));
    };
    let rs_addrs: Vec<IpAddr> = [&rs1, &rs2]
        .iter()
        .map(|r| r.own_address())
        .collect::<Option<_>>()
        .ok_or_else(|| fail("a real server has no address".into()))?;
    // The scenario's order (the example's server, then its twin), which need
    // not be the director's: 000 lists its rs2 first.
    let dests: Vec<&lvs_config::model::RealServerSpec> = rs_addrs
        .iter()
        .map(|ip| svc.real_servers.iter().find(|r| r.dest.addr.ip() == *ip))
        .collect::<Option<_>>()
        .filter(|d: &Vec<_>| d.len() == svc.real_servers.len())
        .ok_or_else(|| {
            let listed: Vec<IpAddr> = svc.real_servers.iter().map(|r| r.dest.addr.ip()).collect();
            fail(format!("the first service goes to {listed:?}, the real servers are {rs_addrs:?}"))
        })?;
    let forward = match s.topology {
        Topology::Nat => Forward::Nat,
        Topology::OneLan => dests[0].dest.forward,
    };
    for (r, rs) in dests.iter().zip([&rs1, &rs2]) {
        if r.dest.forward != forward {
            return Err(fail(format!("{} is forwarded by {:?}, expected {forward:?}", r.dest.addr, r.dest.forward)));
        }
        let Role::RealServer(role) = &rs.model.role else {
            return Err(fail(format!("{} is not a real server", rs.source)));
        };
        if role.mode != forward {
            return Err(fail(format!(
                "{} runs in {:?} mode, the director forwards to it by {forward:?}",
                rs.hostname(),
                role.mode
            )));
        }
    }
    match s.expect {
        Expect::Alternate => {
            if svc.service.scheduler != Scheduler::Rr {
                return Err(fail(format!("strict alternation needs rr; the service runs {:?}", svc.service.scheduler)));
            }
        }
        Expect::Split { weights } => {
            let got: Vec<u32> = dests.iter().map(|r| r.dest.weight).collect();
            if svc.service.scheduler != Scheduler::Wrr || got != weights {
                return Err(fail(format!(
                    "a {weights:?} split needs wrr with those weights; the service runs {:?} with {got:?}",
                    svc.service.scheduler
                )));
            }
        }
        Expect::Sticky { .. } => {
            if svc.service.persistence.is_none() {
                return Err(fail("stickiness needs persistence; the service has none".into()));
            }
        }
    }

    let client = s.map.cidr(s.client)?;
    let second_client = match s.expect {
        Expect::Sticky { second_client } => Some(s.map.cidr(second_client)?),
        _ => None,
    };
    let director_address = director.own_address().ok_or_else(|| fail("the director has no address".into()))?;
    let front = director.model.interfaces[0].addresses[0];
    let mut taken: Vec<IpAddr> = vec![service.ip(), director_address];
    taken.extend(director.model.interfaces.iter().flat_map(|i| i.addresses.iter().map(|a| a.addr())));
    taken.extend(d.vips.iter().map(|v| v.address));
    taken.extend(&rs_addrs);
    for c in std::iter::once(&client).chain(second_client.as_ref()) {
        let ip: IpAddr = c
            .split('/')
            .next()
            .unwrap_or_default()
            .parse()
            .map_err(|_| fail(format!("client {c:?} is not an address")))?;
        if taken.contains(&ip) {
            return Err(fail(format!("client address {ip} is taken by a VM or the service")));
        }
        if !front.contains(&ip) {
            return Err(fail(format!("client {ip} is not on the director's front network {front}")));
        }
    }
    if s.topology == Topology::Nat {
        let back = director
            .model
            .interfaces
            .get(1)
            .and_then(|i| i.addresses.first().copied())
            .ok_or_else(|| fail("a NAT director needs an eth1 address".into()))?;
        for rs in [&rs1, &rs2] {
            let Role::RealServer(role) = &rs.model.role else { unreachable!("checked above") };
            let via_route = rs.model.routes.iter().find(|r| r.is_default()).and_then(|r| r.gateway);
            if role.gateway.or(via_route) != Some(back.addr()) {
                return Err(fail(format!(
                    "{}'s way out is {:?}, not the director's inside address {}",
                    rs.hostname(),
                    role.gateway.or(via_route),
                    back.addr()
                )));
            }
        }
    }

    let bodies: [String; 2] = match s.http {
        Http::Builtin => [&rs1, &rs2]
            .map(|r| {
                r.http_body().map(str::to_string).ok_or_else(|| fail(format!("{} serves no fixed body", r.hostname())))
            })
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .try_into()
            .map_err(|_| fail("two bodies".into()))?,
        Http::BusyboxIndex => [rs_addrs[0], rs_addrs[1]].map(|ip| format!("{ip}\n")),
    };
    if bodies[0] == bodies[1] {
        return Err(fail(format!("both real servers answer {:?}: the client could not tell them apart", bodies[0])));
    }
    let labels = [rs1.hostname().to_string(), rs2.hostname().to_string()];
    Ok(Plan {
        scenario: s,
        director,
        real_servers: [rs1, rs2],
        client,
        second_client,
        service,
        director_address,
        bodies,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs without root: every scenario derives, validates and passes its
    /// cross-checks, and no seed address is left in any lab file.
    #[test]
    fn every_scenario_plans() {
        for s in SCENARIOS {
            let p = plan(s).unwrap_or_else(|e| panic!("{e}"));
            for d in [&p.director, &p.real_servers[0], &p.real_servers[1]] {
                mapping::check_lab_only(d, &s.map, nics(s.topology, std::ptr::eq(d, &p.director)))
                    .unwrap_or_else(|e| panic!("{}: {e}", s.name));
            }
            assert!(s.requests >= 30, "{}", s.name);
            if let Expect::Split { weights } = s.expect {
                assert_eq!(s.requests % (weights[0] + weights[1]) as usize, 0, "{}", s.name);
            }
        }
    }

    #[test]
    fn names_are_unique_and_fit_a_log_folder() {
        let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SCENARIOS.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
    }

    #[test]
    fn dr_001_maps_as_the_docs_say() {
        let p = plan(scenario("dr_wrr_001").unwrap()).unwrap();
        assert_eq!(p.service, "192.0.2.185:80".parse().unwrap());
        assert_eq!(p.director_address, "192.0.2.181".parse::<IpAddr>().unwrap());
        assert_eq!(p.labels, ["rs1", "rs2"]);
        assert_eq!(p.bodies, ["rs1\n", "rs2\n"]);
        assert_eq!(p.client, "192.0.2.1/24");
        assert!(p.director.text.contains("Vip(address: \"192.0.2.185\", interface: \"eth0\")"), "{}", p.director.text);
    }

    #[test]
    fn nat_real_servers_route_through_the_director() {
        let p = plan(scenario("nat_rr_002").unwrap()).unwrap();
        assert_eq!(p.service, "198.51.100.3:80".parse().unwrap());
        assert!(
            p.real_servers[1].text.contains("\"203.0.113.54/24\"")
                && p.real_servers[1].text.contains("via: \"203.0.113.44\""),
            "{}",
            p.real_servers[1].text
        );
        assert_eq!(p.bodies, ["r1-nat\n", "r2-nat\n"]);
    }
}
