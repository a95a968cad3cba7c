//! TCP: the connect check, and the socket chores the HTTP check shares.

use super::words::io_error;
use nix::sys::socket::{setsockopt, sockopt};
use std::net::SocketAddr;
use tokio::net::TcpStream;

pub async fn check(addr: SocketAddr) -> Result<String, String> {
    connect(addr).await.map(|_| "connected".to_string())
}

/// A connection whose close is a reset. A director probing thousands of
/// servers every second would otherwise hold a TIME_WAIT entry per probe for a
/// minute (HAProxy's checks close the same way); the server sees a reset
/// rather than a FIN, which costs it nothing.
pub async fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| io_error(&e))?;
    let reset = nix::libc::linger { l_onoff: 1, l_linger: 0 };
    // A zero linger never blocks the close (unlike the linger tokio warns
    // about), and a probe that cannot set it still works: ignore a failure.
    let _ = setsockopt(&stream, sockopt::Linger, &reset);
    Ok(stream)
}

pub async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        stream.writable().await.map_err(|e| io_error(&e))?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_error(&e)),
        }
    }
    Ok(())
}

/// Reads what has arrived; 0 is the end of the stream.
pub async fn read(stream: &TcpStream, buf: &mut [u8]) -> Result<usize, String> {
    loop {
        stream.readable().await.map_err(|e| io_error(&e))?;
        match stream.try_read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_error(&e)),
        }
    }
}
