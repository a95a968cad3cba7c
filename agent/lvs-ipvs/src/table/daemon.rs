//! Connection synchronisation daemons (`ipvsadm --start-daemon`).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SyncState {
    Master,
    Backup,
}

impl SyncState {
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Master => "master",
            SyncState::Backup => "backup",
        }
    }
}

/// A connection synchronisation daemon (`ipvsadm --start-daemon`).
///
/// The four optional settings (Linux 4.3+) are None when the kernel is to pick:
/// it then starts the daemon with maxlen = MTU minus IP and UDP headers, group
/// 224.0.0.81, port 8848 and TTL 1, and reports those values in a dump.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    pub state: SyncState,
    pub interface: String,
    pub sync_id: u8,
    /// Largest sync message payload (`--sync-maxlen`).
    pub sync_maxlen: Option<u16>,
    /// Multicast group, IPv4 or IPv6 (`--mcast-group`).
    pub mcast_group: Option<IpAddr>,
    /// UDP port of the group (`--mcast-port`).
    pub mcast_port: Option<u16>,
    /// TTL (hop limit) of sync messages (`--mcast-ttl`).
    pub mcast_ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for the multicast settings.
    pub fn new(state: SyncState, interface: impl Into<String>, sync_id: u8) -> SyncDaemon {
        SyncDaemon {
            state,
            interface: interface.into(),
            sync_id,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    /// Whether a daemon the kernel reports runs as this one asks: a setting
    /// left to the kernel matches whatever the kernel chose for it.
    pub fn satisfied_by(&self, have: &SyncDaemon) -> bool {
        fn matches<T: PartialEq>(want: &Option<T>, have: &Option<T>) -> bool {
            want.is_none() || want == have
        }
        self.state == have.state
            && self.interface == have.interface
            && self.sync_id == have.sync_id
            && matches(&self.sync_maxlen, &have.sync_maxlen)
            && matches(&self.mcast_group, &have.mcast_group)
            && matches(&self.mcast_port, &have.mcast_port)
            && matches(&self.mcast_ttl, &have.mcast_ttl)
    }
}
