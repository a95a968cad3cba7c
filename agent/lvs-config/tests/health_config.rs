//! The health fields of a service: UDP checks, address overrides, max_bytes,
//! when_down and initial. Each bad value is reported where it is written; a
//! good file resolves every real server's check into a ready-made target.

mod common;
use common::*;
use lvs_config::file::{Initial, WhenDown};
use lvs_config::model::{Director, Role};
use lvs_config::probe::Check;
use std::time::Duration;

fn model(text: &str) -> Director {
    let loaded = parse(text).unwrap_or_else(|e| panic!("expected the file to be accepted:\n{e}"));
    let Role::Director(d) = loaded.model.role else { panic!("not a director") };
    d
}

#[test]
fn a_udp_check_becomes_a_target_on_the_real_servers_address() {
    let d = model(&director(
        r#"Service(address: "192.0.2.80:53", protocol: Udp, health: Udp(payload: "ping", expect: "pong", interval: "5s"), real_servers: [
                RealServer(address: "192.0.2.21"),
            ])"#,
    ));
    let h = d.services[0].real_servers[0].health.as_ref().unwrap();
    assert_eq!(h.target.addr.to_string(), "192.0.2.21:53");
    assert_eq!(h.target.check, Check::Udp { payload: b"ping".to_vec(), expect: Some(b"pong".to_vec()) });
    assert_eq!(h.target.interval, Duration::from_secs(5));
    assert_eq!(h.target.timeout, Duration::from_secs(1));
    assert_eq!((h.rise, h.fall), (2, 3));
}

#[test]
fn address_and_port_overrides_aim_the_probe_elsewhere() {
    let d = model(&director(
        r#"Service(address: "192.0.2.80:80", health: Tcp(address: "198.51.100.7", port: 9000), real_servers: [
                RealServer(address: "192.0.2.21"),
                RealServer(address: "192.0.2.22", health: Http(port: 8080)),
                RealServer(address: "192.0.2.23", health: Udp(payload: "", address: "2001:db8::23")),
            ])"#,
    ));
    let addrs: Vec<String> =
        d.services[0].real_servers.iter().map(|r| r.health.as_ref().unwrap().target.addr.to_string()).collect();
    assert_eq!(addrs, ["198.51.100.7:9000", "192.0.2.22:8080", "[2001:db8::23]:80"]);
}

#[test]
fn http_max_bytes_defaults_to_64_kib() {
    let d = model(&director(
        r#"Service(address: "192.0.2.80:80", health: Http(), real_servers: [RealServer(address: "192.0.2.21")])"#,
    ));
    let Check::Http { max_bytes, .. } = &d.services[0].real_servers[0].health.as_ref().unwrap().target.check else {
        panic!()
    };
    assert_eq!(*max_bytes, 65536);
}

#[test]
fn when_down_and_initial_default_to_quiesce_and_down() {
    let d = model(&director(
        r#"Service(address: "192.0.2.80:80", health: Tcp(), real_servers: [RealServer(address: "192.0.2.21")]),
            Service(address: "192.0.2.80:443", health: Tcp(), when_down: Remove, initial: Up, real_servers: [RealServer(address: "192.0.2.21")])"#,
    ));
    assert_eq!((d.services[0].when_down, d.services[0].initial), (WhenDown::Quiesce, Initial::Down));
    assert_eq!((d.services[1].when_down, d.services[1].initial), (WhenDown::Remove, Initial::Up));
}

#[test]
fn bad_health_values_are_reported_where_they_are_written() {
    let cases = [
        (r#"health: Http(max_bytes: 0)"#, "max_bytes: |0", "max_bytes 0 is outside 1 to 1048576"),
        (r#"health: Http(max_bytes: 2000000)"#, "2000000", "max_bytes 2000000 is outside"),
        (r#"health: Http(expect_body: "healthy", max_bytes: 3)"#, "\"healthy\"", "more than the 3 bytes read"),
        (r#"health: Udp(payload: "x", expect: "")"#, "expect: |\"\"", "expect is empty"),
        (r#"health: Tcp(address: "0.0.0.0")"#, "\"0.0.0.0\"", "is not the address of one host"),
        (r#"health: Http(address: "224.0.0.1")"#, "\"224.0.0.1\"", "is not the address of one host"),
        (r#"health: Udp(payload: "x", port: 0)"#, "port: |0", "check port 0"),
        (r#"health: Udp(payload: "x", interval: "5ms")"#, "\"5ms\"", "shorter than 10ms"),
        (r#"health: Udp(payload: "x", fall: 0)"#, "fall: |0", "fall is 0"),
    ];
    for (health, needle, message) in cases {
        let text = director(&format!(
            r#"Service(address: "192.0.2.80:80", {health}, real_servers: [RealServer(address: "192.0.2.21")])"#
        ));
        assert_error_at(&text, needle, message);
    }
}

#[test]
fn a_udp_payload_larger_than_a_datagram_is_refused() {
    let big = "x".repeat(65508);
    let text = director(&format!(
        r#"Service(address: "192.0.2.80:53", protocol: Udp, health: Udp(payload: "{big}"), real_servers: [RealServer(address: "192.0.2.21")])"#
    ));
    assert_error_at(&text, &format!("\"{big}\""), "one datagram carries at most 65507");
}

#[test]
fn a_udp_check_needs_a_payload() {
    let text = director(
        r#"Service(address: "192.0.2.80:53", protocol: Udp, health: Udp(expect: "ok"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    // ron places a missing field at the parenthesis that closes the struct.
    let d = assert_error_at(&text, "Udp(expect: \"ok\"|)", "payload");
    assert!(d.help.unwrap().contains("add `payload"));
}

#[test]
fn unknown_when_down_variant_gets_a_suggestion() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", when_down: Quiesced, real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    let d = assert_error_at(&text, "Quiesced", "Quiesced");
    assert!(d.help.unwrap().contains("`Quiesce`"));
}

#[test]
fn when_down_without_any_check_is_a_warning() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", when_down: Remove, initial: Up, real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    let w = assert_warning(&text, "`when_down` is set on TCP 192.0.2.80:80, but none of its real servers is checked");
    assert!(w.help.unwrap().contains("health: Tcp()"));
    assert_warning(&text, "`initial` is set");
    // One checked real server is enough for the fields to mean something.
    let used = director(
        r#"Service(address: "192.0.2.80:80", when_down: Remove, real_servers: [
                RealServer(address: "192.0.2.21", health: Tcp()),
                RealServer(address: "192.0.2.22"),
            ])"#,
    );
    assert!(parse(&used).unwrap().warnings.is_empty());
}

#[test]
fn the_new_fields_survive_a_round_trip_through_ron() {
    let text = director(
        r#"Service(address: "192.0.2.80:53", protocol: Udp, when_down: Remove, initial: Up,
                health: Udp(payload: "ping", expect: "pong", address: "192.0.2.99", port: 5353),
                real_servers: [RealServer(address: "192.0.2.21", health: Http(max_bytes: 1024, address: "192.0.2.98"))])"#,
    );
    let loaded = parse(&text).unwrap();
    let again = parse(&lvs_config::to_ron(&loaded.raw)).unwrap();
    assert_eq!(again.raw, loaded.raw);
    assert_eq!(again.model, loaded.model);
}

/// A checked service with this scheduler and these extra fields.
fn hashed(scheduler: &str, fields: &str) -> String {
    director(&format!(
        r#"Service(address: "192.0.2.80:80", scheduler: {scheduler}, {fields}real_servers: [
                RealServer(address: "192.0.2.21", health: Tcp()),
                RealServer(address: "192.0.2.22", health: Tcp()),
            ])"#
    ))
}

#[test]
fn quiescing_behind_mh_or_sh_without_fallback_is_a_warning() {
    for (scheduler, flag) in [("Mh", "MhFallback"), ("Sh", "ShFallback")] {
        let text = hashed(scheduler, "");
        let w = assert_warning(&text, &format!("but without {flag}"));
        assert!(w.message.contains("new connections hashed to it are dropped"), "{w}");
        assert_eq!(w.position, Some(position_of(&text, &format!("scheduler: |{scheduler}"))));
        assert_eq!(
            w.help.unwrap(),
            format!(
                "add `scheduler_flags: [{flag}]`, so that the kernel sends them to the next available server, \
                 or set `when_down: Remove`"
            )
        );
    }
    // Other flags already there: the help names the list with the fallback added.
    let w = assert_warning(&hashed("Mh", "scheduler_flags: [MhPort], "), "but without MhFallback");
    assert!(w
        .help
        .unwrap()
        .starts_with("add MhFallback to `scheduler_flags` (`scheduler_flags: [MhPort, MhFallback]`)"));
}

#[test]
fn hashing_schedulers_are_quiet_with_fallback_remove_or_no_checks() {
    let quiet = |text: &str| {
        let loaded = parse(text).unwrap_or_else(|e| panic!("expected the file to be accepted:\n{e}"));
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    };
    quiet(&hashed("Mh", "scheduler_flags: [MhFallback], "));
    quiet(&hashed("Sh", "scheduler_flags: [ShPort, ShFallback], "));
    quiet(&hashed("Sh", "scheduler_flags: [Flag1], "));
    quiet(&hashed("Mh", "when_down: Remove, "));
    quiet(&hashed("Sh", "when_down: Remove, "));
    quiet(&director(
        r#"Service(address: "192.0.2.80:80", scheduler: Mh, real_servers: [RealServer(address: "192.0.2.21")])"#,
    ));
    // Other schedulers skip a weight-0 server when they pick one.
    quiet(&hashed("Wrr", ""));
}

/// A service checked with these check fields.
fn checked(fields: &str) -> String {
    director(&format!(
        r#"Service(address: "192.0.2.80:80", health: Tcp({fields}), real_servers: [RealServer(address: "192.0.2.21")])"#
    ))
}

#[test]
fn intervals_and_timeouts_have_a_ceiling_of_an_hour() {
    for interval in ["\"61m\"", "\"500000000000y\""] {
        let d = assert_error_at(&checked(&format!("interval: {interval}")), interval, "is longer than 1h");
        assert!(d.help.unwrap().contains("(10ms to 1h)"));
    }
    let text = checked(r#"interval: "3h", timeout: "2h""#);
    assert_error_at(&text, "\"3h\"", "interval 3h is longer than 1h");
    let d = assert_error_at(&text, "\"2h\"", "timeout 2h is longer than 1h");
    assert!(d.help.unwrap().contains("at most 1h"));
    // The ceilings themselves are fine.
    parse(&checked(r#"interval: "1h", timeout: "59m 59s""#)).unwrap();
}

#[test]
fn a_duration_too_large_to_hold_is_a_clean_error_where_it_is_written() {
    let d = assert_error_at(&checked(r#"interval: "600000000000y""#), "\"600000000000y\"", "is not a duration");
    assert!(d.message.contains("number is too large"), "{}", d.message);
}

#[test]
fn an_http_path_or_host_cannot_forge_the_request() {
    let http = |fields: &str| {
        director(&format!(
            r#"Service(address: "192.0.2.80:80", health: Http({fields}), real_servers: [RealServer(address: "192.0.2.21")])"#
        ))
    };
    for path in [r#""/health\r\nX-Forged: 1""#, r#""/a b""#, r#""/\u{0}""#] {
        let d = assert_error_at(&http(&format!("path: {path}")), path, "holds a space or a control character");
        assert!(!d.message.contains('\n') && !d.message.contains('\r'), "{}", d.message);
        assert!(d.help.unwrap().contains("%20"));
    }
    for host in [r#""www\r\n""#, r#""www\u{7f}""#, r#""""#] {
        assert_error_at(&http(&format!("host: {host}")), host, "the Host header is empty or has spaces or control");
    }
    parse(&http(r#"path: "/health?full=1%20x", host: "www.example.com""#)).unwrap();
}

#[test]
fn a_bad_value_with_a_newline_is_quoted_on_one_line() {
    let text = director(
        r#"Service(address: "192.0.2.80:80", health: Tcp(interval: "2\ntest.ron: ok"), real_servers: [RealServer(address: "192.0.2.21")])"#,
    );
    let Err(lvs_config::ConfigError::Invalid { errors, .. }) = parse(&text) else { panic!("accepted") };
    let d = &errors[0];
    assert!(d.message.starts_with(r"`2\ntest.ron: ok` is not a duration"), "{}", d.message);
    assert_eq!(d.to_string().lines().count(), 2, "{d}");
    // ron starts the span of a string with escapes after its first escape,
    // not at its quote: the line is right, the column a few characters in.
    assert_eq!(d.position.map(|p| p.line), Some(position_of(&text, "\"2\\n").line));
}
