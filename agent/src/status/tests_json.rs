//! The JSON document: its fields, their spelling, and that it reads back.

use super::tests_text::{counters_table, dest, dr_nat_tun, entry, fwmark, persistent, snapshot, tcp};
use super::{render, render_service, Format, Options, StatusView, JSON_SCHEMA_VERSION};
use lvs_ipvs::{Family, Forward, SyncDaemon, SyncState, TunnelCsum, TunnelKind, TunnelOptions};
use serde_json::Value;
use std::collections::BTreeSet;

fn json() -> Options {
    Options { format: Format::Json, ..Options::default() }
}

fn parse(text: &str) -> Value {
    assert!(text.ends_with("}\n"), "one document and a newline: {text}");
    serde_json::from_str(text).unwrap()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn status_json_reads_back_into_the_view() {
    let mut snap = counters_table();
    snap.services.extend(dr_nat_tun().services);
    snap.daemons.push(SyncDaemon::new(SyncState::Backup, "eth1", 9));
    let text = render(&snap, &json());
    let back: StatusView = serde_json::from_str(&text).unwrap();
    assert_eq!(back, StatusView::new(&snap, &json()));
}

#[test]
fn status_json_has_every_field_even_when_empty() {
    let mut snap = dr_nat_tun();
    snap.daemons.push(SyncDaemon::new(SyncState::Master, "eth0", 1));
    let v = parse(&render(&snap, &json()));
    assert_eq!(keys(&v), set(&["schema_version", "info", "services", "timeouts", "daemons"]));
    assert_eq!(v["schema_version"], JSON_SCHEMA_VERSION);
    assert_eq!(v["info"], serde_json::json!({"version": "1.2.1", "version_code": 66049, "conn_tab_size": 4096}));
    assert_eq!(v["timeouts"], serde_json::json!({"tcp": 900, "tcp_fin": 120, "udp": 300}));
    assert_eq!(
        v["daemons"][0],
        serde_json::json!({"state": "master", "interface": "eth0", "sync_id": 1, "sync_maxlen": null,
                           "mcast_group": null, "mcast_port": null, "mcast_ttl": null})
    );
    let svc = &v["services"][0];
    assert_eq!(
        keys(svc),
        set(&["name", "key", "scheduler", "sched_flags", "persistence", "one_packet", "pe", "stats", "dests"])
    );
    assert_eq!(
        keys(&svc["stats"]),
        set(&["conns", "inpkts", "outpkts", "inbytes", "outbytes", "cps", "inpps", "outpps", "inbps", "outbps"])
    );
    assert_eq!(
        keys(&svc["dests"][0]),
        set(&[
            "name",
            "family",
            "address",
            "port",
            "forward",
            "weight",
            "upper_threshold",
            "lower_threshold",
            "tunnel",
            "active_conns",
            "inactive_conns",
            "persistent_conns",
            "stats",
        ])
    );
}

#[test]
fn status_json_service_and_dests_in_listing_order() {
    let v = parse(&render(&dr_nat_tun(), &json()));
    let svc = &v["services"][0];
    assert_eq!(svc["name"], "TCP  192.0.2.1:80");
    assert_eq!(
        svc["key"],
        serde_json::json!({"type": "inet", "family": "ipv4", "protocol": "tcp", "address": "192.0.2.1", "port": 80})
    );
    assert_eq!(svc["scheduler"], "wlc");
    assert_eq!(svc["sched_flags"], serde_json::json!([]));
    assert_eq!(svc["persistence"], Value::Null);
    assert_eq!(svc["pe"], Value::Null);
    assert_eq!(svc["one_packet"], false);
    let forwards: Vec<&str> = svc["dests"].as_array().unwrap().iter().map(|d| d["forward"].as_str().unwrap()).collect();
    assert_eq!(forwards, ["Route", "Masq", "Tunnel"]);
    let nat = &svc["dests"][1];
    assert_eq!((nat["address"].as_str(), nat["port"].as_u64()), (Some("192.0.2.11"), Some(8080)));
    assert_eq!(nat["tunnel"], Value::Null);
    let tun = &svc["dests"][2];
    assert_eq!(tun["tunnel"], serde_json::json!({"type": "ipip", "port": 0, "csum": "nocsum", "info": "ipip"}));
    assert_eq!(tun["active_conns"], 1234567);
    assert_eq!(tun["weight"], 100);
}

#[test]
fn status_json_persistence_pe_fwmark_ipv6_tunnel() {
    let mut sip = persistent(tcp("192.0.2.1:5060"), 360, "255.255.255.0");
    sip.pe = Some("sip".into());
    let mut gue = dest("[2001:db8::10]:0", Forward::Tunnel, 1);
    gue.dest.tunnel = TunnelOptions { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::RemoteChecksum };
    gue.dest.upper_threshold = 10;
    gue.persistent_conns = 4;
    let v6 = persistent(fwmark(Family::Ipv6, 42), 60, "64");
    let v = parse(&render(&snapshot(vec![entry(v6, vec![gue]), entry(sip, vec![])]), &json()));

    let sip = &v["services"][0];
    assert_eq!(sip["persistence"], serde_json::json!({"timeout": 360, "netmask": "255.255.255.0", "prefix_len": 24}));
    assert_eq!(sip["pe"], "sip");

    let fwm = &v["services"][1];
    assert_eq!(fwm["name"], "FWM  42 IPv6");
    assert_eq!(fwm["key"], serde_json::json!({"type": "fwmark", "family": "ipv6", "fwmark": 42}));
    assert_eq!(fwm["persistence"], serde_json::json!({"timeout": 60, "netmask": "64", "prefix_len": 64}));
    let d = &fwm["dests"][0];
    assert_eq!(d["name"], "[2001:db8::10]:0");
    assert_eq!(d["address"], "2001:db8::10");
    assert_eq!(d["family"], "ipv6");
    assert_eq!(d["upper_threshold"], 10);
    assert_eq!(d["persistent_conns"], 4);
    assert_eq!(
        d["tunnel"],
        serde_json::json!({"type": "gue", "port": 6080, "csum": "remcsum", "info": "gue:6080:r+c"})
    );
}

#[test]
fn status_json_counters_are_exact() {
    let v = parse(&render(&counters_table(), &json()));
    let tcp = &v["services"][0];
    assert_eq!(tcp["name"], "TCP  192.0.2.1:80");
    assert_eq!(tcp["stats"]["outbytes"].as_u64(), Some(98_765_432_109_876_543));
    assert_eq!(tcp["dests"][0]["stats"]["inpps"].as_u64(), Some(123_456_789));
}

#[test]
fn status_json_one_service() {
    let v = parse(&render_service(&dr_nat_tun().services[0], &json()));
    assert_eq!(v["name"], "TCP  192.0.2.1:80");
    assert_eq!(v["dests"].as_array().unwrap().len(), 3);
}

#[test]
fn status_json_nosort_keeps_dump_order() {
    let opts = Options { nosort: true, ..json() };
    let v = parse(&render(&dr_nat_tun(), &opts));
    assert_eq!(v["services"][0]["dests"][0]["address"], "192.0.2.12");
}
