//! IPVS_CMD_ATTR_DAEMON: a connection synchronisation daemon.

use super::attrs::*;
use super::wire::{self, Attr, Attrs};
use crate::ipvs::{IpvsError, SyncDaemon, SyncState};

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
/// multicast settings keep the kernel's defaults when left out.
pub fn full_nest(d: &SyncDaemon) -> Result<Attr, IpvsError> {
    wire::nest(
        IPVS_CMD_ATTR_DAEMON,
        vec![
            wire::u32(IPVS_DAEMON_ATTR_STATE, state_number(d.state))?,
            wire::string(IPVS_DAEMON_ATTR_MCAST_IFN, &d.interface)?,
            wire::u32(IPVS_DAEMON_ATTR_SYNC_ID, u32::from(d.sync_id))?,
        ],
    )
}

/// DEL_DAEMON reads STATE only.
pub fn state_nest(s: SyncState) -> Result<Attr, IpvsError> {
    wire::nest(IPVS_CMD_ATTR_DAEMON, vec![wire::u32(IPVS_DAEMON_ATTR_STATE, state_number(s))?])
}

pub fn parse_state(a: &Attrs) -> Result<SyncState, IpvsError> {
    state_of(Attrs::require(a.u32(IPVS_DAEMON_ATTR_STATE, WHAT)?, IPVS_DAEMON_ATTR_STATE, WHAT)?)
}

/// A NEW_DAEMON request's nest, or one element of a GET_DAEMON dump (which also
/// carries SYNC_MAXLEN, MCAST_PORT, MCAST_TTL and a group: ignored).
pub fn parse_daemon(a: &Attrs) -> Result<SyncDaemon, IpvsError> {
    let sync_id = Attrs::require(a.u32(IPVS_DAEMON_ATTR_SYNC_ID, WHAT)?, IPVS_DAEMON_ATTR_SYNC_ID, WHAT)?;
    Ok(SyncDaemon {
        state: parse_state(a)?,
        interface: Attrs::require(a.string(IPVS_DAEMON_ATTR_MCAST_IFN, WHAT)?, IPVS_DAEMON_ATTR_MCAST_IFN, WHAT)?,
        // The sync protocol carries the id in one byte (struct ip_vs_sync_mesg.syncid),
        // so only the low byte of the kernel's int means anything.
        sync_id: (sync_id & 0xff) as u8,
    })
}

pub fn parse_entry(top: &Attrs) -> Result<SyncDaemon, IpvsError> {
    parse_daemon(&Attrs::require(top.nested(IPVS_CMD_ATTR_DAEMON, WHAT)?, IPVS_CMD_ATTR_DAEMON, WHAT)?)
}
