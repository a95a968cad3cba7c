//! SET_CONFIG / GET_CONFIG (connection timeouts) and GET_INFO.

use super::attrs::*;
use super::wire::{self, Attr, Attrs};
use crate::{Info, IpvsError, Timeouts};

/// All three timeouts, always: the kernel starts from the current values and
/// ip_vs_set_timeout leaves any that is 0 as it is, which is Timeouts' meaning of 0.
pub fn timeout_attrs(t: &Timeouts) -> Result<Vec<Attr>, IpvsError> {
    Ok(vec![
        wire::u32(IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp)?,
        wire::u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin)?,
        wire::u32(IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp)?,
    ])
}

/// A SET_CONFIG request or GET_CONFIG's reply. A kernel built without TCP or UDP
/// support leaves those out: read as 0.
pub fn parse_timeouts(a: &Attrs) -> Result<Timeouts, IpvsError> {
    const WHAT: &str = "timeouts";
    Ok(Timeouts {
        tcp: a.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, WHAT)?.unwrap_or(0),
        tcp_fin: a.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, WHAT)?.unwrap_or(0),
        udp: a.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, WHAT)?.unwrap_or(0),
    })
}

pub fn parse_info(a: &Attrs) -> Result<Info, IpvsError> {
    const WHAT: &str = "IPVS info";
    Ok(Info {
        version: Attrs::require(a.u32(IPVS_INFO_ATTR_VERSION, WHAT)?, IPVS_INFO_ATTR_VERSION, WHAT)?,
        conn_tab_size: Attrs::require(a.u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, WHAT)?, IPVS_INFO_ATTR_CONN_TAB_SIZE, WHAT)?,
    })
}
