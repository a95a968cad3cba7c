//! What the kernel has: links, addresses and main-table routes, from one dump.
//! The netlink messages are turned into the same plain types the desired model
//! uses, so the planner compares like with like.

use super::desired::{Address, Route};
use futures_util::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{Handle, RouteMessageBuilder};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    pub links: Vec<ObservedLink>,
    pub addresses: Vec<Address>,
    /// IPv4 addresses the kernel flags secondary: deleting one of them never
    /// takes another address with it, unlike deleting a primary.
    pub secondaries: Vec<Address>,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedLink {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub mtu: Option<u32>,
}

impl Observed {
    pub fn link(&self, name: &str) -> Option<&ObservedLink> {
        self.links.iter().find(|l| l.name == name)
    }

    fn name_of(&self, index: u32) -> Option<String> {
        self.links.iter().find(|l| l.index == index).map(|l| l.name.clone())
    }
}

/// Dumps links, addresses and the IPv4 and IPv6 main tables.
pub async fn dump(handle: &Handle) -> Result<Observed, rtnetlink::Error> {
    let mut observed = Observed::default();
    let mut links = handle.link().get().execute();
    while let Some(msg) = links.try_next().await? {
        observed.links.extend(link(&msg));
    }
    let mut addresses = handle.address().get().execute();
    while let Some(msg) = addresses.try_next().await? {
        if let Some(a) = address(&msg, &observed) {
            if msg.header.flags.contains(AddressHeaderFlags::Secondary) {
                observed.secondaries.push(a.clone());
            }
            observed.addresses.push(a);
        }
    }
    for query in [RouteMessageBuilder::<Ipv4Addr>::new().build(), RouteMessageBuilder::<Ipv6Addr>::new().build()] {
        let mut routes = handle.route().get(query).execute();
        while let Some(msg) = routes.try_next().await? {
            observed.routes.extend(route(&msg, &observed));
        }
    }
    Ok(observed)
}

pub fn link(msg: &LinkMessage) -> Option<ObservedLink> {
    let name = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })?;
    let mtu = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::Mtu(m) => Some(*m),
        _ => None,
    });
    Some(ObservedLink { index: msg.header.index, name, up: msg.header.flags.contains(LinkFlags::Up), mtu })
}

pub fn address(msg: &AddressMessage, observed: &Observed) -> Option<Address> {
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
    // point-to-point links and equals IFA_LOCAL elsewhere. IPv6 sends only IFA_ADDRESS.
    let local = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let addr = local.or_else(|| {
        msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })?;
    let net = IpNet::new(addr, msg.header.prefix_len).ok()?;
    Some(Address { interface: observed.name_of(msg.header.index)?, net })
}

/// Only unicast routes of the main table: local, broadcast and multicast
/// routes are the kernel's own and never in a config.
pub fn route(msg: &RouteMessage, observed: &Observed) -> Option<Route> {
    let table = msg
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(msg.header.table));
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) || msg.header.kind != RouteType::Unicast {
        return None;
    }
    let destination_addr = match msg.header.address_family {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    let mut route = Route {
        destination: IpNet::new(destination_addr, msg.header.destination_prefix_length).ok()?,
        gateway: None,
        interface: None,
        metric: 0,
    };
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(a) => {
                route.destination = IpNet::new(ip(a)?, msg.header.destination_prefix_length).ok()?
            }
            RouteAttribute::Gateway(a) => route.gateway = ip(a),
            RouteAttribute::Oif(index) => route.interface = observed.name_of(*index),
            RouteAttribute::Priority(m) => route.metric = *m,
            // Multipath routes are never what the agent adds; leave them out
            // rather than half-describe them.
            RouteAttribute::MultiPath(_) => return None,
            _ => {}
        }
    }
    Some(route)
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}
