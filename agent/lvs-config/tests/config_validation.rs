//! Every validation rule, each with a bad file: the error names the line and
//! column of the offending value and says what to do.

mod common;
use common::*;

#[test]
fn a_good_director_is_accepted_with_defaults_filled_in() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", scheduler: Wrr, real_servers: [
                RealServer(address: "192.0.2.21"),
                RealServer(address: "192.0.2.22:80", weight: 3),
            ])"#,
    );
    let loaded = parse(&text).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let lvs_config::model::Role::Director(d) = &loaded.model.role else { panic!() };
    let table = d.table();
    let vs = &table.services[0];
    assert_eq!(vs.service.scheduler, lvs_ipvs::Scheduler::Wrr);
    // The port left out is the service's; weight defaults to 1 as in ipvsadm.
    assert_eq!(vs.dests[0].addr.to_string(), "192.0.2.21:80");
    assert_eq!(vs.dests[0].weight, 1);
    assert_eq!(vs.dests[1].weight, 3);
    assert_eq!(vs.dests[0].forward, lvs_ipvs::Forward::DirectRouting);
}

#[test]
fn unknown_field() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [
                RealServer(address: "192.0.2.21", wieght: 2),
            ])"#,
    );
    let d = assert_error_at(&text, "wieght", "Unexpected field named `wieght`");
    assert!(d.help.unwrap().contains("did you mean `weight`"));
}

#[test]
fn unknown_scheduler_lists_the_valid_ones() {
    let text = director(r#"Service(address: "192.0.2.80:80", scheduler: Roundrobin, real_servers: [])"#);
    let d = assert_error_at(&text, "Roundrobin", "Unexpected variant named `Roundrobin`");
    let all = format!("{} {}", d.message, d.help.unwrap());
    for name in ["Rr", "Wrr", "Lc", "Wlc", "Lblc", "Lblcr", "Dh", "Sh", "Sed", "Nq", "Fo", "Ovf", "Mh", "Twos"] {
        assert!(all.contains(&format!("`{name}`")), "{name} missing from: {all}");
    }
}

#[test]
fn a_lower_case_scheduler_gets_a_suggestion() {
    let text = director(r#"Service(address: "192.0.2.80:80", scheduler: wrr, real_servers: [])"#);
    let d = assert_error_at(&text, "wrr", "`wrr`");
    assert!(d.help.unwrap().contains("did you mean `Wrr`"));
}

#[test]
fn weight_out_of_range() {
    for bad in ["-1", "2147483648"] {
        let text = director(&format!(
            r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", weight: {bad})])"#
        ));
        assert_error_at(&text, bad, &format!("weight {bad} is outside 0 to 2147483647"));
    }
    let top = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", weight: 2147483647)])"#,
    );
    parse(&top).unwrap();
}

#[test]
fn duplicate_service() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21")]),
            Service(address: "192.0.2.80:80", scheduler: Rr, real_servers: [RealServer(address: "192.0.2.22")])"#,
    );
    assert_error_at(&text, "Service(address: \"192.0.2.80:80\", scheduler: Rr", "defined twice");
    // Same address and port, other protocol: a different service.
    let ok = director(
        r#"Service(address: "192.0.2.80:53", protocol: Tcp, real_servers: [RealServer(address: "192.0.2.21")]),
            Service(address: "192.0.2.80:53", protocol: Udp, real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    parse(&ok).unwrap();
}

#[test]
fn duplicate_real_server_within_a_service() {
    // The second one leaves the port out, which makes it the same address and port.
    let text = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [
                RealServer(address: "192.0.2.21:80"),
                RealServer(address: "192.0.2.21", weight: 2),
            ])"#,
    );
    assert_error_at(&text, "\"192.0.2.21\", weight: 2", "listed twice");
}

#[test]
fn dr_real_server_on_another_port_is_refused_with_the_reason() {
    let text = director(
        r#"Service(address: "192.0.2.80:8099", forwarding: DirectRouting, real_servers: [
                RealServer(address: "192.0.2.21:80"),
            ])"#,
    );
    let d = assert_error_at(&text, "\"192.0.2.21:80\"", "cannot change the port");
    let help = d.help.unwrap();
    assert!(help.contains("forwarding: Nat"), "{help}");
    assert!(help.contains("silently"), "{help}");
}

#[test]
fn tun_real_server_on_another_port_is_refused_but_nat_may_map_ports() {
    let tun = director(
        r#"Service(address: "192.0.2.80:80", forwarding: Tunnel, real_servers: [RealServer(address: "192.0.2.21:8080")])"#,
    );
    assert_error_at(&tun, "\"192.0.2.21:8080\"", "cannot change the port");
    let nat = director(
        r#"Service(address: "192.0.2.80:80", forwarding: Nat, real_servers: [RealServer(address: "192.0.2.21:8080")])"#,
    );
    parse(&nat).unwrap();
    // A per-real-server override decides, not the service's default.
    let mixed = director(
        r#"Service(address: "192.0.2.80:80", forwarding: DirectRouting, real_servers: [
                RealServer(address: "192.0.2.21:8080", forwarding: Nat),
            ])"#,
    );
    parse(&mixed).unwrap();
}

#[test]
fn fwmark_zero() {
    let text = director(r#"Service(fwmark: 0, real_servers: [RealServer(address: "192.0.2.21")])"#);
    assert_error_at(&text, "0, real_servers", "fwmark 0");
}

#[test]
fn bad_persistence_netmask() {
    let cases = [
        ("192.0.2.80:80", "255.0.255.0", "not a contiguous netmask"),
        ("192.0.2.80:80", "/33", "prefix length from 1 to 32"),
        ("[2001:db8::80]:80", "255.255.255.0", "IPv4 netmask, but the service is IPv6"),
        ("[2001:db8::80]:80", "/129", "prefix length from 1 to 128"),
        ("192.0.2.80:80", "everyone", "neither a netmask nor a prefix length"),
    ];
    for (addr, mask, message) in cases {
        let rs = if addr.starts_with('[') { "[2001:db8::21]" } else { "192.0.2.21" };
        let text = director(&format!(
            r#"Service(address: "{addr}", persistence: Persistence(timeout: "60s", netmask: "{mask}"), real_servers: [RealServer(address: "{rs}")])"#
        ));
        let d = assert_error_at(&text, &format!("\"{mask}\""), message);
        assert!(d.message.starts_with(&format!("persistence netmask `{mask}` is")), "{}", d.message);
        assert_eq!(d.message.matches(mask).count(), 1, "the netmask is named once: {}", d.message);
    }
    let good = director(
        r#"Service(address: "192.0.2.80:80", persistence: Persistence(netmask: "255.255.255.0"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    parse(&good).unwrap();
}

#[test]
fn ipv4_service_with_ipv6_real_server_only_for_tunnels() {
    let text =
        director(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "[2001:db8::21]:80")])"#);
    let d = assert_error_at(&text, "\"[2001:db8::21]:80\"", "is IPv6, but service TCP 192.0.2.80:80 is IPv4");
    assert!(d.help.unwrap().contains("Tunnel"));
    // The kernel allows mixed families for tunnel forwarding.
    let tun = director(
        r#"Service(address: "192.0.2.80:80", forwarding: Tunnel, real_servers: [RealServer(address: "[2001:db8::21]:80")])"#,
    );
    parse(&tun).unwrap();
}

#[test]
fn health_timeout_not_shorter_than_interval() {
    for timeout in ["\"2s\"", "\"3s\""] {
        let text = director(&format!(
            r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "2s", timeout: {timeout}), real_servers: [RealServer(address: "192.0.2.21")])"#
        ));
        assert_error_at(&text, &format!("timeout: |{timeout}"), "is not shorter than interval");
    }
    // The same rule for a per-real-server override.
    let text = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [
                RealServer(address: "192.0.2.21", health: Http(path: "/", interval: "1s", timeout: "1s")),
            ])"#,
    );
    assert_error_at(&text, "\"1s\")", "is not shorter than interval");
}

#[test]
fn arp_suppression_off_on_a_dr_or_tun_real_server() {
    for mode in ["DirectRouting", "Tunnel"] {
        let text = real_server(&format!(
            r#"        mode: {mode},
        vips: ["192.0.2.80"],
        arp: Arp(ignore: 0, announce: 2),"#
        ));
        let d = assert_error_at(&text, "Arp(", "ARP suppression is off");
        assert!(d.help.unwrap().contains("handled_elsewhere"));
    }
    let overridden = real_server(
        r#"        mode: DirectRouting,
        vips: ["192.0.2.80"],
        arp: Arp(ignore: 0, announce: 0, handled_elsewhere: true),"#,
    );
    parse(&overridden).unwrap();
    // NAT real servers do not hold the VIP: nothing to suppress.
    let nat = real_server(
        r#"        mode: Nat,
        gateway: "192.0.2.10",
        arp: Arp(ignore: 0, announce: 0),"#,
    );
    parse(&nat).unwrap();
}

#[test]
fn real_server_defaults_follow_the_seeds() {
    use lvs_config::model::Role;
    let text = real_server(
        r#"        mode: DirectRouting,
        vips: ["192.0.2.80"],"#,
    );
    let Role::RealServer(r) = parse(&text).unwrap().model.role else { panic!() };
    assert_eq!((r.arp.ignore, r.arp.announce), (1, 2));
    assert_eq!(r.arp.interfaces, ["lo", "all"]);
    let tun = real_server(
        r#"        mode: Tunnel,
        vips: ["192.0.2.80"],"#,
    );
    let Role::RealServer(r) = parse(&tun).unwrap().model.role else { panic!() };
    assert_eq!(r.arp.interfaces, ["tunl0", "all"]);
    assert_eq!(r.rp_filter, Some((0, vec!["tunl0".to_string(), "all".to_string()])));
}

#[test]
fn warning_service_without_real_servers() {
    let text = director(r#"Service(address: "192.0.2.80:80", real_servers: [])"#);
    assert_warning(&text, "has no real servers");
}

#[test]
fn warning_vip_outside_every_interface_subnet() {
    let text = r#"Appliance(
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.10/24"])],
    role: Director(
        vips: [Vip(address: "198.51.100.80", interface: "eth0")],
        services: [Service(address: "198.51.100.80:80", real_servers: [RealServer(address: "192.0.2.21")])],
    ),
)"#;
    let d = assert_warning(text, "outside the subnet of every interface");
    assert_eq!(d.position, Some(position_of(text, "\"198.51.100.80\"")));
}

#[test]
fn warning_nat_service_with_ip_forward_off() {
    let text = r#"Appliance(
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.10/24"])],
    role: Director(
        ip_forward: false,
        services: [Service(address: "192.0.2.10:80", forwarding: Nat, real_servers: [RealServer(address: "192.0.2.21:8080")])],
    ),
)"#;
    let d = assert_warning(text, "ip_forward is off");
    assert_eq!(d.position, Some(position_of(text, "false")));
}

#[test]
fn several_errors_are_reported_at_once() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", real_servers: [
                RealServer(address: "192.0.2.21", weight: -5),
                RealServer(address: "192.0.2.22:81"),
            ])"#,
    );
    let Err(lvs_config::ConfigError::Invalid { errors, .. }) = parse(&text) else { panic!() };
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn values_are_checked_where_they_are_written() {
    let cases = [
        (r#"Service(address: "192.0.2.80", real_servers: [])"#, "Service(address: |\"192.0.2.80\"", "has no port"),
        (
            r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "rs1.example:80")])"#,
            "\"rs1.example:80\"",
            "is not an address",
        ),
        (
            r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "2"), real_servers: [])"#,
            "\"2\"",
            "is not a duration",
        ),
        (
            r#"Service(address: "192.0.2.80:80", health: Http(expect_status: [700]), real_servers: [])"#,
            "700",
            "between 100 and 599",
        ),
        (
            r#"Service(address: "192.0.2.80:80", fwmark: 3, real_servers: [])"#,
            "Service(",
            "either `address` or `fwmark`",
        ),
        (r#"Service(address: "192.0.2.80:0", real_servers: [])"#, "\"192.0.2.80:0\"", "port 0 but is not persistent"),
        (r#"Service(address: "192.0.2.80:80", one_packet: true, real_servers: [])"#, "true", "one-packet scheduling"),
        (
            r#"Service(address: "192.0.2.80:80", scheduler: Rr, scheduler_flags: [ShPort], real_servers: [])"#,
            "ShPort",
            "is for the sh scheduler",
        ),
        (
            r#"Service(address: "192.0.2.80:80", persistence: Persistence(timeout: "1500ms"), real_servers: [])"#,
            "\"1500ms\"",
            "whole seconds",
        ),
        (
            r#"Service(address: "192.0.2.80:80", forwarding: Tunnel, tunnel: Tunnel(kind: Gue), real_servers: [RealServer(address: "192.0.2.21")])"#,
            "Gue",
            "needs the UDP port",
        ),
        (
            r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", upper_threshold: 5, lower_threshold: 9)])"#,
            "9)",
            "above upper_threshold",
        ),
        (
            r#"Service(address: "192.0.2.80:80", health: Http(path: "health"), real_servers: [])"#,
            "\"health\"",
            "does not start with '/'",
        ),
    ];
    for (service, needle, message) in cases {
        assert_error_at(&director(service), needle, message);
    }
}

#[test]
fn a_syntax_error_names_line_and_column() {
    let text = "Appliance(\n    role: Director(services: [],\n)\n";
    let Err(lvs_config::ConfigError::Invalid { errors, .. }) = parse(text) else { panic!() };
    let pos = errors[0].position.unwrap();
    assert_eq!(pos.line, 3, "{}", errors[0]);
}

#[test]
fn workloads_are_checked_where_they_are_written() {
    let real_server = |workloads: &str| {
        format!(
            r#"Appliance(
    hostname: "rs1",
    role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"], workloads: [{workloads}]),
)"#
        )
    };
    let text = real_server(r#"Workload(command: "httpd", args: ["-f"])"#);
    assert_error_at(&text, "\"httpd\"", "is not an absolute path");
    let text = real_server(r#"Workload(command: "/bin/busybox"), Workload(command: "/bin/busybox", args: ["httpd"])"#);
    assert_error_at(&text, "\"/bin/busybox\", args", "two workloads are named `busybox`");
    let text = real_server(r#"Workload(command: "/bin/busybox", env: {"A=B": "c"})"#);
    assert_error_at(&text, "{\"A=B\"", "holds `=`");

    let ok = real_server(
        r#"Workload(name: "web", command: "/bin/busybox", args: ["httpd", "-f", "-p", "80"], env: {"LANG": "C"}, restart: OnFailure, stop_timeout: "2s")"#,
    );
    let loaded = parse(&ok).unwrap_or_else(|e| panic!("{e}"));
    let lvs_config::model::Role::RealServer(rs) = loaded.model.role else { panic!() };
    assert_eq!(rs.workloads[0].name, "web");
    assert_eq!(rs.workloads[0].env, vec![("LANG".to_string(), "C".to_string())]);
    assert_eq!(rs.workloads[0].stop_timeout, std::time::Duration::from_secs(2));
}

#[test]
fn ipvs_sysctls_keep_only_what_the_config_sets() {
    let text = r#"Appliance(
    role: Director(
        services: [Service(address: "192.0.2.10:80", real_servers: [RealServer(address: "192.0.2.21")])],
        ipvs_sysctls: IpvsSysctls(conntrack: true, sloppy_tcp: false),
    ),
)"#;
    let loaded = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let lvs_config::model::Role::Director(d) = loaded.model.role else { panic!() };
    assert_eq!(d.ipvs_sysctls, vec![("conntrack", 1), ("sloppy_tcp", 0)]);
}

/// A director with one service and these `IpvsSysctls(...)` fields.
fn with_ipvs_sysctls(fields: &str) -> String {
    format!(
        r#"Appliance(
    role: Director(
        services: [Service(address: "192.0.2.10:80", real_servers: [RealServer(address: "192.0.2.21")])],
        ipvs_sysctls: IpvsSysctls({fields}),
    ),
)"#
    )
}

#[test]
fn conn_reuse_mode_is_a_number_beside_the_switches() {
    for mode in 0..=3 {
        let loaded = parse(&with_ipvs_sysctls(&format!("conn_reuse_mode: {mode}, conntrack: true")))
            .unwrap_or_else(|e| panic!("{e}"));
        let lvs_config::model::Role::Director(d) = &loaded.model.role else { panic!() };
        assert_eq!(d.ipvs_sysctls, vec![("conn_reuse_mode", mode), ("conntrack", 1)]);
        let again = parse(&lvs_config::to_ron(&loaded.raw)).unwrap();
        assert_eq!(again.model, loaded.model, "the number survives a round trip through ron");
    }
}

#[test]
fn conn_reuse_mode_outside_its_two_bits_is_refused_where_it_is_written() {
    for bad in ["4", "-1", "4294967297"] {
        let text = with_ipvs_sysctls(&format!("conn_reuse_mode: {bad}"));
        let d = assert_error_at(
            &text,
            &format!("conn_reuse_mode: |{bad}"),
            &format!("conn_reuse_mode {bad} is outside 0 to 3"),
        );
        let help = d.help.unwrap();
        assert!(help.contains("bitmap") && help.contains("kernel's 1"), "{help}");
    }
}

#[test]
fn a_tun_real_server_cannot_hold_an_ipv6_vip() {
    let text = r#"Appliance(
    role: RealServer(mode: Tunnel, vips: ["192.0.2.80", "2001:db8::80"]),
)"#;
    assert_error_at(text, "\"2001:db8::80\"", "carries IPv4 in IPv4 only");
}

/// A director with one service and the given sync daemons.
fn with_daemons(daemons: &str) -> String {
    director(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21")])"#)
        .replace("services: [", &format!("sync_daemons: [{daemons}],\n        services: ["))
}

#[test]
fn sync_daemon_multicast_settings_reach_the_table() {
    let text = with_daemons(
        r#"SyncDaemon(state: Master, interface: "eth0", sync_id: 7, sync_maxlen: 1400, mcast_group: "239.0.2.1", mcast_port: 8849, mcast_ttl: 3),
           SyncDaemon(state: Backup, interface: "eth0", mcast_group: "ff05::1:2")"#,
    );
    let loaded = parse(&text).unwrap();
    let lvs_config::model::Role::Director(d) = &loaded.model.role else { panic!() };
    let daemons = d.table().daemons;
    assert_eq!(daemons[0].sync_maxlen, Some(1400));
    assert_eq!(daemons[0].mcast_group, Some("239.0.2.1".parse().unwrap()));
    assert_eq!((daemons[0].mcast_port, daemons[0].mcast_ttl), (Some(8849), Some(3)));
    assert_eq!(daemons[1].mcast_group, Some("ff05::1:2".parse().unwrap()));
    assert_eq!((daemons[1].sync_maxlen, daemons[1].mcast_port, daemons[1].mcast_ttl), (None, None, None));
}

#[test]
fn sync_daemon_group_must_be_multicast() {
    let text = with_daemons(r#"SyncDaemon(state: Master, interface: "eth0", mcast_group: "192.0.2.9")"#);
    let d = assert_error_at(&text, "\"192.0.2.9\"", "mcast_group 192.0.2.9 is not a multicast address");
    assert!(d.help.unwrap().contains("224.0.0.0/4"));
}

#[test]
fn sync_daemon_maxlen_the_kernel_would_change_is_refused() {
    // A backup takes no less than 1024; over IPv6 the headers leave 65487.
    for (daemon, needle, message) in [
        (
            r#"SyncDaemon(state: Backup, interface: "eth0", sync_maxlen: 1000)"#,
            "1000",
            "sync_maxlen 1000 is outside 1024 to 65507 for a backup daemon",
        ),
        (
            r#"SyncDaemon(state: Master, interface: "eth0", sync_maxlen: -1)"#,
            "-1",
            "sync_maxlen -1 is outside 1 to 65507 for a master daemon",
        ),
        (
            r#"SyncDaemon(state: Master, interface: "eth0", mcast_group: "ff05::1", sync_maxlen: 65500)"#,
            "65500",
            "sync_maxlen 65500 is outside 1 to 65487 for a master daemon",
        ),
    ] {
        assert_error_at(&with_daemons(daemon), needle, message);
    }
    parse(&with_daemons(r#"SyncDaemon(state: Master, interface: "eth0", sync_maxlen: 65507)"#)).unwrap();
    parse(&with_daemons(r#"SyncDaemon(state: Backup, interface: "eth0", sync_maxlen: 1024)"#)).unwrap();
}

#[test]
fn sync_daemon_port_and_ttl_zero_are_refused() {
    let text = with_daemons(r#"SyncDaemon(state: Master, interface: "eth0", mcast_port: 0, mcast_ttl: 0)"#);
    let d = assert_error_at(&text, "mcast_port: |0", "mcast_port 0 is outside 1 to 65535");
    assert!(d.help.unwrap().contains("8848"));
    let d = assert_error_at(&text, "mcast_ttl: |0", "mcast_ttl 0 is outside 1 to 255");
    assert!(d.help.unwrap().contains("leave mcast_ttl out"));
    let big = with_daemons(r#"SyncDaemon(state: Master, interface: "eth0", mcast_port: 65536, mcast_ttl: 256)"#);
    assert_error_at(&big, "65536", "mcast_port 65536 is outside 1 to 65535");
    assert_error_at(&big, "256)", "mcast_ttl 256 is outside 1 to 255");
}

#[test]
fn no_sync_daemon_beside_a_real_server_of_another_family() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", forwarding: Tunnel, real_servers: [RealServer(address: "2001:db8::21")])"#,
    )
    .replace("services: [", "sync_daemons: [SyncDaemon(state: Master, interface: \"eth0\")],\n        services: [");
    let d = assert_error_at(
        &text,
        "[SyncDaemon(state: Master",
        "real server of another address family (TCP 192.0.2.80:80 -> [2001:db8::21]:80)",
    );
    assert!(d.help.unwrap().contains("drop the sync daemons"));
}

#[test]
fn four_thousand_warnings_are_each_placed_where_they_are_written() {
    // Each service without real servers is a warning. Placing them once cost
    // a parse of the whole file each (45 s for this file in a release build);
    // now the walks over the text do not grow with the number of problems.
    let line = |i: usize| {
        format!("            Service(address: \"192.0.2.{}:{}\", real_servers: []),", i % 200 + 1, i / 200 + 1)
    };
    let services: Vec<String> = (0..4000).map(line).collect();
    let text = director(&services.join("\n"));
    let loaded = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.warnings.len(), 4000);
    let first = position_of(&text, "real_servers: |[]");
    for (i, w) in loaded.warnings.iter().enumerate() {
        let column = line(i).find("[]").unwrap() + 1;
        assert_eq!(w.position, Some(lvs_config::Position { line: first.line + i, column }), "{w}");
        assert!(w.message.contains("has no real servers"), "{w}");
    }
}

#[test]
fn a_huge_unknown_field_name_is_refused_without_a_suggestion_or_a_huge_line() {
    // 3 MB: under the size cap, and far beyond what a suggestion compares.
    let name = "w".repeat(3 * 1024 * 1024);
    let text = director(&format!(
        r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", {name}: 2)])"#
    ));
    let d = assert_error_at(&text, &name, "Unexpected field named `www");
    assert!(d.message.contains(&format!("cut to its first 40 of {} characters", name.len())), "{}", d.message);
    assert!(d.message.len() < 300, "{}", d.message);
    let help = d.help.unwrap();
    assert!(help.starts_with("remove the field; the fields here are `address`"), "{help}");
}

#[test]
fn text_over_the_size_cap_is_refused_unread() {
    let cap = lvs_config::MAX_CONFIG_BYTES as usize;
    let text = format!("{}{}", director(""), " ".repeat(cap));
    let Err(lvs_config::ConfigError::Invalid { errors, .. }) = parse(&text) else { panic!("accepted") };
    let shown = errors[0].to_string();
    assert!(
        shown.starts_with(&format!("test.ron: error: the config is {} bytes, more than the 4194304 bytes", text.len())),
        "{shown}"
    );
    assert!(errors[0].help.is_some());
    // At the cap exactly, the text is read.
    let at_cap = format!("{}{}", director(r#"Service(address: "192.0.2.80:80", real_servers: [])"#), " ");
    let at_cap = format!("{at_cap}{}", " ".repeat(cap - at_cap.len()));
    assert_eq!(at_cap.len(), cap);
    parse(&at_cap).unwrap();
}

#[test]
fn a_file_over_the_size_cap_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("lvs-config-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.ron");
    // Sparse: the size is known without a byte written, and nothing would be read.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(lvs_config::MAX_CONFIG_BYTES + 1).unwrap();
    let e = lvs_config::load(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    let lvs_config::ConfigError::Invalid { errors, .. } = &e else { panic!("{e}") };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: error: the config is 4194305 bytes, more than the 4194304 bytes (4 MiB) a config may have\n  \
             help: a config takes a few KiB even with hundreds of services: check that this is the config file",
            path.display()
        )
    );
}

#[test]
fn ipvs_timeouts_stop_at_what_every_kernel_takes() {
    let with_timeouts = |timeouts: &str| {
        director(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21")])"#)
            .replace("services: [", &format!("timeouts: Timeouts({timeouts}),\n        services: ["))
    };
    // INT_MAX / HZ at HZ=1000; ipvsadm's 31 days is more than that.
    parse(&with_timeouts(r#"tcp: "2147483s", tcp_fin: "120s", udp: "300s""#)).unwrap();
    for (field, value) in [("tcp", "2147484s"), ("tcp_fin", "31days"), ("udp", "500000000000y")] {
        let text = with_timeouts(&format!("{field}: \"{value}\""));
        let d = assert_error_at(&text, &format!("\"{value}\""), "whole seconds from 1s to 2147483s");
        assert!(d.help.unwrap().contains("from 1 to 2147483"));
    }
    let persistent = director(
        r#"Service(address: "192.0.2.80:80", persistence: Persistence(timeout: "500000000000y"), real_servers: [])"#,
    );
    let d = assert_error_at(&persistent, "\"500000000000y\"", "whole seconds from 1s to 2678400s (31 days");
    assert!(d.help.unwrap().contains("from 1 to 2678400"));
}

#[test]
fn a_workload_stop_timeout_is_at_most_an_hour() {
    for value in ["61m", "500000000000y"] {
        let text = format!(
            r#"Appliance(
    role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"], workloads: [Workload(command: "/bin/busybox", stop_timeout: "{value}")]),
)"#
        );
        let d = assert_error_at(&text, &format!("\"{value}\""), "is longer than 1h");
        assert!(d.help.unwrap().contains("at most 1h"));
    }
}

#[test]
fn real_and_sorry_servers_the_kernel_refuses() {
    let cases = [
        ("0.0.0.0", "is the unspecified address"),
        ("0.1.2.3", "is in 0.0.0.0/8"),
        ("255.255.255.255", "is the broadcast address"),
        ("224.0.0.18", "is a multicast address"),
        // The broadcast address of the director's own subnet (eth0 192.0.2.10/24).
        ("192.0.2.255", "is the broadcast address of 192.0.2.0/24 on eth0"),
    ];
    for (addr, message) in cases {
        let text =
            director(&format!(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "{addr}")])"#));
        let d = assert_error_at(&text, &format!("\"{addr}\""), &format!("real server {addr} {message}"));
        assert!(d.help.unwrap().contains("EINVAL"));
        let sorry = director(&format!(
            r#"Service(address: "192.0.2.80:80", sorry_server: SorryServer(address: "{addr}"), real_servers: [RealServer(address: "192.0.2.21")])"#
        ));
        assert_error_at(&sorry, &format!("\"{addr}\""), &format!("sorry server {addr} {message}"));
    }
    let v6 = [
        ("::", "is the unspecified address"),
        ("ff02::1", "is a multicast address"),
        ("fe80::1", "is link-local"),
        ("::ffff:192.0.2.21", "IPv4-mapped"),
    ];
    for (addr, message) in v6 {
        let text = director(&format!(
            r#"Service(address: "[2001:db8::80]:80", real_servers: [RealServer(address: "{addr}")])"#
        ));
        assert_error_at(&text, &format!("\"{addr}\""), message);
    }
    // Another subnet's .255 is an ordinary host as far as this director knows.
    parse(&director(
        r#"Service(address: "192.0.2.80:80", forwarding: Nat, real_servers: [RealServer(address: "198.51.100.255:8080")])"#,
    ))
    .unwrap();
}

#[test]
fn a_real_or_sorry_server_cannot_be_the_service_itself() {
    let text = director(r#"Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.80")])"#);
    let d = assert_error_at(
        &text,
        "\"192.0.2.80\")",
        "real server 192.0.2.80:80 is the address of service TCP 192.0.2.80:80 itself",
    );
    assert!(d.help.unwrap().contains("own address"));
    let sorry = director(
        r#"Service(address: "192.0.2.80:80", forwarding: Nat, sorry_server: SorryServer(address: "192.0.2.80:80"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    assert_error_at(&sorry, "\"192.0.2.80:80\")", "sorry server 192.0.2.80:80 is the address of service");
    // The director itself on another port, through NAT, is another server.
    parse(&director(
        r#"Service(address: "192.0.2.80:80", forwarding: Nat, real_servers: [RealServer(address: "192.0.2.80:8080")])"#,
    ))
    .unwrap();
}

#[test]
fn services_and_vips_name_one_host() {
    for (addr, message) in [
        ("0.0.0.0:80", "service address 0.0.0.0 is the unspecified address"),
        ("[::]:80", "service address :: is the unspecified address"),
        ("224.0.0.1:80", "service address 224.0.0.1 is a multicast address"),
    ] {
        let text = director(&format!(r#"Service(address: "{addr}", real_servers: [])"#));
        assert_error_at(&text, &format!("\"{addr}\""), message).help.unwrap();
    }
    let vip = director("").replace(r#"Vip(address: "192.0.2.80""#, r#"Vip(address: "0.0.0.0""#);
    assert_error_at(&vip, "\"0.0.0.0\"", "VIP 0.0.0.0 is the unspecified address");
    let rs = real_server(r#"        mode: DirectRouting, vips: ["192.0.2.80", "239.1.1.1"],"#);
    assert_error_at(&rs, "\"239.1.1.1\"", "VIP 239.1.1.1 is a multicast address");
}

#[test]
fn a_check_of_a_real_server_without_a_port_needs_a_port_of_its_own() {
    // A fwmark service and a port-0 service: the real server's port is 0.
    for service in [r#"fwmark: 5"#, r#"address: "192.0.2.80:0", persistence: Persistence()"#] {
        for check in ["Tcp()", "Http(path: \"/\")", "Udp(payload: \"ping\")"] {
            let text = director(&format!(
                r#"Service({service}, health: {check}, real_servers: [RealServer(address: "192.0.2.21")])"#
            ));
            let d = assert_error_at(&text, "\"192.0.2.21\"", "real server 192.0.2.21:0 has no port");
            assert!(d.message.contains("it would probe port 0"), "{}", d.message);
            let help = d.help.unwrap();
            assert!(help.contains("\"192.0.2.21:80\"") && help.contains("(port: 80)"), "{help}");
        }
        // A port on the check, or on the real server, is enough.
        parse(&director(&format!(
            r#"Service({service}, health: Tcp(port: 80), real_servers: [RealServer(address: "192.0.2.21")])"#
        )))
        .unwrap();
        parse(&director(&format!(
            r#"Service({service}, forwarding: Nat, health: Tcp(), real_servers: [RealServer(address: "192.0.2.21:80")])"#
        )))
        .unwrap();
    }
    // The real server's own check counts as its check.
    let text =
        director(r#"Service(fwmark: 5, real_servers: [RealServer(address: "192.0.2.21", health: Http(path: "/"))])"#);
    assert_error_at(&text, "\"192.0.2.21\"", "neither has its HTTP check");
}

#[test]
fn control_characters_in_names_are_refused_and_never_printed_raw() {
    let text = r#"Appliance(
    hostname: "lb1\nlb1: ok: forged",
    interfaces: [Interface(name: "eth\u{0}0", addresses: ["192.0.2.10/24"])],
    role: Director(services: []),
)"#;
    let d = assert_error_at(text, "\"lb1", "is not a valid host name");
    let shown = d.to_string();
    assert_eq!(shown.lines().count(), 2, "one line of message, one of help: {shown}");
    assert!(shown.contains(r"hostname `lb1\nlb1: ok: forged`"), "{shown}");
    let d = assert_error_at(text, "\"eth", "is not a Linux interface name");
    assert!(d.message.contains(r"`eth\u{0}0`"), "{}", d.message);
    assert!(d.help.unwrap().contains("control characters"));
}

#[test]
fn workload_commands_args_and_env_hold_no_control_characters() {
    let with = |workload: &str| {
        format!(
            r#"Appliance(
    role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"], workloads: [{workload}]),
)"#
        )
    };
    let cases = [
        (r#"Workload(command: "/bin/busy\u{0}box")"#, "\"/bin/busy", "holds a control character"),
        (r#"Workload(name: "web\nweb started", command: "/bin/busybox")"#, "\"web", "is empty or holds a control"),
        (r#"Workload(command: "/bin/busybox", args: ["httpd", "-f\r\n"])"#, "\"-f", "argument `-f\\r\\n` holds a NUL"),
        (r#"Workload(command: "/bin/busybox", env: {"A\u{1b}": "c"})"#, "{\"A", "name `A\\u{1b}` is empty"),
        (r#"Workload(command: "/bin/busybox", env: {"TERM": "x\u{0}"})"#, "{\"TERM", "variable TERM holds a NUL"),
    ];
    for (workload, needle, message) in cases {
        assert_error_at(&with(workload), needle, message);
    }
    // A tab in an argument or a value is harmless.
    parse(&with(r#"Workload(command: "/bin/busybox", args: ["a\tb"], env: {"IFS": "\t"})"#)).unwrap();
}

#[test]
fn routes_are_networks_and_one_per_destination_and_metric() {
    let with_routes = |routes: &str| {
        real_server(r#"        mode: Nat, gateway: "192.0.2.10","#)
            .replace("    role:", &format!("    routes: [{routes}],\n    role:"))
    };
    let d = assert_error_at(
        &with_routes(r#"Route(to: "198.51.100.5/24", via: "192.0.2.1")"#),
        "\"198.51.100.5/24\"",
        "route destination 198.51.100.5/24 has host bits set",
    );
    assert!(d.help.unwrap().contains("\"198.51.100.0/24\""));
    let two = with_routes(r#"Route(to: "default", via: "192.0.2.1"), Route(to: "default", via: "192.0.2.2")"#);
    let d = assert_error_at(
        &two,
        "\"default\", via: \"192.0.2.2\"",
        "a second route to default with metric 0 (first as routes[0])",
    );
    assert!(d.help.unwrap().contains("higher `metric`"));
    // IPv6 routes without a metric get 1024.
    let v6 = with_routes(
        r#"Route(to: "default", via: "2001:db8::1"), Route(to: "default", via: "2001:db8::2", metric: 1024)"#,
    );
    assert_error_at(&v6, "\"default\", via: \"2001:db8::2\"", "with metric 1024");
    // Other metrics, or one default route per family, are fine.
    parse(&with_routes(
        r#"Route(to: "default", via: "192.0.2.1"), Route(to: "default", via: "192.0.2.2", metric: 100)"#,
    ))
    .unwrap();
    parse(&with_routes(r#"Route(to: "default", via: "192.0.2.1"), Route(to: "default", via: "2001:db8::1")"#)).unwrap();
    parse(&with_routes(
        r#"Route(to: "198.51.100.0/24", via: "192.0.2.1"), Route(to: "198.51.100.7", via: "192.0.2.1")"#,
    ))
    .unwrap();
}

#[test]
fn the_http_root_is_a_full_path_without_dot_dot() {
    for (root, message) in [
        ("www", "http root `www` is not an absolute path"),
        ("/www/../etc", "http root `/www/../etc` has a `..` in it"),
        ("/www\n", "http root `/www\\n` holds a control character"),
    ] {
        let text = real_server(&format!(
            r#"        mode: DirectRouting, vips: ["192.0.2.80"], http: StaticHttp(root: "{}"),"#,
            root.replace('\n', "\\n")
        ));
        assert_error_at(&text, "root: |\"", message);
    }
    parse(&real_server(r#"        mode: DirectRouting, vips: ["192.0.2.80"], http: StaticHttp(root: "/www/site"),"#))
        .unwrap();
}

#[test]
fn a_state_dir_holds_no_control_characters() {
    let text = "Appliance(\n    state_dir: \"/var/lib/lvs\\u{1b}[2J\",\n    role: Director(services: []),\n)";
    assert_error_at(text, "\"/var", "state_dir `/var/lib/lvs\\u{1b}[2J` holds a control character");
}
