//! TCP: the connect check, and the connection the HTTP check shares.
//!
//! Every system call here is paid once per probe, ten thousand times a
//! second on a large director, so the connect is made by hand: tokio's
//! `TcpStream::connect` asks SO_ERROR after every connect, where the readiness
//! that woke the probe already tells a connected socket from a failed one.

use super::Failure;
use nix::errno::Errno;
use nix::sys::socket::{self, setsockopt, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::TcpStream;

pub async fn check(addr: SocketAddr) -> Result<String, Failure> {
    connect(addr).await.map(|_| "connected".to_string())
}

/// A probe's connection. Its close is a reset unless the server closed first:
/// a director probing thousands of servers every second would otherwise hold
/// a TIME_WAIT entry per probe for a minute (HAProxy's checks close the same
/// way), and the server sees a reset rather than a FIN, which costs it
/// nothing. When the server's FIN has come, a plain close leaves no TIME_WAIT
/// here either (the server, which closed first, holds it), and saves the
/// setsockopt. Set on drop, so that a probe cut off by its timeout resets too.
pub struct Connection {
    pub stream: TcpStream,
    server_closed: bool,
}

impl Connection {
    /// The server has sent its FIN (a read returned 0, or the readiness said so).
    pub fn server_closed(&mut self) {
        self.server_closed = true;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if !self.server_closed {
            let reset = nix::libc::linger { l_onoff: 1, l_linger: 0 };
            // A zero linger never blocks the close (unlike the linger tokio
            // warns about), and a probe that cannot set it still works.
            let _ = setsockopt(&self.stream, sockopt::Linger, &reset);
        }
    }
}

pub async fn connect(addr: SocketAddr) -> Result<Connection, Failure> {
    let errno = |e: Errno| Failure::Connect(e.into());
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = socket::socket(family, SockType::Stream, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC, None)
        .map_err(errno)?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return Err(errno(e)),
    }
    // From here on, dropping the connection resets it.
    let connection = Connection {
        stream: TcpStream::from_std(std::net::TcpStream::from(fd)).map_err(Failure::Connect)?,
        server_closed: false,
    };
    let ready = connection.stream.ready(Interest::WRITABLE | Interest::ERROR).await.map_err(Failure::Connect)?;
    if ready.is_writable() && !ready.is_write_closed() && !ready.is_error() {
        return Ok(connection);
    }
    // Refused, unreachable or reset: SO_ERROR says which. Without one the
    // socket did connect, as tokio's own connect would conclude.
    match connection.stream.take_error() {
        Ok(None) => Ok(connection),
        Ok(Some(e)) | Err(e) => Err(Failure::Connect(e)),
    }
}

pub async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
