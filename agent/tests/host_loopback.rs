//! Host test, as root, in a network namespace the test makes: `lo` comes up,
//! and doing it again is harmless.

use std::process::Command;

mod common;
use common::netns::in_netns;

fn lo_flags() -> String {
    let out = Command::new("ip").args(["-o", "link", "show", "lo"]).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn loopback_comes_up_in_a_fresh_namespace() {
    in_netns(|| {
        assert!(!lo_flags().contains(",UP"), "lo is up before: {}", lo_flags());
        lvs_agent::net::loopback::up().unwrap();
        assert!(lo_flags().contains(",UP"), "lo is not up: {}", lo_flags());
        lvs_agent::net::loopback::up().unwrap();
        assert!(lo_flags().contains(",UP"));
    });
}
