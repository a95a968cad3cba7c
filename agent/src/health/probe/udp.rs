//! UDP: one datagram out, any reply back. The socket is connected so that an
//! ICMP port unreachable comes back as ECONNREFUSED and fails the probe at
//! once instead of at the timeout.

use super::needle::Needle;
use super::words::{io_error, quoted};
use super::Phase;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;

/// A longer reply is cut here (the kernel drops the rest); `expect` is looked
/// for in what is kept.
const REPLY_MAX: usize = 2048;

#[derive(Debug)]
pub struct Prepared {
    payload: Vec<u8>,
    expect: Option<Needle>,
}

impl Prepared {
    pub fn new(payload: &[u8], expect: Option<&[u8]>) -> Prepared {
        Prepared { payload: payload.to_vec(), expect: expect.map(Needle::new) }
    }

    pub async fn check(&self, addr: SocketAddr, phase: &mut Phase) -> Result<String, String> {
        let local: SocketAddr = match addr {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).await.map_err(|e| format!("cannot open a socket: {}", io_error(&e)))?;
        socket.connect(addr).await.map_err(|e| io_error(&e))?;
        *phase = Phase::Sending;
        socket.send(&self.payload).await.map_err(|e| unreachable_or(&e))?;
        *phase = Phase::Reply;
        let mut buf = [0u8; REPLY_MAX];
        let n = socket.recv(&mut buf).await.map_err(|e| unreachable_or(&e))?;
        match &self.expect {
            None => Ok(format!("reply of {n} bytes")),
            Some(needle) if needle.feed(&mut 0, &buf[..n]) => Ok(format!("reply has {}", quoted(needle.bytes()))),
            Some(needle) => Err(format!("reply of {n} bytes lacks {}", quoted(needle.bytes()))),
        }
    }
}

fn unreachable_or(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        "port unreachable".into()
    } else {
        io_error(e)
    }
}
