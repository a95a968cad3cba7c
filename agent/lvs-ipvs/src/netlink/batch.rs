//! Talking to the kernel: one request and its answer, or many changes pipelined.
//!
//! The kernel handles a datagram of several netlink messages in one pass
//! (netlink_rcv_skb walks every message of the skb, inside our sendmsg call) and
//! answers a message only when it fails or carries NLM_F_ACK, in order. So
//! `apply` writes up to [`MAX_BATCH_MESSAGES`] changes into one buffer, asks for
//! an ack on the last one only, sends it once, and reads until that last answer:
//! any refusal before it has arrived by then. One send and usually one receive
//! per batch, where an ack per change would cost a receive per change.
//!
//! The batch bound keeps the answers of a batch that fails entirely (a service
//! refused, then each of its real servers with ESRCH) inside the socket's receive
//! buffer: an answer the buffer cannot take is dropped by the kernel (the socket
//! then reports ENOBUFS), and a dropped one would leave us unable to say what took
//! effect. An error skb costs about 1 KiB of receive buffer (its truesize), and
//! the default buffer is 208 KiB, so 128 leave room even if raising it fails.

use super::request::Request;
use super::wire::{parse_datagram, GenlMsg, Incoming};
use crate::{ApplyError, Change, Errno, IpvsError};
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
    /// refused one, every one of which the kernel took (it said nothing against them). Changes after it
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
                Request::from(&changes[end]).encode_quiet(&mut buf, self.family, seq).map_err(|error| ApplyError {
                    applied: start,
                    total,
                    error,
                })?;
                if buf.len() > MAX_BATCH_BYTES && end > start {
                    buf.truncate(before);
                    break;
                }
                end += 1;
            }
            self.seq = base.wrapping_add((end - start - 1) as u32);
            // Re-encode the last change of the batch with NLM_F_ACK: its answer ends the batch.
            let last_start = last_message_start(&buf);
            buf.truncate(last_start);
            Request::from(&changes[end - 1]).encode(&mut buf, self.family, self.seq).map_err(|error| ApplyError {
                applied: start,
                total,
                error,
            })?;
            let what = "sending changes";
            self.transport.send(&buf).map_err(|e| ApplyError { applied: start, total, error: io_error(what, e) })?;

            // errnos[i] is the kernel's refusal of change start+i; silence means done.
            let last = end - start - 1;
            let mut errnos: Vec<i32> = vec![0; end - start];
            loop {
                let incoming = match self.next_incoming("reading acks") {
                    Ok(m) => m,
                    Err(error) => {
                        // Answers are in order: nothing refused so far, but how far the kernel got is unknown.
                        let refused = errnos.iter().position(|e| *e != 0).unwrap_or(0);
                        return Err(ApplyError { applied: start + refused, total, error });
                    }
                };
                let (seq, errno) = match incoming {
                    Incoming::Ack { seq } => (seq, 0),
                    Incoming::Error { seq, errno } => (seq, errno),
                    _ => continue,
                };
                let i = seq.wrapping_sub(base) as usize;
                if i > last {
                    continue; // left over from an aborted exchange
                }
                errnos[i] = errno;
                if i == last {
                    break;
                }
            }
            if let Some(i) = errnos.iter().position(|e| *e != 0) {
                let change = &changes[start + i];
                let errno = Errno(errnos[i]);
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

/// Where the last netlink message of a buffer of whole messages begins
/// (each starts with its u32 length, padded to 4 bytes).
fn last_message_start(buf: &[u8]) -> usize {
    let mut at = 0;
    loop {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        let next = at + ((len + 3) & !3);
        if next >= buf.len() {
            return at;
        }
        at = next;
    }
}
