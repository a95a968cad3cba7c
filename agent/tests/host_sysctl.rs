//! Host tests, as root, of `sysctl::apply` on the real /proc/sys inside a
//! network namespace the test makes (/proc/sys/net shows the calling thread's
//! namespace, so the host's values are never touched), and on a temp tree for
//! the IPVS knobs, which the host kernel lacks.

use lvs_agent::sysctl::{self, SysctlChange};
use std::path::Path;
use std::process::Command;

mod common;
use common::netns::in_netns;

fn model(text: &str) -> lvs_agent::config::model::Appliance {
    match lvs_agent::config::parse(text, Path::new("test.ron")) {
        Ok(l) => l.model,
        Err(e) => panic!("test config is invalid: {e}"),
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new("/proc/sys").join(path)).unwrap().trim().to_string()
}

fn lines(changes: &[SysctlChange]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

fn root() -> &'static Path {
    Path::new(sysctl::PROC_SYS)
}

#[test]
fn dr_real_server_arp_suppression_including_an_interface_with_a_dot() {
    let host_before = std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap();
    in_netns(|| {
        let out = Command::new("ip").args(["link", "add", "v0.100", "type", "veth", "peer", "name", "p0"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for p in ["lo", "all", "v0.100"] {
            assert_eq!(read(&format!("net/ipv4/conf/{p}/arp_ignore")), "0");
            assert_eq!(read(&format!("net/ipv4/conf/{p}/arp_announce")), "0");
        }
        let config = model(
            r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"],
                arp: Arp(ignore: 1, announce: 2, interfaces: ["lo", "all", "v0.100"])))"#,
        );
        let changes = sysctl::apply(&config, root()).unwrap();
        assert_eq!(
            lines(&changes),
            [
                "~ sysctl net.ipv4.conf.lo.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.lo.arp_announce 0 -> 2",
                "~ sysctl net.ipv4.conf.all.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.all.arp_announce 0 -> 2",
                "~ sysctl net.ipv4.conf.v0/100.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.v0/100.arp_announce 0 -> 2",
            ]
        );
        for p in ["lo", "all", "v0.100"] {
            assert_eq!(read(&format!("net/ipv4/conf/{p}/arp_ignore")), "1");
            assert_eq!(read(&format!("net/ipv4/conf/{p}/arp_announce")), "2");
        }
        assert_eq!(read("net/ipv4/conf/p0/arp_ignore"), "0", "an interface not named is left alone");
        assert_eq!(sysctl::apply(&config, root()).unwrap(), vec![], "re-applying changes nothing");
    });
    let host_after = std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap();
    assert_eq!(host_before, host_after, "the host's own value is untouched");
}

#[test]
fn director_ip_forward_follows_the_config() {
    in_netns(|| {
        let initial = read("net/ipv4/ip_forward");
        let on = model("Appliance(role: Director())");
        let changes = sysctl::apply(&on, root()).unwrap();
        if initial == "1" {
            assert!(changes.is_empty());
        } else {
            assert_eq!(lines(&changes), ["~ sysctl net.ipv4.ip_forward 0 -> 1"]);
        }
        assert_eq!(read("net/ipv4/ip_forward"), "1");
        let off = model("Appliance(role: Director(ip_forward: false))");
        assert_eq!(lines(&sysctl::apply(&off, root()).unwrap()), ["~ sysctl net.ipv4.ip_forward 1 -> 0"]);
        assert_eq!(read("net/ipv4/ip_forward"), "0");
    });
}

/// The host kernel has no IPVS, so /proc/sys/net/ipv4/vs is missing: the
/// error says so; a temp tree laid out as the kernel's takes the values.
#[test]
fn director_ipvs_knobs_only_those_the_config_sets() {
    let config = model("Appliance(role: Director(ipvs_sysctls: IpvsSysctls(conntrack: true, expire_nodest_conn: false)))");
    in_netns(move || {
        let err = sysctl::apply(&config, root()).unwrap_err();
        assert_eq!(err.failures.len(), 2);
        assert!(err.to_string().contains("the ip_vs module is not loaded"), "{err}");
        assert_eq!(read("net/ipv4/ip_forward"), "1", "ip_forward is written even though the IPVS knobs fail");

        let tree = tempfile::tempdir().unwrap();
        for (name, value) in [("ip_forward", "0"), ("vs/conntrack", "0"), ("vs/expire_nodest_conn", "0"), ("vs/sloppy_tcp", "0")] {
            let p = tree.path().join("net/ipv4").join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{value}\n")).unwrap();
        }
        assert_eq!(
            lines(&sysctl::apply(&config, tree.path()).unwrap()),
            ["~ sysctl net.ipv4.ip_forward 0 -> 1", "~ sysctl net.ipv4.vs.conntrack 0 -> 1"]
        );
        assert_eq!(std::fs::read_to_string(tree.path().join("net/ipv4/vs/sloppy_tcp")).unwrap(), "0\n");
    });
}

/// Without ipip on the host there is no tunl0: its settings fail with a hint,
/// and `all` is still written.
#[test]
fn tunnel_real_server_rp_filter_and_a_missing_tunl0() {
    in_netns(|| {
        std::fs::write("/proc/sys/net/ipv4/conf/all/rp_filter", "1").unwrap();
        let config = model(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10"]))"#);
        let err = sysctl::apply(&config, root()).unwrap_err();
        assert_eq!(
            err.failures.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["net.ipv4.conf.tunl0.arp_ignore", "net.ipv4.conf.tunl0.arp_announce", "net.ipv4.conf.tunl0.rp_filter"]
        );
        assert!(err.to_string().contains("interface tunl0 does not exist: the ipip module is not loaded"), "{err}");
        assert_eq!(
            lines(&err.applied),
            [
                "~ sysctl net.ipv4.conf.all.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.all.arp_announce 0 -> 2",
                "~ sysctl net.ipv4.conf.all.rp_filter 1 -> 0",
            ]
        );
        assert_eq!(read("net/ipv4/conf/all/rp_filter"), "0");
    });
}
