//! desired + observed + what the agent added before → the changes to make.
//! Pure: the executor only carries these out, so every rule about what may be
//! touched is tested here without a kernel.

use super::desired::{Address, Desired, Route, TUNNEL_DEVICE};
use super::observed::Observed;
use super::record::Owned;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    LinkUp { name: String },
    Mtu { name: String, from: Option<u32>, to: u32 },
    AddAddress(Address),
    DelAddress(Address),
    AddRoute(Route),
    DelRoute(Route),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::LinkUp { name } => write!(f, "~ link {name} up"),
            Change::Mtu { name, from: Some(from), to } => write!(f, "~ link {name} mtu {from} -> {to}"),
            Change::Mtu { name, from: None, to } => write!(f, "~ link {name} mtu {to}"),
            Change::AddAddress(a) => write!(f, "+ {a}"),
            Change::DelAddress(a) => write!(f, "- {a}"),
            Change::AddRoute(r) => write!(f, "+ {r}"),
            Change::DelRoute(r) => write!(f, "- {r}"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Addresses the agent added and the config dropped, left in place for now
    /// (with the reason): removing them would take others' addresses along.
    pub kept: Vec<(Address, String)>,
}

/// Interfaces the desired network names and this machine lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingInterfaces {
    pub missing: Vec<String>,
    pub present: Vec<String>,
}

impl fmt::Display for MissingInterfaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = self.present.join(", ");
        for (i, name) in self.missing.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "no such interface {name}: ")?;
            if name == TUNNEL_DEVICE {
                write!(
                    f,
                    "the ipip module is not loaded (tunl0 appears when it is; the image loads it for tunnel real servers, \
                     elsewhere run `modprobe ipip`)"
                )?;
            } else {
                write!(f, "the config names an interface this machine does not have (it has {present})")?;
            }
        }
        Ok(())
    }
}

/// Whether `have` is the route `want` describes. A route written without an
/// interface lets the kernel choose one, so any interface matches it.
pub fn same_route(want: &Route, have: &Route) -> bool {
    want.destination == have.destination
        && want.gateway == have.gateway
        && want.metric == have.metric
        && (want.interface.is_none() || want.interface == have.interface)
}

pub fn plan(desired: &Desired, observed: &Observed, owned: &Owned) -> Result<Plan, MissingInterfaces> {
    check_interfaces(desired, observed)?;
    let mut out = Plan::default();
    let mut links = Vec::new();
    for want in &desired.links {
        let have = observed.link(&want.name).expect("checked above");
        if let Some(mtu) = want.mtu {
            if have.mtu != Some(mtu) {
                links.push(Change::Mtu { name: want.name.clone(), from: have.mtu, to: mtu });
            }
        }
        if !have.up {
            links.push(Change::LinkUp { name: want.name.clone() });
        }
    }

    let add_addresses =
        desired.addresses.iter().filter(|a| !observed.addresses.contains(a)).map(|a| Change::AddAddress(a.clone()));

    let stale_addresses: Vec<&Address> =
        owned.addresses.iter().filter(|a| !desired.addresses.contains(a) && observed.addresses.contains(a)).collect();
    let mut del_addresses = Vec::new();
    for a in &stale_addresses {
        match takes_along(a, observed, &stale_addresses) {
            None => del_addresses.push(Change::DelAddress((*a).clone())),
            Some(other) => out.kept.push((
                (*a).clone(),
                format!(
                    "it is the primary address of its subnet on {}, and removing it would remove {other} too \
                     (set net.ipv4.conf.{}.promote_secondaries to 1, or remove it by hand)",
                    a.interface, a.interface
                ),
            )),
        }
    }

    let add_routes = desired
        .routes
        .iter()
        .filter(|r| !observed.routes.iter().any(|have| same_route(r, have)))
        .map(|r| Change::AddRoute(r.clone()));
    // A route the agent added stays while a route the config names is the same
    // kernel route (the config may now write it with its interface).
    let del_routes = owned
        .routes
        .iter()
        .filter(|o| !desired.routes.contains(o))
        .filter(|o| {
            observed
                .routes
                .iter()
                .any(|have| same_route(o, have) && !desired.routes.iter().any(|d| same_route(d, have)))
        })
        .map(|o| Change::DelRoute(o.clone()));

    // Links first (a route needs its link up); old routes go before new ones so
    // a changed gateway with the same metric is not refused as a duplicate;
    // addresses go last, after the routes that may use them.
    out.changes =
        links.into_iter().chain(add_addresses).chain(del_routes).chain(add_routes).chain(del_addresses).collect();
    Ok(out)
}

/// The kernel deletes the secondaries of a primary IPv4 address with it
/// (unless promote_secondaries is set): returns one address not being removed
/// that would go too.
fn takes_along(a: &Address, observed: &Observed, removed: &[&Address]) -> Option<Address> {
    let ipnet::IpNet::V4(net) = a.net else { return None };
    if observed.secondaries.contains(a) {
        return None;
    }
    observed
        .addresses
        .iter()
        .filter(|b| b.interface == a.interface && *b != a && !removed.contains(b))
        .find(|b| match b.net {
            ipnet::IpNet::V4(other) => other.prefix_len() == net.prefix_len() && other.network() == net.network(),
            ipnet::IpNet::V6(_) => false,
        })
        .cloned()
}

fn check_interfaces(desired: &Desired, observed: &Observed) -> Result<(), MissingInterfaces> {
    let named = desired
        .links
        .iter()
        .map(|l| &l.name)
        .chain(desired.addresses.iter().map(|a| &a.interface))
        .chain(desired.routes.iter().filter_map(|r| r.interface.as_ref()));
    let mut missing: Vec<String> = Vec::new();
    for name in named {
        if observed.link(name).is_none() && !missing.contains(name) {
            missing.push(name.clone());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let present = observed.links.iter().map(|l| l.name.clone()).collect();
    Err(MissingInterfaces { missing, present })
}

/// The record after `applied` went through: what was owned and is still there,
/// less what was deleted, plus what was added.
pub fn owned_after(owned: &Owned, observed: &Observed, applied: &[Change]) -> Owned {
    let mut next = Owned {
        addresses: owned.addresses.iter().filter(|a| observed.addresses.contains(a)).cloned().collect(),
        routes: owned
            .routes
            .iter()
            .filter(|o| observed.routes.iter().any(|have| same_route(o, have)))
            .cloned()
            .collect(),
    };
    for change in applied {
        record(&mut next, change);
    }
    next
}

/// Notes one change that went through in `owned`: what it added is the
/// agent's, what it removed is no longer there to own.
pub fn record(owned: &mut Owned, change: &Change) {
    match change {
        Change::AddAddress(a) if !owned.addresses.contains(a) => owned.addresses.push(a.clone()),
        Change::DelAddress(a) => owned.addresses.retain(|x| x != a),
        Change::AddRoute(r) if !owned.routes.contains(r) => owned.routes.push(r.clone()),
        Change::DelRoute(r) => owned.routes.retain(|x| x != r),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::desired::Link;
    use crate::net::observed::ObservedLink;

    fn addr(interface: &str, net: &str) -> Address {
        Address { interface: interface.into(), net: net.parse().unwrap() }
    }

    fn route(to: &str, via: Option<&str>, dev: Option<&str>, metric: u32) -> Route {
        Route {
            destination: to.parse().unwrap(),
            gateway: via.map(|v| v.parse().unwrap()),
            interface: dev.map(String::from),
            metric,
        }
    }

    fn link(index: u32, name: &str, up: bool, mtu: u32) -> ObservedLink {
        ObservedLink { index, name: name.into(), up, mtu: Some(mtu) }
    }

    fn machine() -> Observed {
        Observed {
            links: vec![link(1, "lo", true, 65536), link(2, "eth0", true, 1500), link(3, "eth0.100", false, 1500)],
            addresses: vec![addr("lo", "127.0.0.1/8"), addr("eth0", "192.0.2.2/24")],
            secondaries: vec![],
            routes: vec![route("192.0.2.0/24", None, Some("eth0"), 0)],
        }
    }

    fn lines(plan: &Plan) -> Vec<String> {
        plan.changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn adds_what_is_missing_in_dependency_order() {
        let desired = Desired {
            links: vec![Link { name: "eth0".into(), mtu: Some(9000) }, Link { name: "eth0.100".into(), mtu: None }],
            addresses: vec![
                addr("eth0", "192.0.2.2/24"),
                addr("eth0", "192.0.2.10/32"),
                addr("eth0.100", "198.51.100.2/24"),
            ],
            routes: vec![route("0.0.0.0/0", Some("192.0.2.1"), None, 0)],
        };
        let plan = plan(&desired, &machine(), &Owned::default()).unwrap();
        assert_eq!(
            lines(&plan),
            [
                "~ link eth0 mtu 1500 -> 9000",
                "~ link eth0.100 up",
                "+ address 192.0.2.10/32 on eth0",
                "+ address 198.51.100.2/24 on eth0.100",
                "+ route default via 192.0.2.1 metric 0",
            ]
        );
        assert!(plan.kept.is_empty());
    }

    #[test]
    fn nothing_to_do_when_the_kernel_matches() {
        let mut observed = machine();
        observed.routes.push(route("0.0.0.0/0", Some("192.0.2.1"), Some("eth0"), 0));
        let desired = Desired {
            links: vec![Link { name: "eth0".into(), mtu: Some(1500) }],
            addresses: vec![addr("eth0", "192.0.2.2/24")],
            routes: vec![route("0.0.0.0/0", Some("192.0.2.1"), None, 0)],
        };
        let owned = Owned { addresses: vec![], routes: desired.routes.clone() };
        assert_eq!(plan(&desired, &observed, &owned).unwrap(), Plan::default());
    }

    #[test]
    fn removes_only_what_it_added_and_the_config_dropped() {
        let mut observed = machine();
        observed.addresses.push(addr("eth0", "192.0.2.10/32")); // the agent's VIP
        observed.addresses.push(addr("eth0", "192.0.2.99/32")); // a person's
        observed.routes.push(route("198.51.100.0/24", Some("192.0.2.1"), Some("eth0"), 0)); // the agent's
        observed.routes.push(route("203.0.113.0/24", Some("192.0.2.1"), Some("eth0"), 0)); // DHCP's
        let owned = Owned {
            addresses: vec![addr("eth0", "192.0.2.10/32")],
            routes: vec![route("198.51.100.0/24", Some("192.0.2.1"), None, 0)],
        };
        let desired = Desired { links: vec![], addresses: vec![addr("eth0", "192.0.2.2/24")], routes: vec![] };
        let p = plan(&desired, &observed, &owned).unwrap();
        assert_eq!(lines(&p), ["- route 198.51.100.0/24 via 192.0.2.1 metric 0", "- address 192.0.2.10/32 on eth0"]);
        // An address the config names that was there before is not the agent's
        // either: dropping it from the config leaves it.
        let empty = Desired::default();
        let p = plan(&empty, &machine(), &Owned::default()).unwrap();
        assert!(p.changes.is_empty());
    }

    #[test]
    fn a_changed_gateway_removes_the_old_route_before_adding_the_new() {
        let mut observed = machine();
        observed.routes.push(route("0.0.0.0/0", Some("192.0.2.1"), Some("eth0"), 0));
        let owned = Owned { addresses: vec![], routes: vec![route("0.0.0.0/0", Some("192.0.2.1"), None, 0)] };
        let desired = Desired { routes: vec![route("0.0.0.0/0", Some("192.0.2.254"), None, 0)], ..Desired::default() };
        assert_eq!(
            lines(&plan(&desired, &observed, &owned).unwrap()),
            ["- route default via 192.0.2.1 metric 0", "+ route default via 192.0.2.254 metric 0"]
        );
    }

    #[test]
    fn an_owned_route_the_config_now_writes_with_its_interface_stays() {
        let mut observed = machine();
        observed.routes.push(route("0.0.0.0/0", Some("192.0.2.1"), Some("eth0"), 0));
        let owned = Owned { addresses: vec![], routes: vec![route("0.0.0.0/0", Some("192.0.2.1"), None, 0)] };
        let desired =
            Desired { routes: vec![route("0.0.0.0/0", Some("192.0.2.1"), Some("eth0"), 0)], ..Desired::default() };
        assert_eq!(plan(&desired, &observed, &owned).unwrap(), Plan::default());
    }

    #[test]
    fn a_primary_with_someone_elses_secondary_is_kept() {
        let mut observed = machine();
        observed.addresses = vec![addr("eth0", "192.0.2.2/24"), addr("eth0", "192.0.2.3/24")];
        observed.secondaries = vec![addr("eth0", "192.0.2.3/24")];
        let owned = Owned { addresses: vec![addr("eth0", "192.0.2.2/24")], routes: vec![] };
        let p = plan(&Desired::default(), &observed, &owned).unwrap();
        assert!(p.changes.is_empty(), "{:?}", p.changes);
        assert_eq!(p.kept.len(), 1);
        assert!(p.kept[0].1.contains("would remove address 192.0.2.3/24 on eth0"), "{}", p.kept[0].1);
        // When both are the agent's, both go.
        let owned = Owned { addresses: observed.addresses.clone(), routes: vec![] };
        assert_eq!(plan(&Desired::default(), &observed, &owned).unwrap().changes.len(), 2);
        // The agent's secondary goes alone.
        let owned = Owned { addresses: vec![addr("eth0", "192.0.2.3/24")], routes: vec![] };
        assert_eq!(lines(&plan(&Desired::default(), &observed, &owned).unwrap()), ["- address 192.0.2.3/24 on eth0"]);
    }

    #[test]
    fn missing_interfaces_are_named_before_anything_changes() {
        let desired = Desired {
            links: vec![Link { name: "eth1".into(), mtu: None }, Link { name: "tunl0".into(), mtu: None }],
            addresses: vec![addr("eth1", "192.0.2.2/24")],
            routes: vec![route("198.51.100.0/24", None, Some("eth2"), 0)],
        };
        let e = plan(&desired, &machine(), &Owned::default()).unwrap_err();
        assert_eq!(e.missing, ["eth1", "tunl0", "eth2"]);
        assert_eq!(
            e.to_string(),
            "no such interface eth1: the config names an interface this machine does not have (it has lo, eth0, eth0.100)\n\
             no such interface tunl0: the ipip module is not loaded (tunl0 appears when it is; the image loads it for \
             tunnel real servers, elsewhere run `modprobe ipip`)\n\
             no such interface eth2: the config names an interface this machine does not have (it has lo, eth0, eth0.100)"
        );
    }

    #[test]
    fn the_record_follows_what_was_applied() {
        let mut observed = machine();
        observed.addresses.push(addr("eth0", "192.0.2.10/32"));
        let owned = Owned {
            addresses: vec![addr("eth0", "192.0.2.10/32"), addr("eth0", "192.0.2.11/32")], // .11 vanished
            routes: vec![],
        };
        let applied = [
            Change::AddAddress(addr("eth0", "192.0.2.12/32")),
            Change::DelAddress(addr("eth0", "192.0.2.10/32")),
            Change::AddRoute(route("0.0.0.0/0", Some("192.0.2.1"), None, 0)),
        ];
        let next = owned_after(&owned, &observed, &applied);
        assert_eq!(next.addresses, [addr("eth0", "192.0.2.12/32")]);
        assert_eq!(next.routes, [route("0.0.0.0/0", Some("192.0.2.1"), None, 0)]);
    }
}
