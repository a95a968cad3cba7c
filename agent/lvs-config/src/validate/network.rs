//! Hostname, interfaces and routes: shared by both roles.

use super::Findings;
use crate::diagnostic::shown;
use crate::file;
use crate::model::{Interface, Route};
use crate::path::Path;
use ipnet::IpNet;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

pub fn check_hostname(f: &mut Findings, path: Path, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !ok {
        f.error(
            path,
            format!("hostname `{}` is not a valid host name", shown(name)),
            "use letters, digits and '-', in dot-separated labels, at most 64 characters",
        );
    }
}

/// Linux limits names to IFNAMSIZ - 1 = 15 bytes and forbids '/', ':' and whitespace;
/// a NUL would end the name early, other control characters would reach the log.
/// Dots are fine (VLANs: eth0.100).
pub fn check_interface_name(f: &mut Findings, path: Path, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if !ok {
        f.error(
            path,
            format!("`{}` is not a Linux interface name", shown(name)),
            "an interface name has 1 to 15 characters and no '/', ':', spaces or control characters \
             (aliases such as eth0:0 are not needed: VIPs are extra addresses on eth0)",
        );
    }
}

pub fn interfaces(f: &mut Findings, path: &Path, list: &[file::Interface]) -> Vec<Interface> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, iface) in list.iter().enumerate() {
        let at = path.index(i);
        check_interface_name(f, at.field("name"), &iface.name);
        if !seen.insert(iface.name.as_str()) {
            f.error(
                at.field("name"),
                format!("interface `{}` is listed twice", iface.name),
                "list each interface once, with all its addresses",
            );
        }
        let mut addrs = HashSet::new();
        for (j, a) in iface.addresses.iter().enumerate() {
            if !addrs.insert(a.addr()) {
                f.error(
                    at.field("addresses").index(j),
                    format!("address {} is given twice on {}", a.addr(), iface.name),
                    "remove the second one",
                );
            }
        }
        if let Some(mtu) = iface.mtu {
            if !(68..=65535).contains(&mtu) {
                f.error(
                    at.field("mtu"),
                    format!("MTU {mtu} is outside 68 to 65535"),
                    "use the link's MTU, typically 1500, or leave it out",
                );
            }
        }
        out.push(Interface { name: iface.name.clone(), addresses: iface.addresses.clone(), mtu: iface.mtu });
    }
    out
}

pub fn routes(f: &mut Findings, path: &Path, list: &[file::Route], interfaces: &[Interface]) -> Vec<Route> {
    let mut out = Vec::new();
    // Each destination and metric, and the route that first has them.
    let mut seen: HashMap<(IpNet, u32), usize> = HashMap::new();
    for (i, r) in list.iter().enumerate() {
        let at = path.index(i);
        let destination = match parse_destination(&r.to, r.via.as_ref()) {
            Some(d) => d,
            None => {
                f.error(
                    at.field("to"),
                    format!("route destination `{}` is not \"default\", a network or a host", shown(&r.to)),
                    "write \"default\", \"198.51.100.0/24\" or \"198.51.100.7\"",
                );
                continue;
            }
        };
        if destination != destination.trunc() {
            f.error(
                at.field("to"),
                format!("route destination {destination} has host bits set"),
                format!("a route goes to a network: write \"{}\"", destination.trunc()),
            );
        }
        let destination = destination.trunc();
        let metric = r.metric.unwrap_or(default_metric(&destination));
        if let Some(first) = seen.insert((destination, metric), i) {
            f.error(
                at.field("to"),
                format!("a second route to {} with metric {metric} (first as routes[{first}])", r.to),
                "the kernel keeps one route per destination and metric (EEXIST): remove one, \
                 or give the backup route a higher `metric`",
            );
        }
        if r.via.is_none() && r.interface.is_none() {
            f.error(
                at,
                format!("route to {} has neither `via` nor `interface`", r.to),
                "add `via: \"<gateway address>\"`, or `interface: \"<name>\"` for an on-link route",
            );
            continue;
        }
        if let Some(via) = r.via {
            if destination.addr().is_ipv4() != via.is_ipv4() {
                f.error(
                    at.field("via"),
                    format!("gateway {via} is not of the same address family as {}", r.to),
                    "use an IPv4 gateway for an IPv4 route and an IPv6 gateway for an IPv6 route",
                );
            }
        }
        if let Some(name) = &r.interface {
            check_interface_name(f, at.field("interface"), name);
            if name != "lo" && !interfaces.iter().any(|x| &x.name == name) {
                f.warning(
                    at.field("interface"),
                    format!("route to {} uses interface `{name}`, which `interfaces` does not list", r.to),
                    "add the interface to `interfaces`, or check the name",
                );
            }
        }
        out.push(Route { destination, gateway: r.via, interface: r.interface.clone(), metric: r.metric });
    }
    out
}

/// "default" takes its family from the gateway (IPv4 when there is none).
/// A network keeps its host bits, for the caller to refuse.
fn parse_destination(to: &str, via: Option<&IpAddr>) -> Option<IpNet> {
    if to == "default" {
        let v6 = matches!(via, Some(IpAddr::V6(_)));
        return if v6 { "::/0" } else { "0.0.0.0/0" }.parse().ok();
    }
    if let Ok(net) = to.parse::<IpNet>() {
        return Some(net);
    }
    to.parse::<IpAddr>().ok().map(IpNet::from)
}

/// The metric the kernel gives a route that names none: 0 for IPv4, 1024
/// (IP6_RT_PRIO_USER) for IPv6.
fn default_metric(destination: &IpNet) -> u32 {
    match destination {
        IpNet::V4(_) => 0,
        IpNet::V6(_) => 1024,
    }
}

/// Whether an address falls in the subnet of any address on these interfaces.
pub fn on_some_subnet(interfaces: &[Interface], addr: &IpAddr) -> bool {
    interfaces.iter().flat_map(|i| &i.addresses).any(|net| net.contains(addr))
}
