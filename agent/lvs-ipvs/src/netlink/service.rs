//! IPVS_CMD_ATTR_SERVICE: a virtual service's key, settings and counters.

use super::attrs::*;
use super::wire::{self, Attr, Attrs};
use crate::{
    Family, IpvsError, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service, ServiceEntry, ServiceKey,
    Stats,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const WHAT: &str = "service";

pub fn af(family: Family) -> u16 {
    match family {
        Family::Ipv4 => AF_INET,
        Family::Ipv6 => AF_INET6,
    }
}

pub fn family_of_af(af: u16, what: &str) -> Result<Family, IpvsError> {
    match af {
        AF_INET => Ok(Family::Ipv4),
        AF_INET6 => Ok(Family::Ipv6),
        other => Err(IpvsError::Decode { what: what.into(), detail: format!("unknown address family {other}") }),
    }
}

/// union nf_inet_addr: IPv4 in the first four bytes, the rest zero.
pub fn inet_addr(ip: &IpAddr) -> [u8; INET_ADDR_LEN] {
    let mut out = [0u8; INET_ADDR_LEN];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.copy_from_slice(&v6.octets()),
    }
    out
}

pub fn parse_inet_addr(bytes: &[u8], family: Family, what: &str) -> Result<IpAddr, IpvsError> {
    let short = || IpvsError::Decode { what: what.into(), detail: format!("address of {} bytes", bytes.len()) };
    match family {
        Family::Ipv4 => {
            let b: [u8; 4] = bytes.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(short)?;
            Ok(IpAddr::V4(Ipv4Addr::from(b)))
        }
        Family::Ipv6 => {
            let b: [u8; 16] = bytes.get(..16).and_then(|b| b.try_into().ok()).ok_or_else(short)?;
            Ok(IpAddr::V6(Ipv6Addr::from(b)))
        }
    }
}

fn protocol_of(number: u16) -> Result<Protocol, IpvsError> {
    [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
        .into_iter()
        .find(|p| p.number() == number)
        .ok_or_else(|| IpvsError::Decode { what: WHAT.into(), detail: format!("unknown IP protocol {number}") })
}

/// What identifies the service: AF, then FWMARK, or PROTOCOL, ADDR and PORT.
/// This is all DEL_SERVICE, GET_SERVICE, ZERO and the dest commands need.
pub fn key_attrs(key: &ServiceKey) -> Result<Vec<Attr>, IpvsError> {
    let mut out = vec![wire::u16(IPVS_SVC_ATTR_AF, af(key.family()))?];
    match key {
        ServiceKey::Fwmark { mark, .. } => out.push(wire::u32(IPVS_SVC_ATTR_FWMARK, *mark)?),
        ServiceKey::Inet { protocol, addr } => {
            out.push(wire::u16(IPVS_SVC_ATTR_PROTOCOL, protocol.number())?);
            out.push(wire::bytes(IPVS_SVC_ATTR_ADDR, &inet_addr(&addr.ip()))?);
            out.push(wire::be16(IPVS_SVC_ATTR_PORT, addr.port())?);
        }
    }
    Ok(out)
}

pub fn key_nest(key: &ServiceKey) -> Result<Attr, IpvsError> {
    wire::nest(IPVS_CMD_ATTR_SERVICE, key_attrs(key)?)
}

/// The flag word we send: never HASHED, which is the kernel's own.
pub fn flags_of(s: &Service) -> u32 {
    let mut flags = 0;
    if s.persistence.is_some() {
        flags |= IP_VS_SVC_F_PERSISTENT;
    }
    if s.one_packet {
        flags |= IP_VS_SVC_F_ONEPACKET;
    }
    if s.sched_flags.fallback {
        flags |= IP_VS_SVC_F_SCHED1;
    }
    if s.sched_flags.port {
        flags |= IP_VS_SVC_F_SCHED2;
    }
    if s.sched_flags.flag3 {
        flags |= IP_VS_SVC_F_SCHED3;
    }
    flags
}

/// IPVS_SVC_ATTR_NETMASK's four bytes. The kernel reads them with nla_get_be32
/// into a __be32 and never converts: for IPv4 it is used as a network-order mask
/// (so the mask's octets go as they are), for IPv6 ip_vs_add_service and
/// ip_vs_edit_service compare `(__force __u32) netmask` with 1..=128, so the
/// prefix length travels as a host-order u32 (what ipvsadm's NLA_PUT_U32 does).
pub fn netmask_bytes(mask: PersistMask) -> [u8; 4] {
    match mask {
        PersistMask::V4(m) => m.octets(),
        PersistMask::V6(len) => u32::from(len).to_ne_bytes(),
    }
}

fn parse_netmask(bytes: [u8; 4], family: Family) -> Result<PersistMask, IpvsError> {
    match family {
        Family::Ipv4 => Ok(PersistMask::V4(Ipv4Addr::from(bytes))),
        Family::Ipv6 => {
            u8::try_from(u32::from_ne_bytes(bytes)).ok().filter(|len| *len <= 128).map(PersistMask::V6).ok_or_else(
                || IpvsError::Decode {
                    what: WHAT.into(),
                    detail: format!("IPv6 persistence prefix length {}", u32::from_ne_bytes(bytes)),
                },
            )
        }
    }
}

/// The full entry NEW_SERVICE and SET_SERVICE require: ip_vs_genl_parse_service
/// rejects the message (EINVAL) unless SCHED_NAME, FLAGS, TIMEOUT and NETMASK are
/// all present, so a service without persistence still sends timeout 0 and the
/// one-host mask, as ipvsadm does.
pub fn full_nest(s: &Service) -> Result<Attr, IpvsError> {
    let mut attrs = key_attrs(&s.key)?;
    attrs.push(wire::string(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.name())?);
    if let Some(pe) = &s.pe {
        attrs.push(wire::string(IPVS_SVC_ATTR_PE_NAME, pe)?);
    }
    // struct ip_vs_flags { flags, mask }: the kernel keeps the old bits outside
    // `mask`, so an all-ones mask makes the flags we send the whole truth.
    let mut flags = flags_of(s).to_ne_bytes().to_vec();
    flags.extend_from_slice(&u32::MAX.to_ne_bytes());
    attrs.push(wire::bytes(IPVS_SVC_ATTR_FLAGS, &flags)?);
    let (timeout, mask) = match s.persistence {
        Some(p) => (p.timeout, p.netmask),
        None => (0, PersistMask::host(s.key.family())),
    };
    attrs.push(wire::u32(IPVS_SVC_ATTR_TIMEOUT, timeout)?);
    attrs.push(wire::bytes(IPVS_SVC_ATTR_NETMASK, &netmask_bytes(mask))?);
    wire::nest(IPVS_CMD_ATTR_SERVICE, attrs)
}

pub fn parse_key(a: &Attrs) -> Result<ServiceKey, IpvsError> {
    let family = family_of_af(Attrs::require(a.u16(IPVS_SVC_ATTR_AF, WHAT)?, IPVS_SVC_ATTR_AF, WHAT)?, WHAT)?;
    // The kernel puts FWMARK only on fwmark services and the other three only on the rest.
    if let Some(mark) = a.u32(IPVS_SVC_ATTR_FWMARK, WHAT)?.filter(|m| *m != 0) {
        return Ok(ServiceKey::Fwmark { family, mark });
    }
    let protocol = protocol_of(Attrs::require(a.u16(IPVS_SVC_ATTR_PROTOCOL, WHAT)?, IPVS_SVC_ATTR_PROTOCOL, WHAT)?)?;
    let addr = Attrs::require(a.get(IPVS_SVC_ATTR_ADDR), IPVS_SVC_ATTR_ADDR, WHAT)?;
    let ip = parse_inet_addr(addr, family, WHAT)?;
    let port = Attrs::require(a.be16(IPVS_SVC_ATTR_PORT, WHAT)?, IPVS_SVC_ATTR_PORT, WHAT)?;
    Ok(ServiceKey::Inet { protocol, addr: SocketAddr::new(ip, port) })
}

/// Reads a full service (a NEW/SET request, or a kernel reply) without counters.
pub fn parse_service(a: &Attrs) -> Result<Service, IpvsError> {
    let key = parse_key(a)?;
    let name = Attrs::require(a.string(IPVS_SVC_ATTR_SCHED_NAME, WHAT)?, IPVS_SVC_ATTR_SCHED_NAME, WHAT)?;
    let scheduler = name.parse::<Scheduler>().unwrap_or(Scheduler::Other(name));
    let flags_raw = Attrs::require(a.get(IPVS_SVC_ATTR_FLAGS), IPVS_SVC_ATTR_FLAGS, WHAT)?;
    let flags = flags_raw
        .get(..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| IpvsError::Decode { what: WHAT.into(), detail: "flags shorter than 4 bytes".into() })?;
    let timeout = a.u32(IPVS_SVC_ATTR_TIMEOUT, WHAT)?.unwrap_or(0);
    let persistence = if flags & IP_VS_SVC_F_PERSISTENT != 0 {
        let mask = Attrs::require(a.get(IPVS_SVC_ATTR_NETMASK), IPVS_SVC_ATTR_NETMASK, WHAT)?;
        let mask: [u8; 4] = mask
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| IpvsError::Decode { what: WHAT.into(), detail: "netmask shorter than 4 bytes".into() })?;
        Some(Persistence { timeout, netmask: parse_netmask(mask, key.family())? })
    } else {
        None
    };
    let pe = a.string(IPVS_SVC_ATTR_PE_NAME, WHAT)?.filter(|s| !s.is_empty());
    Ok(Service {
        key,
        scheduler,
        sched_flags: SchedFlags {
            fallback: flags & IP_VS_SVC_F_SCHED1 != 0,
            port: flags & IP_VS_SVC_F_SCHED2 != 0,
            flag3: flags & IP_VS_SVC_F_SCHED3 != 0,
        },
        persistence,
        one_packet: flags & IP_VS_SVC_F_ONEPACKET != 0,
        pe,
    })
}

/// Counters from STATS64 when the kernel sends it (3.19+), else from the older
/// STATS, whose packet counts and rates are only 32 bits wide.
pub fn parse_stats(a: &Attrs, stats64: u16, stats32: u16, what: &str) -> Result<Stats, IpvsError> {
    let nest = match a.nested(stats64, what)? {
        Some(n) => n,
        None => match a.nested(stats32, what)? {
            Some(n) => n,
            None => return Ok(Stats::default()),
        },
    };
    Ok(Stats {
        conns: nest.counter(IPVS_STATS_ATTR_CONNS, what)?,
        inpkts: nest.counter(IPVS_STATS_ATTR_INPKTS, what)?,
        outpkts: nest.counter(IPVS_STATS_ATTR_OUTPKTS, what)?,
        inbytes: nest.counter(IPVS_STATS_ATTR_INBYTES, what)?,
        outbytes: nest.counter(IPVS_STATS_ATTR_OUTBYTES, what)?,
        cps: nest.counter(IPVS_STATS_ATTR_CPS, what)?,
        inpps: nest.counter(IPVS_STATS_ATTR_INPPS, what)?,
        outpps: nest.counter(IPVS_STATS_ATTR_OUTPPS, what)?,
        inbps: nest.counter(IPVS_STATS_ATTR_INBPS, what)?,
        outbps: nest.counter(IPVS_STATS_ATTR_OUTBPS, what)?,
    })
}

/// One service of a dump or GET_SERVICE reply (its dests come from GET_DEST).
pub fn parse_entry(top: &Attrs) -> Result<ServiceEntry, IpvsError> {
    let a = Attrs::require(top.nested(IPVS_CMD_ATTR_SERVICE, WHAT)?, IPVS_CMD_ATTR_SERVICE, WHAT)?;
    Ok(ServiceEntry {
        service: parse_service(&a)?,
        stats: parse_stats(&a, IPVS_SVC_ATTR_STATS64, IPVS_SVC_ATTR_STATS, WHAT)?,
        dests: Vec::new(),
    })
}
