//! `management`: every listen entry and the pki folder are checked where they
//! are written, with what to write instead.

mod common;
use common::*;
use std::path::PathBuf;

fn with_management(management: &str) -> String {
    format!("Appliance(\n    role: Director(services: []),\n    management: {management},\n)\n")
}

#[test]
fn a_good_management_is_accepted_with_the_default_pki() {
    let text = with_management(r#"Management(listen: ["192.0.2.10:9443", "[2001:db8::10]:9443", "0.0.0.0:9444"])"#);
    let loaded = parse(&text).unwrap();
    let m = loaded.model.management.unwrap();
    let listen: Vec<String> = m.listen.iter().map(ToString::to_string).collect();
    assert_eq!(listen, ["192.0.2.10:9443", "[2001:db8::10]:9443", "0.0.0.0:9444"]);
    assert_eq!(m.pki, PathBuf::from(lvs_config::model::DEFAULT_PKI_DIR));
    let given = parse(&with_management(r#"Management(listen: ["192.0.2.10:9443"], pki: "/etc/lvs/pki")"#)).unwrap();
    assert_eq!(given.model.management.unwrap().pki, PathBuf::from("/etc/lvs/pki"));
    assert_eq!(parse(&director("")).unwrap().model.management, None);
}

#[test]
fn no_listen_address_is_an_error() {
    let text = with_management("Management(listen: [])");
    let d = assert_error_at(&text, "listen: |[]", "management listens on no address");
    assert!(d.help.unwrap().contains("listen: [\"192.0.2.10:9443\"]"));
}

#[test]
fn an_entry_that_is_no_address_and_port_says_why_with_an_example() {
    for (bad, why) in [
        ("lb1.example:9443", "is not an address and port"),
        ("192.0.2.10", "has no port"),
        ("2001:db8::10", "has no port"),
        ("2001:db8::10:9443", "has no port"),
        ("fe80::1::2:9443", "is an IPv6 address without brackets around it"),
        ("192.0.2.10:99999", "is not an address and port"),
        ("", "is not an address and port"),
    ] {
        let text = with_management(&format!(r#"Management(listen: ["192.0.2.11:9443", "{bad}", "192.0.2.12:9443"])"#));
        let d = assert_error_at(&text, &format!("\"{bad}\""), &format!("`{bad}` {why}"));
        let help = d.help.unwrap();
        assert!(help.contains("\"[2001:db8::10]:9443\""), "{help}");
        assert_eq!(d.path.as_deref(), Some("management.listen[1]"));
    }
}

#[test]
fn port_0_multicast_and_broadcast_are_refused() {
    let text = with_management(r#"Management(listen: ["192.0.2.10:0"])"#);
    assert_error_at(&text, "\"192.0.2.10:0\"", "192.0.2.10:0 has port 0");
    let text = with_management(r#"Management(listen: ["224.0.0.1:9443"])"#);
    assert_error_at(&text, "\"224.0.0.1", "is a multicast address");
    let text = with_management(r#"Management(listen: ["[ff02::1]:9443"])"#);
    assert_error_at(&text, "\"[ff02", "is a multicast address");
    let text = with_management(r#"Management(listen: ["255.255.255.255:9443"])"#);
    assert_error_at(&text, "\"255", "is the broadcast address");
}

#[test]
fn an_address_listed_twice_or_overlapping_is_an_error_at_the_second() {
    let text = with_management(
        r#"Management(listen: [
        "192.0.2.10:9443",
        "[2001:db8::10]:9443",
        "192.0.2.10:9443",
    ])"#,
    );
    assert_error_at(&text, "\"192.0.2.10:9443\",\n    ])", "192.0.2.10:9443 is listed twice (also entry 1)");
    let text = with_management(r#"Management(listen: ["0.0.0.0:9443", "192.0.2.10:9443"])"#);
    assert_error_at(&text, "\"192.0.2.10", "overlaps 0.0.0.0:9443");
    // Another port, or another family: no overlap.
    parse(&with_management(r#"Management(listen: ["0.0.0.0:9443", "192.0.2.10:9444", "[::]:9443"])"#)).unwrap();
}

#[test]
fn the_pki_folder_is_an_absolute_path_without_control_characters() {
    let text = with_management(r#"Management(listen: ["192.0.2.10:9443"], pki: "config/pki")"#);
    let d = assert_error_at(&text, "\"config/pki\"", "management pki `config/pki` is not an absolute path");
    assert!(d.help.unwrap().contains("\"/config/pki\""));
    let text = with_management(r#"Management(listen: ["192.0.2.10:9443"], pki: "/config/pki\u{1b}[2J")"#);
    assert_error_at(&text, "\"/config/pki\\u", "management pki `/config/pki\\u{1b}[2J` holds a control character");
}

#[test]
fn every_mistake_is_reported_at_once() {
    let text = with_management(r#"Management(listen: ["x", "192.0.2.10:0"], pki: "pki")"#);
    let Err(lvs_config::ConfigError::Invalid { errors, .. }) = parse(&text) else { panic!("accepted") };
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn management_round_trips_through_the_writer() {
    let text = with_management(r#"Management(listen: ["[2001:db8::10]:9443"], pki: "/etc/lvs/pki")"#);
    let loaded = parse(&text).unwrap();
    let again = parse(&lvs_config::to_ron(&loaded.raw)).unwrap();
    assert_eq!(again.model.management, loaded.model.management);
}

#[test]
fn a_problem_found_outside_the_text_is_placed_at_the_pki_or_else_at_management() {
    use lvs_config::{Problem, Severity, ValuePath};
    let pki = ValuePath::root().field("management").field("pki");
    let problem = || Problem::error(pki.clone(), "no ca.pem").help("make one");
    let text = with_management(r#"Management(listen: ["192.0.2.10:9443"], pki: "/etc/lvs/pki")"#);
    let d = parse(&text).unwrap().diagnostic(problem());
    assert_eq!(d.position, Some(position_of(&text, "\"/etc/lvs/pki\"")));
    assert_eq!((d.severity, d.path.as_deref()), (Severity::Error, Some("management.pki")));
    assert_eq!(d.to_string(), "test.ron:3:62: error: no ca.pem (at management.pki)\n  help: make one");
    let text = with_management(r#"Management(listen: ["192.0.2.10:9443"])"#);
    let d = parse(&text).unwrap().diagnostic(Problem::warning(pki.clone(), "not here"));
    assert_eq!((d.position, d.severity), (Some(position_of(&text, "Management(")), Severity::Warning));
}
