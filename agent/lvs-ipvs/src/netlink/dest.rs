//! IPVS_CMD_ATTR_DEST: one real server of a service, with its counters.

use super::attrs::*;
use super::service::{af, family_of_af, inet_addr, parse_inet_addr, parse_stats};
use super::wire::{self, Attr, Attrs};
use crate::{Dest, DestEntry, Family, Forward, IpvsError, TunnelCsum, TunnelKind, TunnelOptions};
use std::net::SocketAddr;

const WHAT: &str = "real server";

fn fwd_method(f: Forward) -> u32 {
    match f {
        Forward::Nat => IP_VS_CONN_F_MASQ,
        Forward::Local => IP_VS_CONN_F_LOCALNODE,
        Forward::Tunnel => IP_VS_CONN_F_TUNNEL,
        Forward::DirectRouting => IP_VS_CONN_F_DROUTE,
    }
}

fn forward_of(method: u32) -> Result<Forward, IpvsError> {
    match method & IP_VS_CONN_F_FWD_MASK {
        IP_VS_CONN_F_MASQ => Ok(Forward::Nat),
        IP_VS_CONN_F_LOCALNODE => Ok(Forward::Local),
        IP_VS_CONN_F_TUNNEL => Ok(Forward::Tunnel),
        IP_VS_CONN_F_DROUTE => Ok(Forward::DirectRouting),
        other => Err(IpvsError::Decode { what: WHAT.into(), detail: format!("unknown forwarding method {other}") }),
    }
}

fn tun_type(k: TunnelKind) -> u8 {
    match k {
        TunnelKind::Ipip => IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
        TunnelKind::Gue => IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        TunnelKind::Gre => IP_VS_CONN_F_TUNNEL_TYPE_GRE,
    }
}

fn tun_flags(c: TunnelCsum) -> u16 {
    match c {
        TunnelCsum::NoChecksum => IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
        TunnelCsum::Checksum => IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
        TunnelCsum::RemoteChecksum => IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
    }
}

/// The kernel stores tunnel settings on every destination but uses them only for
/// tunnel forwarding; we send zeros for the others (and read them back as the
/// default) so that stray settings can neither fail a request (GUE without a port
/// is EINVAL) nor show up as a difference.
fn tunnel_for(d: &Dest) -> TunnelOptions {
    if d.forward == Forward::Tunnel {
        d.tunnel
    } else {
        TunnelOptions::default()
    }
}

/// ADDR, PORT and ADDR_FAMILY: what DEL_DEST needs. ADDR_FAMILY (3.18+) lets a
/// tunnel destination differ in family from its service; older kernels ignore it.
pub fn key_attrs(addr: &SocketAddr) -> Result<Vec<Attr>, IpvsError> {
    Ok(vec![
        wire::bytes(IPVS_DEST_ATTR_ADDR, &inet_addr(&addr.ip()))?,
        wire::be16(IPVS_DEST_ATTR_PORT, addr.port())?,
        wire::u16(IPVS_DEST_ATTR_ADDR_FAMILY, af(Family::of(&addr.ip())))?,
    ])
}

pub fn key_nest(addr: &SocketAddr) -> Result<Attr, IpvsError> {
    wire::nest(IPVS_CMD_ATTR_DEST, key_attrs(addr)?)
}

/// The full entry NEW_DEST and SET_DEST require (FWD_METHOD, WEIGHT, U_THRESH and
/// L_THRESH are mandatory; the TUN_* ones, 5.2+, are read when present).
pub fn full_nest(d: &Dest) -> Result<Attr, IpvsError> {
    let tunnel = tunnel_for(d);
    let mut attrs = key_attrs(&d.addr)?;
    attrs.extend([
        wire::u32(IPVS_DEST_ATTR_FWD_METHOD, fwd_method(d.forward))?,
        wire::u32(IPVS_DEST_ATTR_WEIGHT, d.weight)?,
        wire::u32(IPVS_DEST_ATTR_U_THRESH, d.upper_threshold)?,
        wire::u32(IPVS_DEST_ATTR_L_THRESH, d.lower_threshold)?,
        wire::u8(IPVS_DEST_ATTR_TUN_TYPE, tun_type(tunnel.kind))?,
        wire::be16(IPVS_DEST_ATTR_TUN_PORT, tunnel.port)?,
        wire::u16(IPVS_DEST_ATTR_TUN_FLAGS, tun_flags(tunnel.csum))?,
    ]);
    wire::nest(IPVS_CMD_ATTR_DEST, attrs)
}

/// The destination's address; its family is ADDR_FAMILY's, or the service's when
/// the kernel (or an old request) leaves it out.
pub fn parse_addr(a: &Attrs, service_family: Family) -> Result<SocketAddr, IpvsError> {
    let family = match a.u16(IPVS_DEST_ATTR_ADDR_FAMILY, WHAT)? {
        Some(af) => family_of_af(af, WHAT)?,
        None => service_family,
    };
    let ip = parse_inet_addr(Attrs::require(a.get(IPVS_DEST_ATTR_ADDR), IPVS_DEST_ATTR_ADDR, WHAT)?, family, WHAT)?;
    let port = Attrs::require(a.be16(IPVS_DEST_ATTR_PORT, WHAT)?, IPVS_DEST_ATTR_PORT, WHAT)?;
    Ok(SocketAddr::new(ip, port))
}

pub fn parse_dest(a: &Attrs, service_family: Family) -> Result<Dest, IpvsError> {
    let addr = parse_addr(a, service_family)?;
    let forward =
        forward_of(Attrs::require(a.u32(IPVS_DEST_ATTR_FWD_METHOD, WHAT)?, IPVS_DEST_ATTR_FWD_METHOD, WHAT)?)?;
    let tunnel = if forward == Forward::Tunnel {
        let kind = match a.u8(IPVS_DEST_ATTR_TUN_TYPE, WHAT)?.unwrap_or(IP_VS_CONN_F_TUNNEL_TYPE_IPIP) {
            IP_VS_CONN_F_TUNNEL_TYPE_IPIP => TunnelKind::Ipip,
            IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelKind::Gue,
            IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelKind::Gre,
            other => {
                return Err(IpvsError::Decode { what: WHAT.into(), detail: format!("unknown tunnel type {other}") })
            }
        };
        let flags = a.u16(IPVS_DEST_ATTR_TUN_FLAGS, WHAT)?.unwrap_or(0);
        // The kernel's GUE encapsulation tries remote checksum offload first.
        let csum = if flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0 {
            TunnelCsum::RemoteChecksum
        } else if flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0 {
            TunnelCsum::Checksum
        } else {
            TunnelCsum::NoChecksum
        };
        TunnelOptions { kind, port: a.be16(IPVS_DEST_ATTR_TUN_PORT, WHAT)?.unwrap_or(0), csum }
    } else {
        TunnelOptions::default()
    };
    Ok(Dest {
        addr,
        forward,
        weight: Attrs::require(a.u32(IPVS_DEST_ATTR_WEIGHT, WHAT)?, IPVS_DEST_ATTR_WEIGHT, WHAT)?,
        upper_threshold: a.u32(IPVS_DEST_ATTR_U_THRESH, WHAT)?.unwrap_or(0),
        lower_threshold: a.u32(IPVS_DEST_ATTR_L_THRESH, WHAT)?.unwrap_or(0),
        tunnel,
    })
}

/// One element of a GET_DEST dump.
pub fn parse_entry(top: &Attrs, service_family: Family) -> Result<DestEntry, IpvsError> {
    let a = Attrs::require(top.nested(IPVS_CMD_ATTR_DEST, WHAT)?, IPVS_CMD_ATTR_DEST, WHAT)?;
    Ok(DestEntry {
        dest: parse_dest(&a, service_family)?,
        active_conns: a.u32(IPVS_DEST_ATTR_ACTIVE_CONNS, WHAT)?.unwrap_or(0),
        inactive_conns: a.u32(IPVS_DEST_ATTR_INACT_CONNS, WHAT)?.unwrap_or(0),
        persistent_conns: a.u32(IPVS_DEST_ATTR_PERSIST_CONNS, WHAT)?.unwrap_or(0),
        stats: parse_stats(&a, IPVS_DEST_ATTR_STATS64, IPVS_DEST_ATTR_STATS, WHAT)?,
    })
}
