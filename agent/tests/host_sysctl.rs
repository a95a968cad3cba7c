//! Host tests, as root, of `sysctl::apply` and `sysctl::put_back` on the real
//! /proc/sys inside a network namespace the test makes (/proc/sys/net shows
//! the calling thread's namespace, so the host's values are never touched).
//!
//! Some depend on modules: the IPVS knobs exist only with ip_vs loaded, tunl0
//! only with ipip. Each such test looks at what the namespace has and checks
//! the real writes where the module is there, else the "load the module"
//! error (this project's host kernel has neither; the lab's guests have both).

use lvs_agent::sysctl::{self, SysctlChange};
use std::path::Path;
use std::process::Command;

mod common;
use common::host::{model, sysctl as sysctl_value};
use common::netns::in_netns;

fn write(path: &str, value: &str) {
    std::fs::write(Path::new("/proc/sys").join(path), value).unwrap();
}

fn lines(changes: &[SysctlChange]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

fn root() -> &'static Path {
    Path::new(sysctl::PROC_SYS)
}

/// The change lines writing `want` gives, from the values there now:
/// `(path under /proc/sys, sysctl(8) name, wanted value)`.
fn expected(wants: &[(&str, &str, &str)]) -> Vec<String> {
    wants
        .iter()
        .filter_map(|(path, name, want)| {
            let now = sysctl_value(path);
            (now != *want).then(|| format!("~ sysctl {name} {now} -> {want}"))
        })
        .collect()
}

#[test]
fn dr_real_server_arp_suppression_including_an_interface_with_a_dot() {
    let host_before = std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap();
    in_netns(|| {
        let out =
            Command::new("ip").args(["link", "add", "v0.100", "type", "veth", "peer", "name", "p0"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for p in ["lo", "all", "v0.100"] {
            assert_eq!(sysctl_value(&format!("net/ipv4/conf/{p}/arp_ignore")), "0");
            assert_eq!(sysctl_value(&format!("net/ipv4/conf/{p}/arp_announce")), "0");
        }
        let config = model(
            r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"],
                arp: Arp(ignore: 1, announce: 2, interfaces: ["lo", "all", "v0.100"])))"#,
        );
        let record = tempfile::tempdir().unwrap();
        let report = sysctl::apply(&config, root(), record.path()).unwrap();
        assert_eq!(
            lines(&report.changes),
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
            assert_eq!(sysctl_value(&format!("net/ipv4/conf/{p}/arp_ignore")), "1");
            assert_eq!(sysctl_value(&format!("net/ipv4/conf/{p}/arp_announce")), "2");
        }
        assert_eq!(sysctl_value("net/ipv4/conf/p0/arp_ignore"), "0", "an interface not named is left alone");
        assert_eq!(
            sysctl::apply(&config, root(), record.path()).unwrap(),
            sysctl::SysctlReport::default(),
            "re-applying changes nothing"
        );
    });
    let host_after = std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap();
    assert_eq!(host_before, host_after, "the host's own value is untouched");
}

/// Apply sets the values and records the originals; re-applying writes
/// nothing; a config without them (here: the same appliance turned director)
/// puts back exactly what the agent changed, and a key the agent found
/// already right, or never named, keeps its value. A restarted agent (a new
/// call with the same record folder) knows the originals.
#[test]
fn settings_the_config_drops_are_put_back_and_only_those() {
    in_netns(|| {
        let out =
            Command::new("ip").args(["link", "add", "v0.100", "type", "veth", "peer", "name", "p0"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        write("net/ipv4/ip_forward", "0");
        write("net/ipv4/conf/all/arp_ignore", "0");
        write("net/ipv4/conf/all/arp_announce", "0");
        write("net/ipv4/conf/lo/arp_announce", "2"); // a person set it already: not the agent's
        write("net/ipv4/conf/p0/arp_ignore", "3"); // never named
        let dr = model(
            r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"],
                arp: Arp(ignore: 1, announce: 2, interfaces: ["lo", "all", "v0.100"])))"#,
        );
        let record = tempfile::tempdir().unwrap();
        let rec = record.path().join("sysctl");
        let report = sysctl::apply(&dr, root(), &rec).unwrap();
        assert_eq!(
            lines(&report.changes),
            [
                "~ sysctl net.ipv4.conf.lo.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.all.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.all.arp_announce 0 -> 2",
                "~ sysctl net.ipv4.conf.v0/100.arp_ignore 0 -> 1",
                "~ sysctl net.ipv4.conf.v0/100.arp_announce 0 -> 2",
            ]
        );
        let file = rec.join(sysctl::record::FILE_NAME);
        let recorded = std::fs::read_to_string(&file).unwrap();
        assert!(
            recorded.contains("\"net/ipv4/conf/v0.100/arp_ignore\""),
            "a dotted name is one component in the record: {recorded}"
        );

        assert_eq!(
            sysctl::apply(&dr, root(), &rec).unwrap(),
            sysctl::SysctlReport::default(),
            "re-applying writes nothing"
        );
        assert_eq!(sysctl::put_back(&dr, root(), &rec).unwrap(), sysctl::SysctlReport::default());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), recorded, "nor rewrites the record");

        let director = model("Appliance(role: Director())");
        let set = sysctl::apply(&director, root(), &rec).unwrap();
        assert_eq!(lines(&set.changes), ["~ sysctl net.ipv4.ip_forward 0 -> 1"]);
        let back = sysctl::put_back(&director, root(), &rec).unwrap();
        assert_eq!(
            lines(&back.changes),
            [
                "~ sysctl net.ipv4.conf.lo.arp_ignore 1 -> 0 (put back: the config no longer sets it)",
                "~ sysctl net.ipv4.conf.all.arp_ignore 1 -> 0 (put back: the config no longer sets it)",
                "~ sysctl net.ipv4.conf.all.arp_announce 2 -> 0 (put back: the config no longer sets it)",
                "~ sysctl net.ipv4.conf.v0/100.arp_ignore 1 -> 0 (put back: the config no longer sets it)",
                "~ sysctl net.ipv4.conf.v0/100.arp_announce 2 -> 0 (put back: the config no longer sets it)",
            ]
        );
        assert!(back.notes.is_empty(), "{:?}", back.notes);
        for (path, value) in [
            ("net/ipv4/conf/lo/arp_ignore", "0"),
            ("net/ipv4/conf/lo/arp_announce", "2"),
            ("net/ipv4/conf/v0.100/arp_ignore", "0"),
            ("net/ipv4/conf/v0.100/arp_announce", "0"),
            ("net/ipv4/conf/all/arp_ignore", "0"),
            ("net/ipv4/conf/all/arp_announce", "0"),
            ("net/ipv4/conf/p0/arp_ignore", "3"),
            ("net/ipv4/ip_forward", "1"),
        ] {
            assert_eq!(sysctl_value(path), value, "{path}");
        }
        assert_eq!(
            sysctl::put_back(&director, root(), &rec).unwrap(),
            sysctl::SysctlReport::default(),
            "put back once"
        );

        // And back to nothing: ip_forward, which the agent turned on, goes off again.
        let none = model(r#"Appliance(role: RealServer(mode: Nat, gateway: "192.0.2.1"))"#);
        assert!(sysctl::apply(&none, root(), &rec).unwrap().changes.is_empty());
        let back = sysctl::put_back(&none, root(), &rec).unwrap();
        assert_eq!(
            lines(&back.changes),
            ["~ sysctl net.ipv4.ip_forward 1 -> 0 (put back: the config no longer sets it)"]
        );
        assert_eq!(sysctl_value("net/ipv4/ip_forward"), "0");
    });
}

#[test]
fn director_ip_forward_follows_the_config() {
    in_netns(|| {
        let record = tempfile::tempdir().unwrap();
        let initial = sysctl_value("net/ipv4/ip_forward");
        let on = model("Appliance(role: Director())");
        let changes = sysctl::apply(&on, root(), record.path()).unwrap().changes;
        if initial == "1" {
            assert!(changes.is_empty());
        } else {
            assert_eq!(lines(&changes), ["~ sysctl net.ipv4.ip_forward 0 -> 1"]);
        }
        assert_eq!(sysctl_value("net/ipv4/ip_forward"), "1");
        let off = model("Appliance(role: Director(ip_forward: false))");
        assert_eq!(
            lines(&sysctl::apply(&off, root(), record.path()).unwrap().changes),
            ["~ sysctl net.ipv4.ip_forward 1 -> 0"]
        );
        assert_eq!(sysctl_value("net/ipv4/ip_forward"), "0");
    });
}

/// With ip_vs loaded, /proc/sys/net/ipv4/vs exists in every namespace and the
/// knobs the config sets are written there (and no other); without it, the
/// error says to load it and ip_forward is written all the same. Either way, a
/// temp tree laid out as the kernel's takes the values.
#[test]
fn director_ipvs_knobs_only_those_the_config_sets() {
    let config =
        model("Appliance(role: Director(ipvs_sysctls: IpvsSysctls(conntrack: true, expire_nodest_conn: false)))");
    in_netns(move || {
        let record = tempfile::tempdir().unwrap();
        if Path::new("/proc/sys/net/ipv4/vs").is_dir() {
            let sloppy = sysctl_value("net/ipv4/vs/sloppy_tcp");
            let want = expected(&[
                ("net/ipv4/ip_forward", "net.ipv4.ip_forward", "1"),
                ("net/ipv4/vs/conntrack", "net.ipv4.vs.conntrack", "1"),
                ("net/ipv4/vs/expire_nodest_conn", "net.ipv4.vs.expire_nodest_conn", "0"),
            ]);
            let report = sysctl::apply(&config, root(), record.path()).unwrap();
            assert_eq!(lines(&report.changes), want);
            assert_eq!(sysctl_value("net/ipv4/vs/conntrack"), "1");
            assert_eq!(sysctl_value("net/ipv4/vs/expire_nodest_conn"), "0");
            assert_eq!(sysctl_value("net/ipv4/vs/sloppy_tcp"), sloppy, "a knob the config does not set is left alone");
            assert!(sysctl::apply(&config, root(), record.path()).unwrap().changes.is_empty());
        } else {
            let err = sysctl::apply(&config, root(), record.path()).unwrap_err();
            assert_eq!(err.failures.len(), 2);
            assert!(err.to_string().contains("the ip_vs module is not loaded"), "{err}");
            assert_eq!(
                sysctl_value("net/ipv4/ip_forward"),
                "1",
                "ip_forward is written even though the IPVS knobs fail"
            );
        }

        let tree = tempfile::tempdir().unwrap();
        for (name, value) in
            [("ip_forward", "0"), ("vs/conntrack", "0"), ("vs/expire_nodest_conn", "0"), ("vs/sloppy_tcp", "0")]
        {
            let p = tree.path().join("net/ipv4").join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{value}\n")).unwrap();
        }
        let tree_record = tempfile::tempdir().unwrap();
        assert_eq!(
            lines(&sysctl::apply(&config, tree.path(), tree_record.path()).unwrap().changes),
            ["~ sysctl net.ipv4.ip_forward 0 -> 1", "~ sysctl net.ipv4.vs.conntrack 0 -> 1"]
        );
        assert_eq!(std::fs::read_to_string(tree.path().join("net/ipv4/vs/sloppy_tcp")).unwrap(), "0\n");
    });
}

/// With ipip loaded, every namespace has tunl0 and its ARP and rp_filter
/// settings are written; without it, they fail with a hint to load the
/// module, and `all` is still written.
#[test]
fn tunnel_real_server_rp_filter_and_a_missing_tunl0() {
    in_netns(|| {
        write("net/ipv4/conf/all/rp_filter", "1");
        let config = model(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10"]))"#);
        let record = tempfile::tempdir().unwrap();
        let all = [
            ("net/ipv4/conf/all/arp_ignore", "net.ipv4.conf.all.arp_ignore", "1"),
            ("net/ipv4/conf/all/arp_announce", "net.ipv4.conf.all.arp_announce", "2"),
        ];
        if Path::new("/proc/sys/net/ipv4/conf/tunl0").is_dir() {
            let want = expected(&[
                ("net/ipv4/conf/tunl0/arp_ignore", "net.ipv4.conf.tunl0.arp_ignore", "1"),
                ("net/ipv4/conf/tunl0/arp_announce", "net.ipv4.conf.tunl0.arp_announce", "2"),
                all[0],
                all[1],
                ("net/ipv4/conf/tunl0/rp_filter", "net.ipv4.conf.tunl0.rp_filter", "0"),
                ("net/ipv4/conf/all/rp_filter", "net.ipv4.conf.all.rp_filter", "0"),
            ]);
            let report = sysctl::apply(&config, root(), record.path()).unwrap();
            assert_eq!(lines(&report.changes), want);
            for (path, value) in [("tunl0/arp_ignore", "1"), ("tunl0/arp_announce", "2"), ("tunl0/rp_filter", "0")] {
                assert_eq!(sysctl_value(&format!("net/ipv4/conf/{path}")), value, "{path}");
            }
            assert!(sysctl::apply(&config, root(), record.path()).unwrap().changes.is_empty());
        } else {
            let err = sysctl::apply(&config, root(), record.path()).unwrap_err();
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
        }
        assert_eq!(sysctl_value("net/ipv4/conf/all/rp_filter"), "0");
        assert_eq!(sysctl_value("net/ipv4/conf/all/arp_ignore"), "1");

        // The role changes to DR: ARP suppression on `all` stays, rp_filter goes back.
        let dr = model(r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"]))"#);
        sysctl::apply(&dr, root(), record.path()).unwrap();
        let back = sysctl::put_back(&dr, root(), record.path()).unwrap();
        assert!(
            lines(&back.changes).contains(
                &"~ sysctl net.ipv4.conf.all.rp_filter 0 -> 1 (put back: the config no longer sets it)".to_string()
            ),
            "{:?}",
            back.changes
        );
        assert_eq!(sysctl_value("net/ipv4/conf/all/rp_filter"), "1");
        assert_eq!(sysctl_value("net/ipv4/conf/all/arp_ignore"), "1");
    });
}
