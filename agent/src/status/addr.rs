//! Addresses the way ipvsadm prints them with `-n`: glibc's `inet_ntop`, IPv6 in brackets.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `a.b.c.d:port` or `[v6]:port`.
pub fn addr_port(addr: &SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{}]:{}", ntop6(&ip), addr.port()),
    }
}

/// An address without port, as `inet_ntop` spells it (for JSON, which must agree with the text).
pub fn ntop(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => ntop6(ip),
    }
}

/// glibc's IPv6 spelling. Rust's `Display` agrees except for IPv4-compatible
/// addresses (`::a.b.c.d`), which glibc still writes with a dotted quad; the
/// lab compares bytes, so the rule is kept here rather than trusted to std.
pub fn ntop6(ip: &Ipv6Addr) -> String {
    let words = ip.segments();
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, w) in words.iter().enumerate() {
        if *w == 0 {
            cur = Some(match cur {
                Some((base, len)) => (base, len + 1),
                None => (i, 1),
            });
        } else if let Some(run) = cur.take() {
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = cur {
        if best.is_none_or(|b| run.1 > b.1) {
            best = Some(run);
        }
    }
    let best = best.filter(|b| b.1 >= 2);

    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    out.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        let embeds_v4 = best.is_some_and(|(base, len)| base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff)));
        if i == 6 && embeds_v4 {
            let o = ip.octets();
            out.push_str(&Ipv4Addr::new(o[12], o[13], o[14], o[15]).to_string());
            return out;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
    if best.is_some_and(|(base, len)| base + len == 8) {
        out.push(':');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        ntop6(&s.parse().unwrap())
    }

    #[test]
    fn ipv6_spellings_follow_glibc() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(v6("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
        assert_eq!(v6("::192.0.2.1"), "::192.0.2.1");
        assert_eq!(v6("2001:DB8::ABCD"), "2001:db8::abcd");
    }

    #[test]
    fn ports_follow_the_address() {
        assert_eq!(addr_port(&"192.0.2.1:80".parse().unwrap()), "192.0.2.1:80");
        assert_eq!(addr_port(&"[2001:db8::1]:443".parse().unwrap()), "[2001:db8::1]:443");
    }
}
