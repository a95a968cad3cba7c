//! UDP: one datagram out, any reply back. The socket is connected so that an
//! ICMP port unreachable comes back as ECONNREFUSED and fails the probe at
//! once instead of at the timeout; the connect also picks the local address
//! and port, so there is no bind before it.

use super::buffer::{self, with_buffer};
use super::needle::Needle;
use super::words::quoted;
use super::{Failure, Phase};
use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, SockaddrStorage};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// A longer reply is cut here (the kernel drops the rest); `expect` is looked
/// for in what is kept.
const REPLY_MAX: usize = buffer::SIZE;

#[derive(Debug)]
pub struct Prepared {
    payload: Vec<u8>,
    expect: Option<Needle>,
}

impl Prepared {
    pub fn new(payload: &[u8], expect: Option<&[u8]>) -> Prepared {
        Prepared { payload: payload.to_vec(), expect: expect.map(Needle::new) }
    }

    pub async fn check(&self, addr: SocketAddr, phase: &mut Phase) -> Result<String, Failure> {
        let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
        let fd = socket::socket(family, SockType::Datagram, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC, None)
            .map_err(|e: Errno| Failure::Socket(e.into()))?;
        socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)).map_err(|e| Failure::Connect(e.into()))?;
        let udp = UdpSocket::from_std(std::net::UdpSocket::from(fd)).map_err(Failure::Socket)?;
        *phase = Phase::Sending;
        udp.send(&self.payload).await.map_err(Failure::datagram)?;
        *phase = Phase::Reply;
        loop {
            // ERROR as well as READABLE, as tokio's own recv: a port
            // unreachable sets only EPOLLERR. But `try_io` one at a time:
            // tokio takes a combined interest there for none at all.
            let ready = udp.ready(Interest::READABLE | Interest::ERROR).await.map_err(Failure::datagram)?;
            let interest = if ready.is_error() { Interest::ERROR } else { Interest::READABLE };
            let recv = |buf: &mut [u8]| {
                udp.try_io(interest, || Ok(socket::recv(udp.as_raw_fd(), &mut buf[..REPLY_MAX], MsgFlags::empty())?))
            };
            match with_buffer(|buf| recv(buf).map(|n| self.judge(&buf[..n]))) {
                Ok(verdict) => return verdict,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(Failure::datagram(e)),
            }
        }
    }

    fn judge(&self, reply: &[u8]) -> Result<String, Failure> {
        let n = reply.len();
        match &self.expect {
            None => Ok(format!("reply of {n} bytes")),
            Some(needle) if needle.feed(&mut 0, reply) => Ok(format!("reply has {}", quoted(needle.bytes()))),
            Some(needle) => Err(Failure::ReplyLacks { len: n, needle: needle.bytes().to_vec() }),
        }
    }
}
