//! Talking to the kernel: one request and its answer, or many changes pipelined.
//!
//! The kernel handles a datagram of several netlink messages in one pass
//! (netlink_rcv_skb walks every message of the skb, inside our sendmsg call) and
//! queues one ack or error per message, in order. So `apply` writes up to
//! [`MAX_BATCH_MESSAGES`] requests into one buffer, sends it once, and then reads
//! exactly that many acks before sending the next batch.
//!
//! The batch bound keeps every ack of a batch inside the socket's receive buffer:
//! an ack the buffer cannot take is dropped by the kernel (the socket then reports
//! ENOBUFS), and a dropped ack would leave us unable to say what took effect. An
//! ack skb costs about 1 KiB of receive buffer (its truesize, not its 36 bytes),
//! and the default buffer is 208 KiB, so 128 in flight leave room even if raising
//! the buffer fails.

use super::request::Request;
use super::wire::{parse_datagram, GenlMsg, Incoming};
use crate::ipvs::{ApplyError, Change, Errno, IpvsError};
use std::collections::VecDeque;
use std::io;

/// Requests per `send`: see the module documentation for why this bounds the acks in flight.
pub const MAX_BATCH_MESSAGES: usize = 128;
/// Bytes per `send`, well under any socket send buffer (the kernel copies the
/// whole datagram into one skb).
pub const MAX_BATCH_BYTES: usize = 32 * 1024;
/// The kernel sizes dump skbs at most 32 KiB (netlink_dump); twice that is safe.
pub const RECV_BUFFER: usize = 64 * 1024;

/// A datagram socket to the kernel's generic netlink: the real one, or a fake in tests.
pub trait Transport {
    /// Sends one datagram (one or more netlink messages), all of it.
    fn send(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Receives one datagram into `buf`; returns its length. A datagram longer than
    /// `buf` is an error, never silently cut.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
}

/// Why one request failed: the kernel said no, or we could not ask.
#[derive(Debug)]
pub enum CallError {
    Kernel(Errno),
    Other(IpvsError),
}

fn io_error(what: &str, e: io::Error) -> IpvsError {
    let detail = if e.raw_os_error() == Some(105) {
        // ENOBUFS on a netlink socket: the kernel dropped messages for us.
        format!("{e}: the receive buffer overflowed and the kernel dropped answers")
    } else {
        e.to_string()
    };
    IpvsError::Io { what: what.into(), detail }
}

pub struct Conn {
    transport: Box<dyn Transport + Send>,
    family: u16,
    seq: u32,
    pending: VecDeque<Incoming>,
    rbuf: Vec<u8>,
}

impl Conn {
    pub fn new(transport: Box<dyn Transport + Send>, family: u16) -> Conn {
        Conn { transport, family, seq: 0, pending: VecDeque::new(), rbuf: vec![0; RECV_BUFFER] }
    }

    pub fn family(&self) -> u16 {
        self.family
    }

    fn take_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn next_incoming(&mut self, what: &str) -> Result<Incoming, IpvsError> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(m);
            }
            let n = self.transport.recv(&mut self.rbuf).map_err(|e| io_error(what, e))?;
            self.pending.extend(parse_datagram(&self.rbuf[..n])?);
        }
    }

    /// Sends one request and collects its answer: the reply of a GET, the
    /// elements of a dump, or nothing for a change. Answers to other sequence
    /// numbers (left over from an aborted exchange) are skipped.
    pub fn call(&mut self, req: &Request, what: &str) -> Result<Vec<GenlMsg>, CallError> {
        let seq = self.take_seq();
        let mut buf = Vec::with_capacity(256);
        req.encode(&mut buf, self.family, seq).map_err(CallError::Other)?;
        self.transport.send(&buf).map_err(|e| CallError::Other(io_error(what, e)))?;
        let mut out = Vec::new();
        loop {
            match self.next_incoming(what).map_err(CallError::Other)? {
                Incoming::Data { seq: s, msg, .. } if s == seq => out.push(msg),
                Incoming::Ack { seq: s } if s == seq && !req.is_dump() => return Ok(out),
                Incoming::Error { seq: s, errno } if s == seq => return Err(CallError::Kernel(Errno(errno))),
                Incoming::Done { seq: s, errno } if s == seq => {
                    return if errno == 0 { Ok(out) } else { Err(CallError::Kernel(Errno(errno))) };
                }
                _ => {}
            }
        }
    }

    /// Applies `changes` in order, pipelined, and stops after the batch holding
    /// the first change the kernel refuses.
    ///
    /// On failure, [`ApplyError::applied`] is the number of changes before the
    /// refused one, every one of which the kernel acknowledged. Changes after it
    /// *in the same batch* had already been sent and the kernel processed them
    /// too (netlink cannot abort the rest of a datagram): some may have taken
    /// effect, others failed as a consequence (e.g. ESRCH for the real servers
    /// of a service that could not be added). No later batch is sent. A caller
    /// that needs to know the kernel's state after a failure must dump it again.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        let total = changes.len();
        let mut start = 0;
        let mut buf = Vec::with_capacity(MAX_BATCH_BYTES + 1024);
        while start < total {
            buf.clear();
            let base = self.seq.wrapping_add(1);
            let mut end = start;
            while end < total && end - start < MAX_BATCH_MESSAGES {
                let before = buf.len();
                let seq = base.wrapping_add((end - start) as u32);
                Request::from(&changes[end])
                    .encode(&mut buf, self.family, seq)
                    .map_err(|error| ApplyError { applied: start, total, error })?;
                if buf.len() > MAX_BATCH_BYTES && end > start {
                    buf.truncate(before);
                    break;
                }
                end += 1;
            }
            self.seq = base.wrapping_add((end - start - 1) as u32);
            let what = "sending changes";
            self.transport
                .send(&buf)
                .map_err(|e| ApplyError { applied: start, total, error: io_error(what, e) })?;

            // errnos[i] is Some(0) once change start+i is acknowledged.
            let mut errnos: Vec<Option<i32>> = vec![None; end - start];
            let mut outstanding = end - start;
            while outstanding > 0 {
                let incoming = match self.next_incoming("reading acks") {
                    Ok(m) => m,
                    Err(error) => {
                        let acked = errnos.iter().take_while(|e| **e == Some(0)).count();
                        return Err(ApplyError { applied: start + acked, total, error });
                    }
                };
                let (seq, errno) = match incoming {
                    Incoming::Ack { seq } => (seq, 0),
                    Incoming::Error { seq, errno } => (seq, errno),
                    _ => continue,
                };
                let i = seq.wrapping_sub(base) as usize;
                if let Some(slot @ None) = errnos.get_mut(i) {
                    *slot = Some(errno);
                    outstanding -= 1;
                }
            }
            if let Some(i) = errnos.iter().position(|e| *e != Some(0)) {
                let change = &changes[start + i];
                let errno = Errno(errnos[i].unwrap_or(0));
                return Err(ApplyError {
                    applied: start + i,
                    total,
                    error: IpvsError::Refused { change: Box::new(change.clone()), errno },
                });
            }
            start = end;
        }
        Ok(())
    }
}
