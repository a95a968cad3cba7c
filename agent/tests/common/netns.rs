//! Host tests run as root in network namespaces they make themselves.

/// Runs `body` on a thread of its own in a fresh network namespace; `ip`, the
/// agent's netlink sockets and /proc/sys/net opened from that thread (and the
/// processes it starts) see only that namespace, never the host's.
pub fn in_netns(body: impl FnOnce() + Send + 'static) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "host tests need root (they make network namespaces): run `sudo make test`"
    );
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare -n");
        body();
    })
    .join()
    .unwrap();
}
