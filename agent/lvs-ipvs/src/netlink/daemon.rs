//! IPVS_CMD_ATTR_DAEMON: a connection synchronisation daemon.

use super::attrs::*;
use super::wire::{self, Attr, Attrs};
use crate::{IpvsError, SyncDaemon, SyncState};
use std::net::IpAddr;

const WHAT: &str = "sync daemon";

pub fn state_number(s: SyncState) -> u32 {
    match s {
        SyncState::Master => IP_VS_STATE_MASTER,
        SyncState::Backup => IP_VS_STATE_BACKUP,
    }
}

fn state_of(n: u32) -> Result<SyncState, IpvsError> {
    match n {
        IP_VS_STATE_MASTER => Ok(SyncState::Master),
        IP_VS_STATE_BACKUP => Ok(SyncState::Backup),
        other => Err(IpvsError::Decode { what: WHAT.into(), detail: format!("unknown daemon state {other}") }),
    }
}

/// NEW_DAEMON needs STATE, MCAST_IFN and SYNC_ID (EINVAL otherwise); the newer
/// multicast settings are sent only when set, so the kernel's defaults apply to
/// the others (ip_vs_genl_new_daemon, start_sync_thread).
pub fn full_nest(d: &SyncDaemon) -> Result<Attr, IpvsError> {
    let mut attrs = vec![
        wire::u32(IPVS_DAEMON_ATTR_STATE, state_number(d.state))?,
        wire::string(IPVS_DAEMON_ATTR_MCAST_IFN, &d.interface)?,
        wire::u32(IPVS_DAEMON_ATTR_SYNC_ID, u32::from(d.sync_id))?,
    ];
    if let Some(len) = d.sync_maxlen {
        attrs.push(wire::u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, len)?);
    }
    match d.mcast_group {
        Some(IpAddr::V4(g)) => attrs.push(wire::bytes(IPVS_DAEMON_ATTR_MCAST_GROUP, &g.octets())?),
        Some(IpAddr::V6(g)) => attrs.push(wire::bytes(IPVS_DAEMON_ATTR_MCAST_GROUP6, &g.octets())?),
        None => {}
    }
    if let Some(port) = d.mcast_port {
        attrs.push(wire::u16(IPVS_DAEMON_ATTR_MCAST_PORT, port)?);
    }
    if let Some(ttl) = d.mcast_ttl {
        attrs.push(wire::u8(IPVS_DAEMON_ATTR_MCAST_TTL, ttl)?);
    }
    wire::nest(IPVS_CMD_ATTR_DAEMON, attrs)
}

/// DEL_DAEMON reads STATE only.
pub fn state_nest(s: SyncState) -> Result<Attr, IpvsError> {
    wire::nest(IPVS_CMD_ATTR_DAEMON, vec![wire::u32(IPVS_DAEMON_ATTR_STATE, state_number(s))?])
}

pub fn parse_state(a: &Attrs) -> Result<SyncState, IpvsError> {
    state_of(Attrs::require(a.u32(IPVS_DAEMON_ATTR_STATE, WHAT)?, IPVS_DAEMON_ATTR_STATE, WHAT)?)
}

/// A NEW_DAEMON request's nest, or one element of a GET_DAEMON dump (where the
/// kernel fills in every multicast setting, its defaults included).
pub fn parse_daemon(a: &Attrs) -> Result<SyncDaemon, IpvsError> {
    let sync_id = Attrs::require(a.u32(IPVS_DAEMON_ATTR_SYNC_ID, WHAT)?, IPVS_DAEMON_ATTR_SYNC_ID, WHAT)?;
    // The kernel sends at most one of the two groups (by c->mcast_af); were both
    // there, the IPv4 one is what ip_vs_genl_new_daemon would have used.
    let group = match (
        a.fixed::<4>(IPVS_DAEMON_ATTR_MCAST_GROUP, WHAT)?,
        a.fixed::<16>(IPVS_DAEMON_ATTR_MCAST_GROUP6, WHAT)?,
    ) {
        (Some(v4), _) => Some(IpAddr::from(v4)),
        (None, Some(v6)) => Some(IpAddr::from(v6)),
        (None, None) => None,
    };
    Ok(SyncDaemon {
        state: parse_state(a)?,
        interface: Attrs::require(a.string(IPVS_DAEMON_ATTR_MCAST_IFN, WHAT)?, IPVS_DAEMON_ATTR_MCAST_IFN, WHAT)?,
        // The sync protocol carries the id in one byte (struct ip_vs_sync_mesg.syncid),
        // so only the low byte of the kernel's int means anything.
        sync_id: (sync_id & 0xff) as u8,
        sync_maxlen: a.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, WHAT)?,
        mcast_group: group,
        mcast_port: a.u16(IPVS_DAEMON_ATTR_MCAST_PORT, WHAT)?,
        mcast_ttl: a.u8(IPVS_DAEMON_ATTR_MCAST_TTL, WHAT)?,
    })
}

pub fn parse_entry(top: &Attrs) -> Result<SyncDaemon, IpvsError> {
    parse_daemon(&Attrs::require(top.nested(IPVS_CMD_ATTR_DAEMON, WHAT)?, IPVS_CMD_ATTR_DAEMON, WHAT)?)
}
