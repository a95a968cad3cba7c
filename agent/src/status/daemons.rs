//! `ipvsadm -L --timeout` and `ipvsadm -L --daemon`.

use super::addr::ntop;
use lvs_ipvs::{SyncDaemon, SyncState, Timeouts};
use std::fmt::Write;
use std::net::IpAddr;

/// `Timeout (tcp tcpfin udp): 900 120 300`, with its newline.
pub fn render_timeouts(t: &Timeouts) -> String {
    // ipvsadm prints the three with %d.
    format!("Timeout (tcp tcpfin udp): {} {} {}\n", t.tcp as i32, t.tcp_fin as i32, t.udp as i32)
}

/// A sync daemon as the kernel reports it. Since Linux 4.3 the kernel also
/// reports the message size and the multicast group, port and TTL, and
/// ipvsadm prints each one it receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonStatus {
    pub state: SyncState,
    pub interface: String,
    pub sync_id: u8,
    /// IPVS_DAEMON_ATTR_SYNC_MAXLEN; printed when non-zero.
    pub sync_maxlen: Option<u16>,
    /// IPVS_DAEMON_ATTR_MCAST_GROUP or _GROUP6.
    pub mcast_group: Option<IpAddr>,
    /// IPVS_DAEMON_ATTR_MCAST_PORT; printed when non-zero.
    pub mcast_port: Option<u16>,
    /// IPVS_DAEMON_ATTR_MCAST_TTL; printed when non-zero.
    pub mcast_ttl: Option<u8>,
}

impl From<&SyncDaemon> for DaemonStatus {
    fn from(d: &SyncDaemon) -> Self {
        DaemonStatus {
            state: d.state,
            interface: d.interface.clone(),
            sync_id: d.sync_id,
            sync_maxlen: d.sync_maxlen,
            mcast_group: d.mcast_group,
            mcast_port: d.mcast_port,
            mcast_ttl: d.mcast_ttl,
        }
    }
}

/// One line per daemon, in the order given (the kernel dumps master, then backup):
/// `master sync daemon (mcast=eth0, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)`.
/// No daemon, no output, as ipvsadm.
pub fn render_daemons(daemons: &[DaemonStatus]) -> String {
    let mut out = String::new();
    for d in daemons {
        let _ = write!(out, "{} sync daemon (mcast={}, syncid={}", d.state.name(), d.interface, d.sync_id);
        if let Some(len) = d.sync_maxlen.filter(|v| *v != 0) {
            let _ = write!(out, ", maxlen={len}");
        }
        if let Some(group) = &d.mcast_group {
            let _ = write!(out, ", group={}", ntop(group));
        }
        if let Some(port) = d.mcast_port.filter(|v| *v != 0) {
            let _ = write!(out, ", port={port}");
        }
        if let Some(ttl) = d.mcast_ttl.filter(|v| *v != 0) {
            let _ = write!(out, ", ttl={ttl}");
        }
        out.push_str(")\n");
    }
    out
}
