//! Issue 6's health lab: a DR director with an HTTP check (every 1 s,
//! timeout 500 ms, rise 2, fall 2), two real servers running busybox httpd,
//! a sorry server, and this test in the lab's namespace as a client sending
//! requests in a loop. Through a control port on each real server the test
//! stops (SIGSTOP: the probe hangs until its timeout) and continues their
//! httpd, and through the director's status port it polls the IPVS table:
//!
//! 1. stop rs1: within fall × interval + timeout (+ allowance) rs1 is at
//!    weight 0, and from that poll on every request is answered by rs2;
//! 2. continue rs1: back at its weight within rise × interval (+ allowance),
//!    and answering the client again; no request fails meanwhile;
//! 3. stop both: both at 0 and the sorry server in; from then on every
//!    request is answered by the sorry server;
//! 4. continue rs2: rs2 back and the sorry server out; every request rs2's.
//!
//! The files are in tests/lab/health/, the bounds come from the director's
//! check (`lvs_tests::health::ALLOWANCE` says what TCG adds), and the rules
//! are `lvs_tests::health::timeline::judge`. A failure prints every problem,
//! the whole timeline and each VM's agent lines. docs/LAB.md has the section.

use lvs_tests::health::{plan, run};

#[test]
fn quiesces_a_hung_real_server_restores_it_and_falls_back_to_the_sorry_server() {
    let plan = plan().unwrap_or_else(|e| panic!("{e}"));
    let say = |line: &str| eprintln!("[health] {line}");
    let outcome = run(&plan, "health_quiesce_restore_sorry", &say).unwrap_or_else(|e| panic!("{e}"));
    let problems = outcome.problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect();
        panic!("{} problem(s):\n{}\n\n{}", problems.len(), list.join("\n"), outcome.report());
    }
    eprintln!("[health] ok:\n{}", outcome.summary());
}
