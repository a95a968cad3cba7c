//! `import ipvsadm`: the rule forms people have, replayed as the kernel would,
//! errors naming the input line; and what `export` makes of the result.

mod common;

use lvs_config::{self as config, from_table, model::Role};
use lvs_ipvs::ipvsadm::{export, import, ImportOptions, Imported};
use lvs_ipvs::{Forward, PersistMask, Scheduler, ServiceKey, TunnelCsum, TunnelKind};
use proptest::prelude::*;
use std::path::Path;

fn lenient(text: &str) -> Imported {
    import(text, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Import, write as a config, check it, export it: what a user does.
fn import_check_export(text: &str) -> String {
    let imported = lenient(text);
    let ron = format!("{}{}", from_table::IMPORT_HEADER, config::to_ron(&from_table::director_file(&imported.table)));
    let loaded = config::parse(&ron, Path::new("imported.ron")).unwrap_or_else(|e| panic!("{e}\n{ron}"));
    let Role::Director(d) = loaded.model.role else { panic!("not a director") };
    export(&d.table()).0
}

#[test]
fn seed_004_step_4_rule_lines_import_check_and_export_the_same_rules() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/004-step4-rules.txt")).unwrap();
    let imported = lenient(&text);
    // `-e` on 192.168.2.202, which no line added, failed when the seed ran it too.
    assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
    assert_eq!(imported.warnings[0].line, 6);
    assert!(imported.warnings[0].message.contains("no such real server 192.168.2.202:80"));
    assert_eq!(
        import_check_export(&text),
        "-A -t 192.168.4.5:80 -s rr\n\
         -a -t 192.168.4.5:80 -r 192.168.2.100:80 -g -w 1\n\
         -a -t 192.168.4.5:80 -r 192.168.2.200:80 -m -w 2\n\
         -a -t 192.168.4.5:80 -r 192.168.2.201:80 -m -w 3\n\
         -A -t 192.168.4.5:3306 -s lc\n\
         -a -t 192.168.4.5:3306 -r 192.168.2.100:3306 -m -w 1\n"
    );
}

#[test]
fn ipvsadm_save_output_with_every_option_round_trips() {
    let save = "\
-A -t 192.0.2.80:80 -s wlc -p 120 -M 255.255.255.0
-a -t 192.0.2.80:80 -r 192.0.2.21:80 -g -w 1
-a -t 192.0.2.80:80 -r 192.0.2.22:80 -g -w 5
-A -u 192.0.2.80:5060 -s sh -p 300 --pe sip -o -b sh-fallback,sh-port
-a -u 192.0.2.80:5060 -r 198.51.100.7:5060 -m -w 1
-A -t [2001:db8::80]:443 -s mh -b mh-port
-a -t [2001:db8::80]:443 -r [2001:db8::21]:443 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum
-a -t [2001:db8::80]:443 -r 192.0.2.23:443 -i -w 1 --tun-type ipip
-A -f 7 -s rr
-a -f 7 -r 192.0.2.24:0 -g -w 3
-A -f 8 -6 -s wrr -p 60 -M 64
-a -f 8 -6 -r [2001:db8::25]:0 -i -w 1 --tun-type gre --tun-csum
";
    let t = lenient(save).table;
    assert_eq!(t.services.len(), 5);
    let s0 = &t.services[0].service;
    assert_eq!(s0.persistence.unwrap().timeout, 120);
    assert_eq!(s0.persistence.unwrap().netmask, PersistMask::V4("255.255.255.0".parse().unwrap()));
    let s1 = &t.services[1].service;
    assert!(s1.one_packet && s1.sched_flags.fallback && s1.sched_flags.port);
    assert_eq!(s1.pe.as_deref(), Some("sip"));
    let d = &t.services[2].dests[0];
    assert_eq!(
        (d.forward, d.tunnel.kind, d.tunnel.port, d.tunnel.csum),
        (Forward::Tunnel, TunnelKind::Gue, 6080, TunnelCsum::RemoteChecksum)
    );
    // A mixed-family tunnel destination is allowed, as in the kernel.
    assert!(t.services[2].dests[1].addr.is_ipv4());
    assert!(matches!(t.services[4].service.key, ServiceKey::Fwmark { mark: 8, .. }));
    assert_eq!(t.services[4].service.persistence.unwrap().netmask, PersistMask::V6(64));
    // The rules we write are the rules we read.
    assert_eq!(export(&t).0, save);
    assert_eq!(import_check_export(save), save);
}

#[test]
fn command_lines_as_the_seeds_write_them() {
    let script = r#"
#! /bin/bash
echo "1" > /proc/sys/net/ipv4/ip_forward
/sbin/ipvsadm -C
[root@ds1 ~]# ipvsadm -A -t 192.168.56.185:80 -s wrr
[root@ds1 ~]# ipvsadm -a -t 192.168.56.185:80 -r 192.168.56.183:80 -g -w 1
 # ipvsadm -a -t 192.168.56.185:80 -r 192.168.56.184:80 -g -w 1
ipvsadm -a -t 192.168.56.185:80 -r 192.168.56.186 -g #g为dr模式
ipvsadm -e -t 192.168.56.185:80 -r 192.168.56.183:80 -g -w 2
ipvsadm --set 30 6 60
ipvsadm -Ln
ipvsadm-save -n > /etc/sysconfig/ipvsadm
"#;
    let imported = lenient(script);
    let vs = &imported.table.services[0];
    assert_eq!(vs.service.scheduler, Scheduler::Wrr);
    let weights: Vec<u32> = vs.dests.iter().map(|d| d.weight).collect();
    assert_eq!(weights, [2, 1, 1]);
    // Without a port the real server takes the service's, as in ipvsadm.
    assert_eq!(vs.dests[2].addr.to_string(), "192.168.56.186:80");
    assert_eq!(
        (imported.table.timeouts.tcp, imported.table.timeouts.tcp_fin, imported.table.timeouts.udp),
        (30, 6, 60)
    );
    // Only the `echo` line is not ipvsadm's; the shebang is a comment.
    let lines: Vec<usize> = imported.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3]);
}

#[test]
fn dr_port_remap_imports_as_the_kernel_had_it() {
    // Seed 001's port-map attempt: ipvsadm programmed port 8099 on the real servers.
    let imported = lenient(
        "ipvsadm -A -t 192.168.56.186:8099 -s wrr\n\
         ipvsadm -a -t 192.168.56.186:8099 -r 192.168.56.183:80 -g -w 1\n",
    );
    assert_eq!(imported.table.services[0].dests[0].addr.to_string(), "192.168.56.183:8099");
    assert_eq!(imported.warnings[0].line, 2);
    assert!(imported.warnings[0].message.contains("cannot change ports"));
}

#[test]
fn clear_forgets_what_came_before() {
    let imported = lenient("-A -t 192.0.2.80:80 -s rr\n-C\n-A -t 192.0.2.80:443 -s rr\n");
    assert_eq!(imported.table.services.len(), 1);
    assert_eq!(imported.warnings[0].line, 2);
}

#[test]
fn errors_name_the_input_line() {
    let cases = [
        ("-A -t 192.0.2.80:80 -s wrr\n-A -t 192.0.2.81:80 -s fastest\n", 2, "unknown scheduler `fastest`"),
        ("\n\n-A -t 192.0.2.80:80 --bogus\n", 3, "unexpected argument '--bogus'"),
        ("-A -t ds1:http -s rr\n", 1, "ipvsadm-save -n"),
        ("ipvsadm -A -t $VIP1:80 -s wlc -p 120\n", 1, "shell variable"),
        ("-A -t 192.0.2.80:80\n-a -t 192.0.2.80:80 -r 192.0.2.21 -w 99999999999\n", 2, "weight 99999999999"),
        ("-A -t 192.0.2.80:80\n-a -t 192.0.2.80:80 -r 2001:db8::1 -g\n", 2, "only for tunneling"),
        ("-A -t 192.0.2.80:80 -p 60 -M 255.0.255.0\n", 1, "not a contiguous netmask"),
        ("-A -t 192.0.2.80:0 -s rr\n", 1, "zero port"),
        ("-A -t 192.0.2.80:80 -o\n", 1, "only for UDP"),
        ("-A -t 192.0.2.80:80 -s rr -b sh-port\n", 1, "needs -s sh"),
        ("-A -t 192.0.2.80:80\n-a -t 192.0.2.80:80 -r 192.0.2.21 -g --tun-type gue\n", 2, "need -i"),
        ("-A -f 0\n", 1, "fwmark 0"),
        ("-A -t 192.0.2.80:80 -u 192.0.2.80:80\n", 1, "exactly one of"),
    ];
    for (text, line, message) in cases {
        let e = import(text, &ImportOptions::default()).expect_err(text);
        assert_eq!(e.line, line, "{e}");
        assert!(e.to_string().contains(message), "`{message}` not in: {e}");
        assert!(e.to_string().starts_with(&format!("{line}: error: ")), "{e}");
    }
}

#[test]
fn refused_lines_are_skipped_with_a_warning_or_fail_when_strict() {
    let text = "-A -t 192.0.2.80:80\n-A -t 192.0.2.80:80 -s rr\n-d -t 192.0.2.80:80 -r 192.0.2.9\n-a -t 192.0.2.99:80 -r 192.0.2.9\n";
    let imported = lenient(text);
    let lines: Vec<usize> = imported.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    // The first -A stands: the second, refused, did not change the scheduler.
    assert_eq!(imported.table.services[0].service.scheduler, Scheduler::Wlc);
    let e = import(text, &ImportOptions { strict: true }).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("already exists"));
}

#[test]
fn edit_service_replaces_its_settings_as_ipvsadm_does() {
    // ipvsadm -E sends a whole service: what it does not name returns to the defaults.
    let t = lenient("-A -t 192.0.2.80:80 -s wrr -p 60\n-a -t 192.0.2.80:80 -r 192.0.2.21\n-E -t 192.0.2.80:80 -s rr\n")
        .table;
    assert_eq!(t.services[0].service.scheduler, Scheduler::Rr);
    assert_eq!(t.services[0].service.persistence, None);
    assert_eq!(t.services[0].dests.len(), 1);
}

#[test]
fn bare_persistent_means_360_seconds() {
    let t = lenient("-A -t 192.0.2.80:80 -p\n").table;
    assert_eq!(t.services[0].service.persistence.unwrap().timeout, 360);
}

#[test]
fn daemons_and_stop() {
    let t = lenient(
        "--start-daemon master --mcast-interface eth1 --syncid 3\n--start-daemon backup\n--stop-daemon backup\n",
    )
    .table;
    assert_eq!(t.daemons.len(), 1);
    assert_eq!((t.daemons[0].interface.as_str(), t.daemons[0].sync_id), ("eth1", 3));
    assert_eq!(export(&t).0, "--start-daemon master --mcast-interface eth1 --syncid 3\n");
}

#[test]
fn daemon_multicast_settings_are_kept_and_written_back() {
    let line = "--start-daemon master --mcast-interface eth0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.0.2.1 --mcast-port 8849 --mcast-ttl 3\n";
    let imported = lenient(line);
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let d = &imported.table.daemons[0];
    assert_eq!((d.sync_maxlen, d.mcast_port, d.mcast_ttl), (Some(1400), Some(8849), Some(3)));
    assert_eq!(d.mcast_group, Some("239.0.2.1".parse().unwrap()));
    assert_eq!(export(&imported.table).0, line);
    for bad in ["--mcast-group 192.0.2.1", "--mcast-group eth0"] {
        let text = format!("--start-daemon backup {bad}\n");
        assert!(import(&text, &ImportOptions { strict: true }).is_err(), "{bad} accepted");
    }
}

fn strict(text: &str) -> Result<Imported, lvs_ipvs::ipvsadm::ImportError> {
    import(text, &ImportOptions { strict: true })
}

#[test]
fn every_command_of_a_line_is_read_and_other_commands_are_named() {
    let text = "modprobe ip_vs; ipvsadm -A -t 192.0.2.80:80 -s rr && ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.21 -g\n\
                ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.22 -g || echo failed & ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.23\n";
    let imported = lenient(text);
    let dests: Vec<String> = imported.table.services[0].dests.iter().map(|d| d.addr.to_string()).collect();
    assert_eq!(dests, ["192.0.2.21:80", "192.0.2.22:80", "192.0.2.23:80"]);
    let warnings: Vec<(usize, &str)> = imported.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
    assert_eq!(
        warnings,
        [
            (1, "skipped: `modprobe ip_vs` is not an ipvsadm command"),
            (2, "skipped: `echo failed` is not an ipvsadm command")
        ]
    );
    // Each shows its line, as errors do.
    assert_eq!(imported.warnings[1].text, text.lines().nth(1).unwrap());
    assert!(imported.warnings[1].to_string().ends_with(&format!("\n  | {}", imported.warnings[1].text)));
    let e = strict(text).unwrap_err();
    assert_eq!((e.line, e.message.as_str()), (1, "skipped: `modprobe ip_vs` is not an ipvsadm command"));
}

#[test]
fn separators_inside_quotes_or_comments_separate_nothing() {
    // Quoted, `;` is part of the scheduler's name, which ipvsadm would send as it is.
    let e = strict("ipvsadm -A -t 192.0.2.80:80 -s 'rr;wrr'\n").unwrap_err();
    assert!(e.message.contains("unknown scheduler `rr;wrr`"), "{e}");
    let e = strict("ipvsadm -A -t 192.0.2.80:80 -s rr\\;wrr\n").unwrap_err();
    assert!(e.message.contains("unknown scheduler `rr;wrr`"), "{e}");
    let imported = lenient("echo \"ipvsadm -C; done\" && ipvsadm -A -t 192.0.2.80:80 # set up; ipvsadm -C\n");
    assert_eq!(imported.table.services.len(), 1, "the commented -C ran");
    assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
    assert!(imported.warnings[0].message.contains("`echo \"ipvsadm -C; done\"`"), "{:?}", imported.warnings);
    // A comment line stays a comment whatever follows a `;` in it.
    assert!(lenient("# clear first; ipvsadm -C\n").warnings.is_empty());
}

#[test]
fn pipes_and_redirections() {
    let text = "ipvsadm -A -t 192.0.2.80:80 -s rr 2>&1 >/dev/null\n\
                ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.21 &>/dev/null; ipvsadm -Ln | grep -c 192.0.2.21\n";
    let imported = lenient(text);
    assert_eq!(imported.table.services[0].dests.len(), 1);
    let warnings: Vec<(usize, &str)> = imported.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
    assert_eq!(warnings, [(2, "skipped: `grep -c 192.0.2.21` is not an ipvsadm command")]);
    assert_eq!(strict(text).unwrap_err().line, 2);
}

#[test]
fn a_continued_line_is_an_error_that_says_to_join_it() {
    let e = import("ipvsadm -A -t 192.0.2.80:80 \\\n  -s rr\n", &ImportOptions::default()).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("join it with the next line"), "{e}");
}

#[test]
fn netmask_without_persistence_is_ignored_with_a_warning_as_ipvsadm_does() {
    let text = "-A -t 192.0.2.80:80 -s rr -M 255.255.255.0\n-A -f 9 -6 -M 64\n";
    for imported in [lenient(text), strict(text).unwrap()] {
        assert_eq!(imported.table.services.len(), 2);
        assert!(imported.table.services.iter().all(|vs| vs.service.persistence.is_none()));
        let lines: Vec<usize> = imported.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [1, 2]);
        let w = &imported.warnings[0];
        assert!(w.message.starts_with("-M 255.255.255.0 without -p is ignored"), "{w}");
        assert!(w.message.contains("ipvsadm-save leaves it out"), "{w}");
        assert_eq!(w.text, "-A -t 192.0.2.80:80 -s rr -M 255.255.255.0");
    }
    // A mask ipvsadm cannot read is an error with -p or without.
    let e = import("-A -t 192.0.2.80:80 -M 255.0.255.0\n", &ImportOptions::default()).unwrap_err();
    assert!(e.message.contains("not a contiguous netmask"), "{e}");
    // With -p, the mask is kept and nothing is said.
    let imported = lenient("-A -t 192.0.2.80:80 -p 60 -M 255.255.255.0\n");
    assert!(imported.warnings.is_empty());
    assert_eq!(imported.table.services[0].service.persistence.unwrap().netmask.to_string(), "255.255.255.0");
}

#[test]
fn a_huge_line_is_refused_unread_and_shown_cut_short() {
    let long = format!("-A -t 192.0.2.80:80 -s {}", "r".repeat(10 << 20));
    let text = format!("-A -t 192.0.2.81:80\n{long}\n");
    let started = std::time::Instant::now();
    let e = import(&text, &ImportOptions::default()).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(e.line, 2);
    assert!(e.message.contains(&format!("the line is {} bytes long", long.len())), "{}", e.message);
    assert!(e.text.len() < 400, "{} bytes shown", e.text.len());
    assert!(e.text.ends_with(&format!("... ({} bytes in all)", long.len())), "{}", e.text);
    // A line at the bound is read.
    let at_bound = format!("-A -t 192.0.2.80:80{}\n", " ".repeat(lvs_ipvs::ipvsadm::MAX_LINE_BYTES - 19));
    assert_eq!(lenient(&at_bound).table.services.len(), 1);
}

#[test]
fn control_characters_in_a_line_are_shown_escaped() {
    let e = import("-A -t 192.0.2.80:80 -s rr\u{1b}[2K\r\n", &ImportOptions::default()).unwrap_err();
    assert_eq!(e.text, "-A -t 192.0.2.80:80 -s rr\\u{1b}[2K");
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
    let imported = lenient("echo \u{7}hi\n");
    assert!(!imported.warnings[0].to_string().contains('\u{7}'), "{}", imported.warnings[0]);
}

#[test]
fn origins_name_the_lines_that_made_each_object() {
    let text = "\
-A -t 192.0.2.80:80 -s rr
-a -t 192.0.2.80:80 -r 192.0.2.21
-A -t 192.0.2.81:80
-D -t 192.0.2.80:80
-A -t 192.0.2.80:80
-a -t 192.0.2.80:80 -r 192.0.2.22
-a -t 192.0.2.80:80 -r 192.0.2.23
-e -t 192.0.2.80:80 -r 192.0.2.22 -w 5
-E -t 192.0.2.81:80 -s wrr
--start-daemon master
--set 0 0 0
--set 30 0 0
--set 0 0 0
";
    let imported = lenient(text);
    let t = &imported.table;
    let o = &imported.origins;
    assert_eq!(t.services[0].service.key.to_string(), "TCP 192.0.2.81:80");
    assert_eq!((o.services[0].origin.added, o.services[0].origin.set), (3, 9));
    assert_eq!((o.services[1].origin.added, o.services[1].origin.set), (5, 5));
    let dests: Vec<(usize, usize)> = o.services[1].dests.iter().map(|d| (d.added, d.set)).collect();
    assert_eq!(dests, [(6, 8), (7, 7)]);
    assert_eq!(t.services[1].dests[0].weight, 5);
    assert_eq!(o.daemons.iter().map(|d| d.added).collect::<Vec<_>>(), [10]);
    assert_eq!(o.timeouts, Some(12));
    assert_eq!(lenient("-A -t 192.0.2.80:80\n-C\n").origins, Default::default());
}

#[test]
fn what_check_refuses_in_an_import_is_found_by_the_origins_of_its_config_path() {
    // ipvsadm sends these to the kernel; the config refuses them, and so does `import` (agent/src/cli/import.rs).
    let text = "-A -t 192.0.2.80:80\n--start-daemon master --mcast-port 0\n--start-daemon backup --sync-maxlen 100\n";
    let imported = lenient(text);
    let ron = format!("{}{}", from_table::IMPORT_HEADER, config::to_ron(&from_table::director_file(&imported.table)));
    let Err(config::ConfigError::Invalid { errors, .. }) = config::parse(&ron, Path::new("imported.ron")) else {
        panic!("check accepts:\n{ron}")
    };
    let paths: Vec<&str> = errors.iter().filter_map(|e| e.path.as_deref()).collect();
    assert_eq!(paths, ["role.sync_daemons[0].mcast_port", "role.sync_daemons[1].sync_maxlen"]);
    let lines: Vec<usize> = imported.origins.daemons.iter().map(|o| o.added).collect();
    assert_eq!(lines, [2, 3]);
}

/// Mostly 0 or a small number, sometimes anything.
fn small() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(0u32), 3 => 1..100u32, 1 => any::<u32>()]
}

/// Rule lines with values anywhere in their types' range: what ipvsadm would
/// send, and what a config may or may not hold.
fn rule_line() -> impl Strategy<Value = String> {
    let ip = prop::sample::select(vec![
        "192.0.2.80",
        "192.0.2.21",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "[2001:db8::1]",
        "[fe80::1]",
        "[::]",
    ]);
    let port = prop_oneof![1 => Just(0u16), 4 => Just(80), 1 => any::<u16>()];
    let service = (ip.clone(), port.clone()).prop_map(|(ip, port)| format!("-t {ip}:{port}"));
    let sched = prop::sample::select(vec!["rr", "wrr", "sh", "mh", "lc"]);
    prop_oneof![
        (service.clone(), sched, prop::option::of(1..100_000u32), prop::option::of(0..40u8)).prop_map(
            |(svc, s, p, m)| {
                let p = p.map(|p| format!(" -p {p}")).unwrap_or_default();
                let m = m.map(|m| format!(" -M {m}")).unwrap_or_default();
                format!("-A {svc} -s {s}{p}{m}")
            }
        ),
        (service, ip, port, prop::sample::select(vec!["-g", "-m", "-i"]), small(), small(), small())
            .prop_map(|(svc, ip, port, fwd, w, x, y)| format!("-a {svc} -r {ip}:{port} {fwd} -w {w} -x {x} -y {y}")),
        (
            prop::sample::select(vec!["master", "backup"]),
            prop::sample::select(vec!["eth0", "eth1", "a-very-long-interface-name", "x/y"]),
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>()
        )
            .prop_map(|(state, ifname, id, len, port, ttl)| format!(
                "--start-daemon {state} --mcast-interface {ifname} --syncid {id} --sync-maxlen {len} \
                 --mcast-port {port} --mcast-ttl {ttl}"
            )),
        (small(), small(), small()).prop_map(|(a, b, c)| format!("--set {a} {b} {c}")),
    ]
}

proptest! {
    /// Whatever the values, import then check does not panic, and each error
    /// check finds in an imported config is about something import can tell
    /// the input line of: a service, a real server, a sync daemon or the timeouts.
    #[test]
    fn check_of_an_import_names_what_the_input_made(lines in prop::collection::vec(rule_line(), 1..8)) {
        let text = lines.join("\n");
        let Ok(imported) = import(&text, &ImportOptions::default()) else { return Ok(()) };
        let ron = config::to_ron(&from_table::director_file(&imported.table));
        if let Err(config::ConfigError::Invalid { errors, .. }) = config::parse(&ron, Path::new("imported.ron")) {
            for e in &errors {
                let path = e.path.as_deref().unwrap_or("");
                prop_assert!(
                    ["role.services[", "role.sync_daemons", "role.timeouts"].iter().any(|p| path.starts_with(p)),
                    "{e}\n{text}"
                );
            }
        }
    }
}
