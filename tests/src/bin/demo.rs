//! `make demo`: seed 001's LVS-DR setup in the qemu lab. Boots the director
//! ds1 and the real servers rs1 and rs2 from examples/001-*.ron (renumbered
//! into lab addresses), sends the client's requests to the VIP as the seed's
//! `curl` loop does, prints who answered each, then the director's table as
//! `lvs-agent status` prints it inside the VM, and shuts the lab down.
//!
//! The client is a fourth VM, booted from the same image as the others with a
//! config that balances nothing, asking the VIP with HTTP GETs through busybox nc as the
//! seed's client does with curl (tests/lab/roles/client.sh); this program
//! follows its console, and reads the director's table from an address of its
//! own on the lab's bridge. Nothing leaves the lab's network namespace. Needs
//! root (namespace, bridge, taps).
//! The same scenario is `dr_rr_001` in tests/tests/lab_roles.rs.

use std::process::ExitCode;
use std::time::Instant;

use lvs_config::model::Role;
use lvs_tests::roles::{plan, render_sequence, run, scenario, RunOptions};

/// As many requests as the seed's first `curl` run shows, and a few more.
const REQUESTS: usize = 12;

fn main() -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("demo: needs root: it creates a network namespace with a bridge and taps for three qemu VMs.");
        eprintln!("demo: run it as root, e.g. `sudo make demo`.");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let say = |line: &str| println!("[{:5.1} s] {line}", started.elapsed().as_secs_f64());

    let s = scenario("dr_rr_001").expect("the demo's scenario is in SCENARIOS");
    let plan = match plan(s) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("== seed {}: {}", s.seed, s.summary);
    println!("   seed -> lab: {} (nothing is sent to a seed address)", s.map.describe());
    if let Role::Director(d) = &plan.director.model.role {
        let rs: Vec<String> = d.services[0].real_servers.iter().map(|r| r.dest.addr.to_string()).collect();
        println!(
            "   director {} at {}, VIP {} ({:?}, direct routing) -> {}",
            plan.director.hostname(),
            plan.director_address,
            plan.service,
            d.services[0].service.scheduler,
            rs.join(", ")
        );
    }
    for (rs, body) in plan.real_servers.iter().zip(&plan.bodies) {
        println!(
            "   real server {} at {}, VIP on lo, answers {body:?}",
            rs.hostname(),
            rs.own_address().map(|a| a.to_string()).unwrap_or_default()
        );
    }
    println!("   client {}: a VM sending HTTP GETs through busybox nc (tests/lab/roles/client.sh)", plan.client);

    let opts = RunOptions { requests: Some(REQUESTS), wait_poweroff: true, client_vm: true };
    let outcome = match run(&plan, "demo", &opts, &say) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("demo: the lab did not come up:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let problems = outcome.problems();
    println!();
    println!("== the client VM's answers, in order (GET http://{}/):", plan.service);
    print!("{}", render_sequence(&plan.labels, &outcome.answers));
    println!();
    match &outcome.status {
        Ok(text) => {
            println!(
                "== on the director {}: lvs-agent status, then lvs-agent status --stats",
                plan.director.hostname()
            );
            print!("{text}");
        }
        Err(e) => println!("== the director's status could not be read: {e}"),
    }
    println!();
    if problems.is_empty() && outcome.status.is_ok() {
        let counts = [0, 1].map(|i| outcome.answers.iter().filter(|&&a| a == i).count());
        println!(
            "== ok: {} requests alternated between {} ({}) and {} ({}); lab shut down; {:.1} s in all (logs and configs: {})",
            outcome.answers.len(),
            plan.labels[0],
            counts[0],
            plan.labels[1],
            counts[1],
            started.elapsed().as_secs_f64(),
            outcome.log_dir.display()
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("demo: FAILED:");
        for p in &problems {
            eprintln!("  - {p}");
        }
        eprintln!("\n{}", outcome.report());
        ExitCode::FAILURE
    }
}
