//! Host test, as root, in a network namespace the test makes: `lo` comes up,
//! and doing it again is harmless.

use std::process::Command;

fn lo_flags() -> String {
    let out = Command::new("ip").args(["-o", "link", "show", "lo"]).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn loopback_comes_up_in_a_fresh_namespace() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "host tests need root (they make network namespaces): run `sudo make test`"
    );
    // The new namespace belongs to this thread only; processes it starts inherit it.
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare -n");
        assert!(!lo_flags().contains(",UP"), "lo is up before: {}", lo_flags());
        lvs_agent::net::loopback::up().unwrap();
        assert!(lo_flags().contains(",UP"), "lo is not up: {}", lo_flags());
        lvs_agent::net::loopback::up().unwrap();
        assert!(lo_flags().contains(",UP"));
    })
    .join()
    .unwrap();
}
