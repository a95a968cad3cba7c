//! The network an appliance wants, derived from the config model alone: which
//! links are up (and their MTU), which addresses sit on which interface, which
//! routes exist. Pure, so every role's layout is unit-tested without a kernel.

use ipnet::IpNet;
use lvs_config::model::{Appliance, Role};
use lvs_ipvs::Forward;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Where a tunnel real server's VIPs go: the ipip module's fallback device,
/// which exists in every namespace once the module is loaded.
pub const TUNNEL_DEVICE: &str = "tunl0";
pub const LOOPBACK: &str = "lo";

/// The kernel's metric for a route added without one: IPv6 uses 1024
/// (IP6_RT_PRIO_USER), IPv4 0. Resolved here so that a dumped route compares
/// equal to the route the config meant.
pub fn default_metric(destination: &IpNet) -> u32 {
    match destination {
        IpNet::V4(_) => 0,
        IpNet::V6(_) => 1024,
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub interface: String,
    /// With the host part: 192.0.2.10/24 is the address 192.0.2.10 on a /24.
    pub net: IpNet,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "address {} on {}", self.net, self.interface)
    }
}

/// A route in the main table. `interface: None` lets the kernel pick the
/// interface that reaches the gateway, so any outgoing interface matches it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub interface: Option<String>,
    pub metric: u32,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.destination.prefix_len() == 0 {
            write!(f, "route default")?;
        } else if self.destination.prefix_len() == self.destination.max_prefix_len() {
            write!(f, "route {}", self.destination.addr())?;
        } else {
            write!(f, "route {}", self.destination)?;
        }
        if let Some(gw) = self.gateway {
            write!(f, " via {gw}")?;
        }
        if let Some(dev) = &self.interface {
            write!(f, " dev {dev}")?;
        }
        write!(f, " metric {}", self.metric)
    }
}

/// The network `appliance` asks for.
pub fn desired(appliance: &Appliance) -> Desired {
    let mut links: BTreeMap<String, Option<u32>> = BTreeMap::new();
    let mut addresses = Vec::new();
    for iface in &appliance.interfaces {
        links.insert(iface.name.clone(), iface.mtu);
        for net in &iface.addresses {
            push_unique(&mut addresses, Address { interface: iface.name.clone(), net: *net });
        }
    }
    let mut routes: Vec<Route> = appliance
        .routes
        .iter()
        .map(|r| Route {
            destination: r.destination,
            gateway: r.gateway,
            interface: r.interface.clone(),
            metric: r.metric.unwrap_or_else(|| default_metric(&r.destination)),
        })
        .collect();

    // A VIP is a host address: the interface's own network already routes the
    // subnet, and a wider prefix on lo would swallow the whole subnet.
    let mut vip_on = |interface: &str, vip: IpAddr| {
        links.entry(interface.to_string()).or_insert(None);
        push_unique(&mut addresses, Address { interface: interface.to_string(), net: IpNet::from(vip) });
    };
    match &appliance.role {
        Role::Director(d) => {
            for vip in &d.vips {
                vip_on(&vip.interface, vip.address);
            }
        }
        Role::RealServer(rs) => match rs.mode {
            Forward::DirectRouting => rs.vips.iter().for_each(|v| vip_on(LOOPBACK, *v)),
            Forward::Tunnel => rs.vips.iter().for_each(|v| vip_on(TUNNEL_DEVICE, *v)),
            Forward::Nat | Forward::Local => {
                if let Some(gw) = rs.gateway {
                    let default: IpNet = if gw.is_ipv4() { "0.0.0.0/0" } else { "::/0" }.parse().expect("literal");
                    let has_default = routes.iter().any(|r| r.destination == default);
                    if !has_default {
                        routes.push(Route {
                            destination: default,
                            gateway: Some(gw),
                            interface: None,
                            metric: default_metric(&default),
                        });
                    }
                }
            }
        },
    }
    Desired { links: links.into_iter().map(|(name, mtu)| Link { name, mtu }).collect(), addresses, routes }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Appliance {
        lvs_config::parse(text, std::path::Path::new("test.ron")).expect("valid config").model
    }

    fn addr(interface: &str, net: &str) -> Address {
        Address { interface: interface.into(), net: net.parse().unwrap() }
    }

    #[test]
    fn director_vip_is_a_host_address_on_its_interface() {
        let d = desired(&parse(
            r#"Appliance(
                interfaces: [Interface(name: "eth0", addresses: ["192.0.2.2/24", "2001:db8::2/64"], mtu: 9000)],
                routes: [Route(to: "default", via: "192.0.2.1"), Route(to: "198.51.100.0/24", interface: "eth0", metric: 7)],
                role: Director(vips: [Vip(address: "192.0.2.10", interface: "eth0"), Vip(address: "2001:db8::10", interface: "eth0")]),
            )"#,
        ));
        assert_eq!(d.links, vec![Link { name: "eth0".into(), mtu: Some(9000) }]);
        assert_eq!(
            d.addresses,
            vec![
                addr("eth0", "192.0.2.2/24"),
                addr("eth0", "2001:db8::2/64"),
                addr("eth0", "192.0.2.10/32"),
                addr("eth0", "2001:db8::10/128"),
            ]
        );
        assert_eq!(d.routes.len(), 2);
        assert_eq!(d.routes[0].to_string(), "route default via 192.0.2.1 metric 0");
        assert_eq!(d.routes[1].to_string(), "route 198.51.100.0/24 dev eth0 metric 7");
    }

    #[test]
    fn dr_real_server_puts_vips_on_lo() {
        let d = desired(&parse(
            r#"Appliance(
                interfaces: [Interface(name: "eth0", addresses: ["192.0.2.21/24"])],
                role: RealServer(mode: DirectRouting, vips: ["192.0.2.10", "2001:db8::10"]),
            )"#,
        ));
        assert_eq!(d.links, vec![Link { name: "eth0".into(), mtu: None }, Link { name: "lo".into(), mtu: None }]);
        assert_eq!(d.addresses[1..], [addr("lo", "192.0.2.10/32"), addr("lo", "2001:db8::10/128")]);
        assert!(d.routes.is_empty());
    }

    #[test]
    fn tunnel_real_server_brings_tunl0_up_with_the_vips() {
        let d = desired(&parse(
            r#"Appliance(
                interfaces: [Interface(name: "eth0", addresses: ["192.0.2.21/24"])],
                role: RealServer(mode: Tunnel, vips: ["192.0.2.10"]),
            )"#,
        ));
        assert_eq!(d.links, vec![Link { name: "eth0".into(), mtu: None }, Link { name: "tunl0".into(), mtu: None }]);
        assert_eq!(d.addresses, vec![addr("eth0", "192.0.2.21/24"), addr("tunl0", "192.0.2.10/32")]);
    }

    #[test]
    fn nat_gateway_is_the_default_route_unless_routes_has_one() {
        let base = r#"Appliance(
            interfaces: [Interface(name: "eth0", addresses: ["192.0.2.21/24"])],
            ROUTES
            role: RealServer(mode: Nat, gateway: "192.0.2.2"),
        )"#;
        let d = desired(&parse(&base.replace("ROUTES", "")));
        assert_eq!(d.routes.len(), 1);
        assert_eq!(d.routes[0].to_string(), "route default via 192.0.2.2 metric 0");
        assert!(d.addresses.iter().all(|a| a.interface == "eth0"));

        let d =
            desired(&parse(&base.replace("ROUTES", r#"routes: [Route(to: "default", via: "192.0.2.1", metric: 5)],"#)));
        assert_eq!(d.routes.len(), 1);
        assert_eq!(d.routes[0].to_string(), "route default via 192.0.2.1 metric 5");
    }

    #[test]
    fn ipv6_routes_get_the_kernels_default_metric() {
        let d = desired(&parse(
            r#"Appliance(
                interfaces: [Interface(name: "eth0", addresses: ["2001:db8::2/64"])],
                routes: [Route(to: "2001:db8:1::/48", via: "2001:db8::1"), Route(to: "2001:db8:2::7", interface: "eth0")],
                role: Director(),
            )"#,
        ));
        assert_eq!(d.routes[0].to_string(), "route 2001:db8:1::/48 via 2001:db8::1 metric 1024");
        assert_eq!(d.routes[1].to_string(), "route 2001:db8:2::7 dev eth0 metric 1024");
    }
}
