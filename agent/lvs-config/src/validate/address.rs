//! What kind of address a value is, where the config needs the address of
//! one host: services, VIPs, check addresses, real and sorry servers.

use crate::model::Interface;
use ipnet::IpNet;
use std::net::IpAddr;

/// Why an address names no one host, or None: the unspecified address and
/// the rest of 0.0.0.0/8, the limited broadcast 255.255.255.255, multicast.
pub fn not_one_host(ip: IpAddr) -> Option<&'static str> {
    match ip {
        _ if ip.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(v4) if v4.octets()[0] == 0 => Some("in 0.0.0.0/8, which names no host"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        _ if ip.is_multicast() => Some("a multicast address"),
        _ => None,
    }
}

/// Why the kernel refuses this address for a real or sorry server (EINVAL
/// from ip_vs_new_dest), or None. An IPv4 address must route as unicast or
/// local, so no 0.0.0.0/8, broadcast (the limited one, or a subnet's on an
/// interface of the director) or multicast; an IPv6 one must be unicast
/// (not ::, multicast or IPv4-mapped), and link-local only when it is the
/// director's own.
pub fn refused_as_dest(ip: IpAddr, interfaces: &[Interface]) -> Option<String> {
    if let Some(why) = not_one_host(ip) {
        return Some(why.to_string());
    }
    let own = || interfaces.iter().flat_map(|i| i.addresses.iter().map(move |a| (i, a)));
    match ip {
        IpAddr::V4(_) => own().find_map(|(iface, net)| {
            let subnet = matches!(net, IpNet::V4(n) if n.prefix_len() <= 30);
            (subnet && net.broadcast() == ip)
                .then(|| format!("the broadcast address of {} on {}", net.trunc(), iface.name))
        }),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            Some("an IPv4-mapped address (write the IPv4 address itself)".to_string())
        }
        IpAddr::V6(v6) if v6.is_unicast_link_local() && !own().any(|(_, net)| net.addr() == ip) => {
            Some("link-local, which the kernel takes only for an address of the director itself".to_string())
        }
        IpAddr::V6(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_host_or_not() {
        for bad in ["0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.1.2.3", "::", "ff02::1"] {
            assert!(not_one_host(ip(bad)).is_some(), "{bad}");
        }
        for good in ["192.0.2.1", "127.0.0.1", "::1", "2001:db8::1", "fe80::1", "192.0.2.255"] {
            assert_eq!(not_one_host(ip(good)), None, "{good}");
        }
    }

    #[test]
    fn what_the_kernel_takes_as_a_real_server() {
        let eth0 = Interface {
            name: "eth0".to_string(),
            addresses: vec!["192.0.2.10/24".parse().unwrap(), "fe80::10/64".parse().unwrap()],
            mtu: None,
        };
        let ifaces = [eth0];
        for bad in
            ["0.0.0.0", "255.255.255.255", "224.0.0.5", "192.0.2.255", "::", "ff05::1", "fe80::1", "::ffff:192.0.2.1"]
        {
            assert!(refused_as_dest(ip(bad), &ifaces).is_some(), "{bad}");
        }
        assert_eq!(
            refused_as_dest(ip("192.0.2.255"), &ifaces).unwrap(),
            "the broadcast address of 192.0.2.0/24 on eth0"
        );
        // The director's own link-local address, loopback and local addresses are taken.
        for good in ["192.0.2.21", "192.0.2.10", "198.51.100.255", "127.0.0.1", "::1", "fe80::10", "2001:db8::21"] {
            assert_eq!(refused_as_dest(ip(good), &ifaces), None, "{good}");
        }
        // Without the interfaces there is no subnet to know the broadcast of.
        assert_eq!(refused_as_dest(ip("192.0.2.255"), &[]), None);
    }
}
