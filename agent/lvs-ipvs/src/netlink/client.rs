//! [`IpvsNetlink`]: the kernel's IPVS table over generic netlink.

use super::batch::{CallError, Conn, Transport, RECV_BUFFER};
use super::request::Request;
use super::wire::GenlMsg;
use super::{config, daemon, dest, family, service};
use crate::{
    ApplyError, Change, Command, DestEntry, Errno, Info, Ipvs, IpvsError, ServiceEntry, ServiceKey, Snapshot,
    SyncDaemon, SyncState, Timeouts,
};
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use std::io;

/// Receive buffer asked for: the kernel caps it at net.core.rmem_max (doubled),
/// and the batch size does not depend on getting it.
const SOCKET_RCVBUF: usize = 4 << 20;

/// The IPVS generic netlink client. One socket; not for concurrent use.
pub struct IpvsNetlink {
    conn: Conn,
}

struct Socket(NlSocket);

impl Transport for Socket {
    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        loop {
            match self.0.send(buf, Msg::empty()) {
                Ok(n) if n == buf.len() => return Ok(()),
                Ok(n) => {
                    return Err(io::Error::other(format!("the kernel took {n} of {} bytes", buf.len())));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // MSG_TRUNC makes netlink return the datagram's real length, so a
            // datagram larger than the buffer is noticed instead of cut short.
            match self.0.recv(&mut *buf, Msg::TRUNC) {
                Ok((n, _)) if n > buf.len() => {
                    return Err(io::Error::other(format!("a {n}-byte message did not fit in {} bytes", buf.len())));
                }
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

fn query_error(what: &str, e: CallError) -> IpvsError {
    match e {
        CallError::Kernel(errno) => IpvsError::Query { what: what.into(), errno },
        CallError::Other(e) => e,
    }
}

fn refused(change: Change, e: CallError) -> IpvsError {
    match e {
        CallError::Kernel(errno) => IpvsError::Refused { change: Box::new(change), errno },
        CallError::Other(e) => e,
    }
}

fn command_error(command: Command, e: CallError) -> IpvsError {
    match e {
        CallError::Kernel(errno) => IpvsError::Command { command, errno },
        CallError::Other(e) => e,
    }
}

fn only_reply(mut msgs: Vec<GenlMsg>, what: &str) -> Result<GenlMsg, IpvsError> {
    msgs.pop().ok_or_else(|| IpvsError::Decode { what: what.into(), detail: "the kernel sent no reply".into() })
}

impl IpvsNetlink {
    /// Resolves the "IPVS" family (fails with Unavailable if ip_vs is not loaded)
    /// and opens the socket.
    pub fn connect() -> Result<IpvsNetlink, IpvsError> {
        let id = family::resolve().map_err(|e| IpvsError::Unavailable(e.to_string()))?;
        IpvsNetlink::connect_to_family(id)
    }

    /// Opens the socket for an already resolved family id.
    pub fn connect_to_family(family_id: u16) -> Result<IpvsNetlink, IpvsError> {
        let socket = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| IpvsError::Unavailable(format!("cannot open a generic netlink socket: {e}")))?;
        // Best effort: a larger buffer only adds headroom (see batch.rs).
        let _ = socket.set_recv_buffer_size(SOCKET_RCVBUF.max(RECV_BUFFER));
        Ok(IpvsNetlink::with_transport(Box::new(Socket(socket)), family_id))
    }

    /// A client over any datagram transport: how the tests put a fake kernel behind it.
    pub fn with_transport(transport: Box<dyn Transport + Send>, family_id: u16) -> IpvsNetlink {
        IpvsNetlink { conn: Conn::new(transport, family_id) }
    }

    pub fn family_id(&self) -> u16 {
        self.conn.family()
    }

    /// IPVS_CMD_GET_INFO: version and connection table size.
    pub fn info(&mut self) -> Result<Info, IpvsError> {
        const WHAT: &str = "the IPVS version";
        let reply = self.conn.call(&Request::GetInfo, WHAT).map_err(|e| query_error(WHAT, e))?;
        config::parse_info(&only_reply(reply, WHAT)?.attrs)
    }

    /// Every service with its counters, without destinations.
    pub fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        const WHAT: &str = "the services";
        let msgs = self.conn.call(&Request::DumpServices, WHAT).map_err(|e| query_error(WHAT, e))?;
        msgs.iter().map(|m| service::parse_entry(&m.attrs)).collect()
    }

    /// One service (without destinations), or None if the kernel has none by that key.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Option<ServiceEntry>, IpvsError> {
        let what = format!("service {key}");
        match self.conn.call(&Request::GetService(*key), &what) {
            Ok(msgs) => Ok(Some(service::parse_entry(&only_reply(msgs, &what)?.attrs)?)),
            Err(CallError::Kernel(Errno::ESRCH)) => Ok(None),
            Err(e) => Err(query_error(&what, e)),
        }
    }

    /// The destinations of one service with their counters. The kernel answers
    /// an unknown service with an empty list, not an error.
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let what = format!("the real servers of service {key}");
        let msgs = self.conn.call(&Request::DumpDests(*key), &what).map_err(|e| query_error(&what, e))?;
        msgs.iter().map(|m| dest::parse_entry(&m.attrs, key.family())).collect()
    }

    /// IPVS_CMD_GET_CONFIG: the kernel's current timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        const WHAT: &str = "the timeouts";
        let reply = self.conn.call(&Request::GetConfig, WHAT).map_err(|e| query_error(WHAT, e))?;
        config::parse_timeouts(&only_reply(reply, WHAT)?.attrs)
    }

    /// IPVS_CMD_SET_CONFIG; a 0 field leaves that timeout as it is.
    pub fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        self.change(&Change::SetTimeouts(t))
    }

    /// The running sync daemons (at most a master and a backup).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        const WHAT: &str = "the sync daemons";
        let msgs = self.conn.call(&Request::DumpDaemons, WHAT).map_err(|e| query_error(WHAT, e))?;
        msgs.iter().map(|m| daemon::parse_entry(&m.attrs)).collect()
    }

    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.change(&Change::StartDaemon(d.clone()))
    }

    pub fn stop_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
        self.change(&Change::StopDaemon(state))
    }

    /// IPVS_CMD_ZERO: the counters of one service and its destinations, or of all.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), IpvsError> {
        self.command(Command::Zero(key.copied()))
    }

    /// IPVS_CMD_FLUSH: deletes every service and destination.
    pub fn flush(&mut self) -> Result<(), IpvsError> {
        self.command(Command::Flush)
    }

    fn command(&mut self, command: Command) -> Result<(), IpvsError> {
        let request = match &command {
            Command::Zero(key) => Request::Zero(*key),
            Command::Flush => Request::Flush,
        };
        let what = command.to_string();
        self.conn.call(&request, &what).map(drop).map_err(|e| command_error(command, e))
    }

    /// One change on its own, waiting for its ack.
    pub fn change(&mut self, change: &Change) -> Result<(), IpvsError> {
        let what = format!("{} {}", change.verb(), change.object());
        self.conn.call(&Request::from(change), &what).map(drop).map_err(|e| refused(change.clone(), e))
    }
}

impl Ipvs for IpvsNetlink {
    /// GET_INFO, the service dump, one dest dump per service, GET_CONFIG and the
    /// daemon dump. Not atomic: the kernel may change between the dumps.
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
        let info = self.info()?;
        let mut services = self.services()?;
        for s in &mut services {
            s.dests = self.dests(&s.service.key)?;
        }
        Ok(Snapshot { info, services, timeouts: self.timeouts()?, daemons: self.daemons()? })
    }

    /// Pipelined: see [`Conn::apply`] for what `ApplyError::applied` means when
    /// the kernel refuses a change.
    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        self.conn.apply(changes)
    }
}
