//! The order ipvsadm lists services and destinations in when `--nosort` is not given.
//!
//! ipvsadm hands `qsort` comparators that subtract unsigned 32-bit values and
//! keep the difference as an `int`, so two addresses more than 2^31 apart
//! compare the "wrong" way round (192.168.0.1 before 10.0.0.1) and the order is
//! not even transitive. To print what ipvsadm prints, both the comparators and
//! glibc's merge sort (which `qsort` is on Debian) are reproduced here; a
//! textbook sort would give a different answer for such inputs.

use lvs_ipvs::{DestEntry, Family, ServiceEntry, ServiceKey};
use std::net::{IpAddr, SocketAddr};

/// `a - b` of two `__u32`s, stored in an `int`.
fn diff_u32(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The 32-bit words of `union nf_inet_addr` in host order; an IPv4 address
/// fills the first word and the rest stay zero, as ipvsadm's memset leaves them.
fn words(ip: Option<IpAddr>) -> [u32; 4] {
    match ip {
        None => [0; 4],
        Some(IpAddr::V4(v4)) => [u32::from(v4), 0, 0, 0],
        Some(IpAddr::V6(v6)) => {
            let o = v6.octets();
            std::array::from_fn(|i| u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]))
        }
    }
}

/// `ntohl` differences word by word; only the first for IPv4, as ipvsadm does.
fn diff_addr(family: Family, a: [u32; 4], b: [u32; 4]) -> i32 {
    match family {
        Family::Ipv4 => diff_u32(a[0], b[0]),
        Family::Ipv6 => a.iter().zip(b).map(|(x, y)| diff_u32(*x, y)).find(|r| *r != 0).unwrap_or(0),
    }
}

fn af_number(family: Family) -> i32 {
    match family {
        Family::Ipv4 => 2,
        Family::Ipv6 => 10,
    }
}

/// libipvs's `ipvs_cmp_services`: fwmark, family, protocol, address, port.
fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i32 {
    let parts = |key: &ServiceKey| -> (u32, Family, i32, Option<SocketAddr>) {
        match *key {
            ServiceKey::Inet { protocol, addr } => {
                (0, Family::of(&addr.ip()), i32::from(protocol.number()), Some(addr))
            }
            ServiceKey::Fwmark { family, mark } => (mark, family, 0, None),
        }
    };
    let (mark_a, fam_a, proto_a, sa) = parts(&a.service.key);
    let (mark_b, fam_b, proto_b, sb) = parts(&b.service.key);
    let addr_words = |s: Option<SocketAddr>| words(s.map(|s| s.ip()));
    let port = |s: Option<SocketAddr>| i32::from(s.map_or(0, |s| s.port()));
    [
        diff_u32(mark_a, mark_b),
        af_number(fam_a) - af_number(fam_b),
        proto_a - proto_b,
        diff_addr(fam_a, addr_words(sa), addr_words(sb)),
        port(sa) - port(sb),
    ]
    .into_iter()
    .find(|r| *r != 0)
    .unwrap_or(0)
}

/// libipvs's `ipvs_cmp_dests`: address (by the first one's family), then port.
fn cmp_dests(a: &DestEntry, b: &DestEntry) -> i32 {
    let (sa, sb) = (a.dest.addr, b.dest.addr);
    let r = diff_addr(Family::of(&sa.ip()), words(Some(sa.ip())), words(Some(sb.ip())));
    if r != 0 {
        return r;
    }
    i32::from(sa.port()) - i32::from(sb.port())
}

/// glibc's `msort_with_tmp`: split at n/2, sort both halves, merge taking the
/// left element while the comparator says `<= 0`.
fn glibc_msort<T>(items: &[T], cmp: &impl Fn(&T, &T) -> i32, idx: &mut [usize]) {
    let n = idx.len();
    if n <= 1 {
        return;
    }
    let (left, right) = idx.split_at_mut(n / 2);
    glibc_msort(items, cmp, left);
    glibc_msort(items, cmp, right);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&items[left[i]], &items[right[j]]) <= 0 {
            merged.push(left[i]);
            i += 1;
        } else {
            merged.push(right[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    idx.copy_from_slice(&merged);
}

fn sorted<T>(items: &[T], cmp: impl Fn(&T, &T) -> i32) -> Vec<&T> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    glibc_msort(items, &cmp, &mut idx);
    idx.into_iter().map(|i| &items[i]).collect()
}

/// Services in listing order: the dump's own order with `nosort`, else ipvsadm's.
pub fn services(list: &[ServiceEntry], nosort: bool) -> Vec<&ServiceEntry> {
    if nosort {
        list.iter().collect()
    } else {
        sorted(list, cmp_services)
    }
}

/// One service's destinations in listing order.
pub fn dests(list: &[DestEntry], nosort: bool) -> Vec<&DestEntry> {
    if nosort {
        list.iter().collect()
    } else {
        sorted(list, cmp_dests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_ipvs::{Dest, Protocol, Service, Stats};

    fn svc(key: ServiceKey) -> ServiceEntry {
        ServiceEntry { service: Service::new(key), stats: Stats::default(), dests: vec![] }
    }

    fn tcp(addr: &str) -> ServiceEntry {
        svc(ServiceKey::Inet { protocol: Protocol::Tcp, addr: addr.parse().unwrap() })
    }

    fn keys(list: &[&ServiceEntry]) -> Vec<String> {
        list.iter().map(|s| s.service.key.to_string()).collect()
    }

    #[test]
    fn inet_before_fwmark_and_ipv4_before_ipv6() {
        let list = vec![
            svc(ServiceKey::Fwmark { family: Family::Ipv4, mark: 2 }),
            tcp("[2001:db8::1]:80"),
            svc(ServiceKey::Inet { protocol: Protocol::Udp, addr: "10.0.0.1:53".parse().unwrap() }),
            tcp("10.0.0.2:80"),
            tcp("10.0.0.1:443"),
            tcp("10.0.0.1:80"),
            svc(ServiceKey::Fwmark { family: Family::Ipv4, mark: 1 }),
        ];
        assert_eq!(
            keys(&services(&list, false)),
            [
                "TCP 10.0.0.1:80",
                "TCP 10.0.0.1:443",
                "TCP 10.0.0.2:80",
                "UDP 10.0.0.1:53",
                "TCP [2001:db8::1]:80",
                "FWM 1",
                "FWM 2"
            ]
        );
        assert_eq!(keys(&services(&list, true))[0], "FWM 2");
    }

    #[test]
    fn addresses_far_apart_compare_as_ipvsadm_does() {
        // 192.168.0.1 - 10.0.0.1 overflows an int and comes out negative.
        let list = vec![tcp("10.0.0.1:80"), tcp("192.168.0.1:80")];
        assert_eq!(keys(&services(&list, false)), ["TCP 192.168.0.1:80", "TCP 10.0.0.1:80"]);
    }

    #[test]
    fn dests_by_address_then_port() {
        let d = |a: &str| DestEntry::new(Dest::new(a.parse().unwrap()));
        let list = vec![d("10.0.0.3:80"), d("10.0.0.2:8080"), d("10.0.0.2:80")];
        let got: Vec<String> = dests(&list, false).iter().map(|d| d.dest.addr.to_string()).collect();
        assert_eq!(got, ["10.0.0.2:80", "10.0.0.2:8080", "10.0.0.3:80"]);
    }
}
