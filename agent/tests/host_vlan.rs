//! Host tests, as root, each in a network namespace it makes: an interface
//! whose name has a dot (`v0.100`) gets its link settings, addresses, a route
//! and its ARP sysctls, re-applying changes nothing, and a config without
//! them takes back exactly what was added. Run in the order the agent runs
//! them (sysctls, network, sysctls put back).
//!
//! The same body runs on a veth named `v0.100` (always) and on a real 802.1Q
//! VLAN `v0.100` on `v0` (when the kernel has 8021q; this project's host
//! kernel does not, the lab's guests do).

use lvs_agent::{net, sysctl};
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::host::{ip, is_up, model, sysctl};
use common::netns::in_netns;

fn run_ip(args: &[&str]) -> Output {
    Command::new("ip").args(args).output().expect("run ip")
}

fn addrs(dev: &str) -> Vec<String> {
    ip(&format!("-o -4 addr show dev {dev}"))
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect()
}

fn routes() -> Vec<String> {
    ip("-4 route show table main").lines().map(|l| l.trim().to_string()).collect()
}

/// What `run` does on each config: sysctls, network, then the sysctls the
/// config dropped put back. Returns every change line.
fn apply(config: &str, record: &Path) -> Vec<String> {
    let model = model(config);
    let proc_sys = Path::new(sysctl::PROC_SYS);
    let mut lines: Vec<String> = Vec::new();
    let set = sysctl::apply(&model, proc_sys, &record.join("sysctl")).unwrap();
    lines.extend(set.changes.iter().map(ToString::to_string));
    let network = net::apply(&model, &record.join("net")).unwrap();
    assert!(network.notes.is_empty(), "{:?}", network.notes);
    lines.extend(network.changes.iter().map(ToString::to_string));
    let back = sysctl::put_back(&model, proc_sys, &record.join("sysctl")).unwrap();
    assert!(back.notes.is_empty() && set.notes.is_empty(), "{:?} {:?}", set.notes, back.notes);
    lines.extend(back.changes.iter().map(ToString::to_string));
    lines
}

const REAL_SERVER: &str = r#"Appliance(
    interfaces: [
        Interface(name: "v0", addresses: ["192.0.2.21/24"]),
        Interface(name: "v0.100", addresses: ["198.51.100.21/24"], mtu: 1400),
    ],
    routes: [Route(to: "203.0.113.0/24", via: "198.51.100.1")],
    role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"], arp: Arp(ignore: 1, announce: 2, interfaces: ["lo", "v0.100"])),
)"#;

/// `v0` and `v0.100` exist and are down; `v0.100` has MTU 1500.
fn dotted_interface_applied_again_and_taken_back() {
    for (dev, knob) in
        [("v0.100", "arp_ignore"), ("v0.100", "arp_announce"), ("lo", "arp_ignore"), ("lo", "arp_announce")]
    {
        assert_eq!(sysctl(&format!("net/ipv4/conf/{dev}/{knob}")), "0", "{dev} {knob} starts at 0");
    }
    let record = tempfile::tempdir().unwrap();
    assert_eq!(
        apply(REAL_SERVER, record.path()),
        [
            "~ sysctl net.ipv4.conf.lo.arp_ignore 0 -> 1",
            "~ sysctl net.ipv4.conf.lo.arp_announce 0 -> 2",
            "~ sysctl net.ipv4.conf.v0/100.arp_ignore 0 -> 1",
            "~ sysctl net.ipv4.conf.v0/100.arp_announce 0 -> 2",
            "~ link lo up",
            "~ link v0 up",
            "~ link v0.100 mtu 1500 -> 1400",
            "~ link v0.100 up",
            "+ address 192.0.2.21/24 on v0",
            "+ address 198.51.100.21/24 on v0.100",
            "+ address 192.0.2.10/32 on lo",
            "+ route 203.0.113.0/24 via 198.51.100.1 metric 0",
        ]
    );
    assert!(is_up("v0.100"));
    assert_eq!(addrs("v0.100"), ["198.51.100.21/24"]);
    assert!(
        routes().contains(&"203.0.113.0/24 via 198.51.100.1 dev v0.100 proto static".to_string()),
        "{:?}",
        routes()
    );
    assert_eq!(sysctl("net/ipv4/conf/v0.100/arp_ignore"), "1");
    assert_eq!(sysctl("net/ipv4/conf/v0.100/arp_announce"), "2");

    assert_eq!(apply(REAL_SERVER, record.path()), Vec::<String>::new(), "re-applying changes nothing");

    // A NAT real server on v0 alone: v0.100's address and route, the VIP and
    // the ARP settings go; v0's address stays; links stay up.
    let nat = r#"Appliance(
        interfaces: [Interface(name: "v0", addresses: ["192.0.2.21/24"])],
        role: RealServer(mode: Nat),
    )"#;
    assert_eq!(
        apply(nat, record.path()),
        [
            "- route 203.0.113.0/24 via 198.51.100.1 metric 0",
            "- address 198.51.100.21/24 on v0.100",
            "- address 192.0.2.10/32 on lo",
            "~ sysctl net.ipv4.conf.lo.arp_ignore 1 -> 0 (put back: the config no longer sets it)",
            "~ sysctl net.ipv4.conf.lo.arp_announce 2 -> 0 (put back: the config no longer sets it)",
            "~ sysctl net.ipv4.conf.v0/100.arp_ignore 1 -> 0 (put back: the config no longer sets it)",
            "~ sysctl net.ipv4.conf.v0/100.arp_announce 2 -> 0 (put back: the config no longer sets it)",
        ]
    );
    assert!(addrs("v0.100").is_empty());
    assert_eq!(addrs("v0"), ["192.0.2.21/24"]);
    assert_eq!(addrs("lo"), ["127.0.0.1/8"]);
    assert_eq!(sysctl("net/ipv4/conf/v0.100/arp_ignore"), "0");
    assert_eq!(sysctl("net/ipv4/conf/lo/arp_announce"), "0");
    assert!(is_up("v0.100"), "a link is never taken down");
    assert_eq!(apply(nat, record.path()), Vec::<String>::new());
}

#[test]
fn a_veth_named_with_a_dot() {
    in_netns(|| {
        ip("link add v0 type veth peer name p0");
        ip("link add v0.100 type veth peer name p100");
        ip("link set p0 up");
        ip("link set p100 up");
        dotted_interface_applied_again_and_taken_back();
    });
}

#[test]
fn a_real_vlan_when_the_kernel_has_8021q() {
    in_netns(|| {
        ip("link add v0 type veth peer name p0");
        ip("link set p0 up");
        let out = run_ip(&["link", "add", "link", "v0", "name", "v0.100", "type", "vlan", "id", "100"]);
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(
                why.contains("Unknown device type") || why.contains("not supported"),
                "creating a VLAN failed other than for a missing 8021q: {why}"
            );
            eprintln!("skipped: this kernel has no 8021q ({})", why.trim());
            return;
        }
        assert!(ip("-d -o link show dev v0.100").contains("vlan protocol 802.1Q id 100"));
        dotted_interface_applied_again_and_taken_back();
    });
}
