//! Host tests, as root, of `net::apply` against the real kernel, each in a
//! network namespace the test makes (the host has no `dummy` links, so veth
//! pairs stand in for NICs). They assert the exact addresses and routes the
//! kernel ends up with, read back with `ip`.

use lvs_agent::net::{self, NetError};

mod common;
use common::host::{ip, is_up, model};
use common::netns::in_netns;

/// A veth pair `a`/`b`, `b` up so that `a` has a carrier once the agent brings it up.
fn veth(a: &str, b: &str) {
    ip(&format!("link add {a} type veth peer name {b}"));
    ip(&format!("link set {b} up"));
}

/// "192.0.2.2/24" lines of one interface and family, in the kernel's order.
fn addrs(family: &str, dev: &str) -> Vec<String> {
    ip(&format!("-o {family} addr show dev {dev}"))
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .filter(|a| !a.starts_with("fe80:"))
        .collect()
}

/// `ip route` lines of the main table, without the kernel's own IPv6 link-local routes.
fn routes(family: &str) -> Vec<String> {
    ip(&format!("{family} route show table main"))
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.starts_with("fe80::/64"))
        .collect()
}

fn mtu(dev: &str) -> u32 {
    let line = ip(&format!("-o link show dev {dev}"));
    let mut words = line.split_whitespace();
    words.find(|w| *w == "mtu").unwrap();
    words.next().unwrap().parse().unwrap()
}

fn changes(report: &net::NetReport) -> Vec<String> {
    report.changes.iter().map(ToString::to_string).collect()
}

const DIRECTOR: &str = r#"Appliance(
    interfaces: [
        Interface(name: "v0", addresses: ["192.0.2.2/24", "2001:db8::2/64"], mtu: 1400),
        Interface(name: "v0.100", addresses: ["198.51.100.2/24"]),
    ],
    routes: [
        Route(to: "default", via: "192.0.2.1"),
        Route(to: "203.0.113.0/24", via: "198.51.100.1", metric: 10),
        Route(to: "203.0.113.77", interface: "v0"),
        Route(to: "2001:db8:1::/48", via: "2001:db8::1"),
    ],
    role: Director(vips: [Vip(address: "192.0.2.10", interface: "v0"), Vip(address: "2001:db8::10", interface: "v0")]),
)"#;

#[test]
fn director_links_addresses_routes_and_vips_then_reapply_sends_nothing() {
    in_netns(|| {
        veth("v0", "p0");
        veth("v0.100", "p100");
        assert!(!is_up("v0"));
        let record = tempfile::tempdir().unwrap();
        let report = net::apply(&model(DIRECTOR), record.path()).unwrap();
        assert_eq!(
            changes(&report),
            [
                "~ link v0 mtu 1500 -> 1400",
                "~ link v0 up",
                "~ link v0.100 up",
                "+ address 192.0.2.2/24 on v0",
                "+ address 2001:db8::2/64 on v0",
                "+ address 198.51.100.2/24 on v0.100",
                "+ address 192.0.2.10/32 on v0",
                "+ address 2001:db8::10/128 on v0",
                "+ route default via 192.0.2.1 metric 0",
                "+ route 203.0.113.0/24 via 198.51.100.1 metric 10",
                "+ route 203.0.113.77 dev v0 metric 0",
                "+ route 2001:db8:1::/48 via 2001:db8::1 metric 1024",
            ]
        );
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        assert!(is_up("v0") && is_up("v0.100"));
        assert_eq!(mtu("v0"), 1400);
        assert_eq!(addrs("-4", "v0"), ["192.0.2.2/24", "192.0.2.10/32"]);
        assert_eq!(addrs("-6", "v0"), ["2001:db8::10/128", "2001:db8::2/64"]);
        assert_eq!(addrs("-4", "v0.100"), ["198.51.100.2/24"]);
        assert_eq!(
            routes("-4"),
            [
                "default via 192.0.2.1 dev v0 proto static",
                "192.0.2.0/24 dev v0 proto kernel scope link src 192.0.2.2",
                "198.51.100.0/24 dev v0.100 proto kernel scope link src 198.51.100.2",
                "203.0.113.0/24 via 198.51.100.1 dev v0.100 proto static metric 10",
                "203.0.113.77 dev v0 proto static scope link",
            ]
        );
        assert_eq!(
            routes("-6"),
            [
                // The kernel's own route for the IPv6 VIP's /128.
                "2001:db8::10 dev v0 proto kernel metric 256 pref medium",
                "2001:db8::/64 dev v0 proto kernel metric 256 pref medium",
                "2001:db8:1::/48 via 2001:db8::1 dev v0 proto static metric 1024 pref medium",
            ]
        );
        let text = std::fs::read_to_string(record.path().join("net-owned.ron")).unwrap();
        assert!(text.contains("192.0.2.10/32") && text.contains("2001:db8:1::/48"), "{text}");

        let again = net::apply(&model(DIRECTOR), record.path()).unwrap();
        assert_eq!(again, net::NetReport::default(), "re-applying changes nothing");
        assert_eq!(std::fs::read_to_string(record.path().join("net-owned.ron")).unwrap(), text);
    });
}

#[test]
fn dr_real_server_holds_its_vips_on_lo() {
    in_netns(|| {
        veth("v0", "p0");
        let config = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["192.0.2.21/24"])],
                role: RealServer(mode: DirectRouting, vips: ["192.0.2.10", "2001:db8::10"]),
            )"#,
        );
        let record = tempfile::tempdir().unwrap();
        let report = net::apply(&config, record.path()).unwrap();
        assert_eq!(
            changes(&report),
            [
                "~ link lo up",
                "~ link v0 up",
                "+ address 192.0.2.21/24 on v0",
                "+ address 192.0.2.10/32 on lo",
                "+ address 2001:db8::10/128 on lo",
            ]
        );
        assert!(is_up("lo"));
        assert_eq!(addrs("-4", "lo"), ["127.0.0.1/8", "192.0.2.10/32"]);
        assert_eq!(addrs("-6", "lo"), ["2001:db8::10/128", "::1/128"]);
        assert!(net::apply(&config, record.path()).unwrap().changes.is_empty());
    });
}

#[test]
fn nat_real_server_gets_its_gateway_as_default_route() {
    in_netns(|| {
        veth("v0", "p0");
        let config = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["192.0.2.21/24"])],
                role: RealServer(mode: Nat, gateway: "192.0.2.2"),
            )"#,
        );
        let record = tempfile::tempdir().unwrap();
        net::apply(&config, record.path()).unwrap();
        assert_eq!(
            routes("-4"),
            ["default via 192.0.2.2 dev v0 proto static", "192.0.2.0/24 dev v0 proto kernel scope link src 192.0.2.21"]
        );
    });
}

#[test]
fn revert_removes_what_the_agent_added_and_never_what_a_person_added() {
    in_netns(|| {
        veth("v0", "p0");
        // Before the agent: an address the config will also name, and one it never names.
        ip("link set v0 up");
        ip("addr add 192.0.2.50/24 dev v0");
        let first = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["192.0.2.50/24", "198.51.100.2/24", "2001:db8::2/64"])],
                routes: [
                    Route(to: "default", via: "192.0.2.1"),
                    Route(to: "203.0.113.0/24", via: "198.51.100.1", metric: 10),
                    Route(to: "2001:db8:1::/48", via: "2001:db8::1"),
                ],
                role: Director(vips: [Vip(address: "192.0.2.10", interface: "v0")]),
            )"#,
        );
        let record = tempfile::tempdir().unwrap();
        net::apply(&first, record.path()).unwrap();
        // By hand, after the agent.
        ip("addr add 192.0.2.99/32 dev v0");
        ip("addr add 2001:db8::99/64 dev v0");
        ip("route add 203.0.113.128/25 via 192.0.2.1");

        // The second config drops the pre-existing address, one of the agent's
        // addresses, the VIP, two routes, and moves the default gateway.
        let second = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["198.51.100.2/24"])],
                routes: [Route(to: "default", via: "198.51.100.1")],
                role: Director(),
            )"#,
        );
        let report = net::apply(&second, record.path()).unwrap();
        assert_eq!(
            changes(&report),
            [
                "- route default via 192.0.2.1 metric 0",
                "- route 203.0.113.0/24 via 198.51.100.1 metric 10",
                "- route 2001:db8:1::/48 via 2001:db8::1 metric 1024",
                "+ route default via 198.51.100.1 metric 0",
                "- address 2001:db8::2/64 on v0",
                "- address 192.0.2.10/32 on v0",
            ]
        );
        assert_eq!(addrs("-4", "v0"), ["192.0.2.50/24", "198.51.100.2/24", "192.0.2.99/32"]);
        assert_eq!(addrs("-6", "v0"), ["2001:db8::99/64"]);
        assert_eq!(
            routes("-4"),
            [
                "default via 198.51.100.1 dev v0 proto static",
                "192.0.2.0/24 dev v0 proto kernel scope link src 192.0.2.50",
                "198.51.100.0/24 dev v0 proto kernel scope link src 198.51.100.2",
                "203.0.113.128/25 via 192.0.2.1 dev v0",
            ]
        );
        assert!(net::apply(&second, record.path()).unwrap().changes.is_empty());

        // With nothing configured, only what the agent added goes.
        let none = model(r#"Appliance(role: Director())"#);
        let report = net::apply(&none, record.path()).unwrap();
        assert_eq!(changes(&report), ["- route default via 198.51.100.1 metric 0", "- address 198.51.100.2/24 on v0"]);
        assert_eq!(addrs("-4", "v0"), ["192.0.2.50/24", "192.0.2.99/32"]);
        assert_eq!(
            routes("-4"),
            ["192.0.2.0/24 dev v0 proto kernel scope link src 192.0.2.50", "203.0.113.128/25 via 192.0.2.1 dev v0"]
        );
    });
}

#[test]
fn an_agent_address_that_a_person_made_primary_for_their_own_is_kept() {
    in_netns(|| {
        veth("v0", "p0");
        let record = tempfile::tempdir().unwrap();
        let config = r#"Appliance(interfaces: [Interface(name: "v0", addresses: ["192.0.2.2/24"])], role: Director())"#;
        net::apply(&model(config), record.path()).unwrap();
        ip("addr add 192.0.2.3/24 dev v0"); // a secondary of the agent's primary
        let report = net::apply(&model(r#"Appliance(role: Director())"#), record.path()).unwrap();
        assert!(report.changes.is_empty(), "{:?}", report.changes);
        assert_eq!(report.notes.len(), 1);
        assert!(report.notes[0].starts_with("kept address 192.0.2.2/24 on v0"), "{}", report.notes[0]);
        assert_eq!(addrs("-4", "v0"), ["192.0.2.2/24", "192.0.2.3/24"]);
    });
}

/// The links of this namespace in the kernel's order, as the agent lists them.
/// A loaded ipip, sit or gre module puts its fallback device (tunl0, sit0,
/// gre0, ...) in every new namespace, so this is read, not assumed.
fn link_names() -> Vec<String> {
    ip("-o link show").lines().map(|l| l.split(": ").nth(1).unwrap().split('@').next().unwrap().to_string()).collect()
}

#[test]
fn a_missing_interface_is_named_and_nothing_changes() {
    in_netns(|| {
        veth("v0", "p0");
        let config = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["192.0.2.2/24"]), Interface(name: "eth1", addresses: ["198.51.100.2/24"])],
                role: Director(),
            )"#,
        );
        let present = link_names();
        for ours in ["lo", "p0", "v0"] {
            assert!(present.iter().any(|l| l == ours), "{ours} missing from {present:?}");
        }
        let record = tempfile::tempdir().unwrap();
        let err = net::apply(&config, record.path()).unwrap_err();
        assert!(matches!(err, NetError::NoSuchInterface(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "no such interface eth1: the config names an interface this machine does not have (it has {})",
                present.join(", ")
            )
        );
        assert!(addrs("-4", "v0").is_empty());
        assert!(!is_up("v0"));
        assert!(!record.path().join("net-owned.ron").exists());
    });
}

/// With ipip loaded, every namespace has tunl0 (down): a tunnel real server
/// brings it up with its VIPs as /32s, re-applying changes nothing, and a
/// config that drops a VIP removes it. Without ipip (this project's host
/// kernel has none), the error says to load the module and nothing changes.
#[test]
fn tunnel_real_server_vips_on_tunl0_or_told_to_load_ipip() {
    in_netns(|| {
        let config = model(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10", "192.0.2.11"]))"#);
        let record = tempfile::tempdir().unwrap();
        if !link_names().iter().any(|l| l == "tunl0") {
            let err = net::apply(&config, record.path()).unwrap_err();
            assert!(err.to_string().starts_with("no such interface tunl0: the ipip module is not loaded"), "{err}");
            assert!(!record.path().join("net-owned.ron").exists());
            return;
        }
        assert!(!is_up("tunl0"), "tunl0 starts down in a new namespace");
        let report = net::apply(&config, record.path()).unwrap();
        assert_eq!(
            changes(&report),
            ["~ link tunl0 up", "+ address 192.0.2.10/32 on tunl0", "+ address 192.0.2.11/32 on tunl0"]
        );
        assert!(is_up("tunl0"));
        assert_eq!(addrs("-4", "tunl0"), ["192.0.2.10/32", "192.0.2.11/32"]);
        assert_eq!(
            net::apply(&config, record.path()).unwrap(),
            net::NetReport::default(),
            "re-applying changes nothing"
        );

        let fewer = model(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.11"]))"#);
        assert_eq!(changes(&net::apply(&fewer, record.path()).unwrap()), ["- address 192.0.2.10/32 on tunl0"]);
        assert_eq!(addrs("-4", "tunl0"), ["192.0.2.11/32"]);
    });
}

#[test]
fn a_refused_route_names_the_route_the_errno_and_what_to_do_and_what_went_before_is_recorded() {
    in_netns(|| {
        veth("v0", "p0");
        let config = model(
            r#"Appliance(
                interfaces: [Interface(name: "v0", addresses: ["192.0.2.2/24"])],
                routes: [Route(to: "198.51.100.0/24", via: "203.0.113.1")],
                role: Director(),
            )"#,
        );
        let record = tempfile::tempdir().unwrap();
        let err = net::apply(&config, record.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot add route 198.51.100.0/24 via 203.0.113.1 metric 0: ENETUNREACH: Network is unreachable: \
             gateway 203.0.113.1 is not in the network of any address: add an address in its network, \
             or a route to the gateway listed before this one (2 changes were applied before it)"
        );
        let text = std::fs::read_to_string(record.path().join("net-owned.ron")).unwrap();
        assert!(text.contains("192.0.2.2/24"), "{text}");
        // Fixed config: the address the failed run added is the agent's and goes when dropped.
        let report = net::apply(&model(r#"Appliance(role: Director())"#), record.path()).unwrap();
        assert_eq!(changes(&report), ["- address 192.0.2.2/24 on v0"]);
    });
}

/// The record is written after each change that adds something, so a record
/// that cannot be written stops the apply right after the first address:
/// nothing more is added that a later apply would not know to be the agent's.
#[test]
fn a_record_that_cannot_be_written_stops_after_the_first_addition() {
    in_netns(|| {
        veth("v0", "p0");
        let config = model(
            r#"Appliance(interfaces: [Interface(name: "v0", addresses: ["192.0.2.2/24", "198.51.100.2/24"])], role: Director())"#,
        );
        let record = tempfile::tempdir().unwrap();
        // A folder where the temporary file goes: every write of the record fails.
        std::fs::create_dir(record.path().join(".net-owned.ron.tmp")).unwrap();
        let err = net::apply(&config, record.path()).unwrap_err();
        let NetError::Record { applied, .. } = &err else { panic!("{err:?}") };
        assert_eq!(
            applied.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["~ link v0 up", "+ address 192.0.2.2/24 on v0"]
        );
        assert!(err.to_string().contains("the rest not tried"), "{err}");
        assert_eq!(addrs("-4", "v0"), ["192.0.2.2/24"]);
    });
}
