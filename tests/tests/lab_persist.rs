//! Issue 7's lab tests: a director saves its state, restores it, and takes a
//! new config file while it runs. docs/LAB.md has the section; the files are
//! in tests/lab/persist/ and the support code in `lvs_tests::persist`.
//!
//! - (b), (d), (c) in one session of ds, rs1, rs2, rs3 and a client sending
//!   requests in a loop: a swapped-in file that adds rs3 and changes rs1's
//!   weight is applied as a diff with no request failing; a kill -9 of the
//!   agent fails no request either (PID 1 restarts it, it adopts the table
//!   and the health it saved); an invalid file changes nothing and is logged
//!   with its line and column.
//! - (a) a director rebooted on its state disk has its rules back before its
//!   first probe completes (its log's timestamps).
//! - (e) a state file cut short or with a byte flipped, at several offsets:
//!   every boot succeeds, with the config's table and the state ignored.
//!
//! The three tests take turns (one lab at a time): their timings assume the
//! machine's two cores are theirs. A failure prints every problem, then the
//! timeline or each boot's agent lines.

use std::sync::Mutex;

use lvs_tests::persist::{damage, lab::images, plan, reboot, session};

/// One lab at a time: cargo runs a binary's tests on parallel threads.
static ONE_LAB: Mutex<()> = Mutex::new(());

fn say(line: &str) {
    eprintln!("[persist] {line}");
}

fn fail(problems: &[String], report: &str) -> ! {
    let list: Vec<String> = problems.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect();
    panic!("{} problem(s):\n{}\n\n{report}", problems.len(), list.join("\n"));
}

#[test]
fn a_swapped_file_a_killed_agent_and_an_invalid_file_fail_no_request() {
    let _one = ONE_LAB.lock().unwrap_or_else(|p| p.into_inner());
    let plan = plan().unwrap_or_else(|e| panic!("{e}"));
    let images = images().unwrap_or_else(|e| panic!("{e}"));
    let outcome = session::run(&plan, &images, "persist_swap_kill_invalid", &say).unwrap_or_else(|e| panic!("{e}"));
    let problems = outcome.problems();
    if !problems.is_empty() {
        fail(&problems, &outcome.report());
    }
    say(&format!("ok:\n{}", outcome.summary()));
}

#[test]
fn a_rebooted_director_has_its_rules_back_before_its_first_probe() {
    let _one = ONE_LAB.lock().unwrap_or_else(|p| p.into_inner());
    let plan = plan().unwrap_or_else(|e| panic!("{e}"));
    let images = images().unwrap_or_else(|e| panic!("{e}"));
    let outcome = reboot::run(&plan, &images, "persist_reboot_restores", &say).unwrap_or_else(|e| panic!("{e}"));
    if !outcome.problems.is_empty() {
        fail(&outcome.problems, &outcome.report);
    }
    say(&format!("ok:\n{}", outcome.summary));
}

#[test]
fn a_damaged_state_file_is_ignored_and_the_boot_succeeds() {
    let _one = ONE_LAB.lock().unwrap_or_else(|p| p.into_inner());
    let plan = plan().unwrap_or_else(|e| panic!("{e}"));
    let images = images().unwrap_or_else(|e| panic!("{e}"));
    let outcome = damage::run(&plan, &images, "persist_damaged_state", &say).unwrap_or_else(|e| panic!("{e}"));
    if !outcome.problems.is_empty() {
        fail(&outcome.problems, &outcome.report);
    }
    say(&format!("ok: {}", outcome.summary));
}
