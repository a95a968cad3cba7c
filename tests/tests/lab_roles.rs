//! Issue 5's lab scenarios: each seed's director and two real servers booted
//! as VMs from the example RON files (renumbered into lab addresses by
//! `lvs_tests::roles::mapping`), and this test, in the lab's namespace, as
//! the client that counts which real server answered each of its requests.
//! The scenarios themselves (files, topology, what the answers must show)
//! are data in `tests/src/roles/mod.rs`; docs/LAB.md has them as a table.
//!
//! A failure prints every problem, the answers in order, the director's IPVS
//! table and counters, and each VM's agent lines.

use lvs_ipvs::Forward;
use lvs_tests::roles::{plan, run, scenario, RunOptions};

fn run_scenario(name: &str) {
    let s = scenario(name).unwrap_or_else(|| panic!("no scenario {name}"));
    let plan = plan(s).unwrap_or_else(|e| panic!("{e}"));
    let say = |line: &str| eprintln!("[{name}] {line}");
    let outcome = run(&plan, &format!("roles_{name}"), &RunOptions::default(), &say).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = outcome.problems();
    // The table the answers came from, as the agent reads it back from the
    // kernel: the service, and each real server with its forwarding method
    // (a DR-forwarded packet would reach a TUN real server's VIP as well, so
    // only the table tells that the director encapsulates).
    match &outcome.status {
        Ok(status) => {
            if !status.contains(&format!(" {} ", plan.service)) {
                problems.push(format!("the director's status does not list the service {}", plan.service));
            }
            if let lvs_config::model::Role::Director(d) = &plan.director.model.role {
                for r in &d.services[0].real_servers {
                    let method = match r.dest.forward {
                        Forward::DirectRouting => "Route",
                        Forward::Nat => "Masq",
                        Forward::Tunnel => "Tunnel",
                        Forward::Local => "Local",
                    };
                    let listed = status
                        .lines()
                        .any(|l| l.contains(&format!("-> {} ", r.dest.addr)) && l.contains(&format!(" {method} ")));
                    if !listed {
                        problems.push(format!("the director's status does not list {} with {method}", r.dest.addr));
                    }
                }
            }
        }
        Err(e) => problems.push(format!("no status from the director: {e}")),
    }
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect();
        panic!("{} problem(s):\n{}\n\n{}", problems.len(), list.join("\n"), outcome.report());
    }
    eprintln!("[{name}] ok in {:.1} s (images {:.1} s)", outcome.total_secs, outcome.build_secs);
}

#[test]
fn dr_rr_001_alternates_strictly() {
    run_scenario("dr_rr_001");
}

#[test]
fn dr_wrr_001_splits_2_to_1() {
    run_scenario("dr_wrr_001");
}

#[test]
fn nat_rr_002_maps_port_80_to_8080_and_alternates() {
    run_scenario("nat_rr_002");
}

#[test]
fn tun_rr_002_alternates_over_ipip() {
    run_scenario("tun_rr_002");
}

#[test]
fn persistence_000_keeps_each_client_on_one_real_server() {
    run_scenario("persistence_000");
}

#[test]
fn nat_wrr_004_splits_2_to_3_with_busybox_httpd_workloads() {
    run_scenario("nat_wrr_004_busybox");
}
