//! Every request of the IPVS family, as a value: built from a [`Change`] or by the
//! client's own methods, encoded to bytes, and (for tests and the fake kernel)
//! decoded back.

use super::attrs::*;
use super::wire::{self, Attr, Attrs, RequestFrame};
use super::{config, daemon, dest, service};
use crate::{Change, Dest, IpvsError, Service, ServiceKey, SyncDaemon, SyncState, Timeouts};
use neli::consts::nl::NlmF;
use std::net::SocketAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    NewService(Service),
    SetService(Service),
    DelService(ServiceKey),
    GetService(ServiceKey),
    DumpServices,
    NewDest(ServiceKey, Dest),
    SetDest(ServiceKey, Dest),
    DelDest(ServiceKey, SocketAddr),
    DumpDests(ServiceKey),
    NewDaemon(SyncDaemon),
    DelDaemon(SyncState),
    DumpDaemons,
    SetConfig(Timeouts),
    GetConfig,
    GetInfo,
    /// Zero the counters of one service (its destinations too), or of everything.
    Zero(Option<ServiceKey>),
    /// Delete every service.
    Flush,
}

impl From<&Change> for Request {
    fn from(c: &Change) -> Request {
        match c {
            Change::SetTimeouts(t) => Request::SetConfig(*t),
            Change::AddService(s) => Request::NewService(s.clone()),
            Change::EditService(s) => Request::SetService(s.clone()),
            Change::DelService(k) => Request::DelService(*k),
            Change::AddDest(k, d) => Request::NewDest(*k, *d),
            Change::EditDest(k, d) => Request::SetDest(*k, *d),
            Change::DelDest(k, a) => Request::DelDest(*k, *a),
            Change::StartDaemon(d) => Request::NewDaemon(d.clone()),
            Change::StopDaemon(s) => Request::DelDaemon(*s),
        }
    }
}

impl Request {
    pub fn cmd(&self) -> u8 {
        match self {
            Request::NewService(_) => IPVS_CMD_NEW_SERVICE,
            Request::SetService(_) => IPVS_CMD_SET_SERVICE,
            Request::DelService(_) => IPVS_CMD_DEL_SERVICE,
            Request::GetService(_) | Request::DumpServices => IPVS_CMD_GET_SERVICE,
            Request::NewDest(..) => IPVS_CMD_NEW_DEST,
            Request::SetDest(..) => IPVS_CMD_SET_DEST,
            Request::DelDest(..) => IPVS_CMD_DEL_DEST,
            Request::DumpDests(_) => IPVS_CMD_GET_DEST,
            Request::NewDaemon(_) => IPVS_CMD_NEW_DAEMON,
            Request::DelDaemon(_) => IPVS_CMD_DEL_DAEMON,
            Request::DumpDaemons => IPVS_CMD_GET_DAEMON,
            Request::SetConfig(_) => IPVS_CMD_SET_CONFIG,
            Request::GetConfig => IPVS_CMD_GET_CONFIG,
            Request::GetInfo => IPVS_CMD_GET_INFO,
            Request::Zero(_) => IPVS_CMD_ZERO,
            Request::Flush => IPVS_CMD_FLUSH,
        }
    }

    /// GET_DEST and GET_DAEMON exist only as dumps in the kernel; GET_SERVICE is
    /// both, told apart by NLM_F_DUMP.
    pub fn is_dump(&self) -> bool {
        matches!(self, Request::DumpServices | Request::DumpDests(_) | Request::DumpDaemons)
    }

    pub fn flags(&self) -> NlmF {
        if self.is_dump() {
            wire::flags_dump()
        } else {
            wire::flags_doit()
        }
    }

    fn attrs(&self) -> Result<Vec<Attr>, IpvsError> {
        Ok(match self {
            Request::NewService(s) | Request::SetService(s) => vec![service::full_nest(s)?],
            Request::DelService(k) | Request::GetService(k) | Request::DumpDests(k) | Request::Zero(Some(k)) => {
                vec![service::key_nest(k)?]
            }
            Request::NewDest(k, d) | Request::SetDest(k, d) => vec![service::key_nest(k)?, dest::full_nest(d)?],
            Request::DelDest(k, a) => vec![service::key_nest(k)?, dest::key_nest(a)?],
            Request::NewDaemon(d) => vec![daemon::full_nest(d)?],
            Request::DelDaemon(s) => vec![daemon::state_nest(*s)?],
            Request::SetConfig(t) => config::timeout_attrs(t)?,
            Request::DumpServices
            | Request::DumpDaemons
            | Request::GetConfig
            | Request::GetInfo
            | Request::Zero(None)
            | Request::Flush => Vec::new(),
        })
    }

    /// Appends this request as one netlink message to `out`.
    pub fn encode(&self, out: &mut Vec<u8>, family: u16, seq: u32) -> Result<(), IpvsError> {
        wire::encode_message(out, family, self.flags(), seq, self.cmd(), self.attrs()?)
    }

    /// Encodes a change without NLM_F_ACK: the kernel then answers only if it
    /// refuses it (netlink_rcv_skb acks on error or when asked).
    pub fn encode_quiet(&self, out: &mut Vec<u8>, family: u16, seq: u32) -> Result<(), IpvsError> {
        let flags = self.flags() & !neli::consts::nl::NlmF::ACK;
        wire::encode_message(out, family, flags, seq, self.cmd(), self.attrs()?)
    }

    /// Reads a request back from its message (the inverse of [`Request::encode`]).
    pub fn decode(frame: &RequestFrame) -> Result<Request, IpvsError> {
        let a = &frame.msg.attrs;
        let dump = frame.flags.contains(NlmF::DUMP);
        let svc_nest = || Attrs::require(a.nested(IPVS_CMD_ATTR_SERVICE, "request")?, IPVS_CMD_ATTR_SERVICE, "request");
        let dest_nest = || Attrs::require(a.nested(IPVS_CMD_ATTR_DEST, "request")?, IPVS_CMD_ATTR_DEST, "request");
        let daemon_nest =
            || Attrs::require(a.nested(IPVS_CMD_ATTR_DAEMON, "request")?, IPVS_CMD_ATTR_DAEMON, "request");
        let key = || service::parse_key(&svc_nest()?);
        Ok(match frame.msg.cmd {
            IPVS_CMD_NEW_SERVICE => Request::NewService(service::parse_service(&svc_nest()?)?),
            IPVS_CMD_SET_SERVICE => Request::SetService(service::parse_service(&svc_nest()?)?),
            IPVS_CMD_DEL_SERVICE => Request::DelService(key()?),
            IPVS_CMD_GET_SERVICE if dump => Request::DumpServices,
            IPVS_CMD_GET_SERVICE => Request::GetService(key()?),
            IPVS_CMD_NEW_DEST | IPVS_CMD_SET_DEST => {
                let k = key()?;
                let d = dest::parse_dest(&dest_nest()?, k.family())?;
                if frame.msg.cmd == IPVS_CMD_NEW_DEST {
                    Request::NewDest(k, d)
                } else {
                    Request::SetDest(k, d)
                }
            }
            IPVS_CMD_DEL_DEST => {
                let k = key()?;
                Request::DelDest(k, dest::parse_addr(&dest_nest()?, k.family())?)
            }
            IPVS_CMD_GET_DEST => Request::DumpDests(key()?),
            IPVS_CMD_NEW_DAEMON => Request::NewDaemon(daemon::parse_daemon(&daemon_nest()?)?),
            IPVS_CMD_DEL_DAEMON => Request::DelDaemon(daemon::parse_state(&daemon_nest()?)?),
            IPVS_CMD_GET_DAEMON => Request::DumpDaemons,
            IPVS_CMD_SET_CONFIG => Request::SetConfig(config::parse_timeouts(a)?),
            IPVS_CMD_GET_CONFIG => Request::GetConfig,
            IPVS_CMD_GET_INFO => Request::GetInfo,
            IPVS_CMD_ZERO if a.has(IPVS_CMD_ATTR_SERVICE) => Request::Zero(Some(key()?)),
            IPVS_CMD_ZERO => Request::Zero(None),
            IPVS_CMD_FLUSH => Request::Flush,
            other => {
                return Err(IpvsError::Decode { what: "request".into(), detail: format!("unknown command {other}") })
            }
        })
    }
}
