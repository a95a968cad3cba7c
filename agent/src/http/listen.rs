//! The listening socket: every address of the machine, IPv6 and IPv4 on one
//! socket where the kernel has IPv6, so that a VIP on lo or tunl0 (DR and TUN
//! modes) is served like any other address.

use nix::sys::socket::{
    bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage,
};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;

/// `[::]:port` taking IPv4 too, or `0.0.0.0:port` on a kernel without IPv6.
pub fn all_addresses(port: u16) -> io::Result<TcpListener> {
    match on(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))) {
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EAFNOSUPPORT as i32) => {
            on(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        }
        other => other,
    }
}

pub fn on(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    // A restarted agent must get its port back while old connections sit in TIME_WAIT.
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    if let SocketAddr::V6(v6) = addr {
        if v6.ip().is_unspecified() {
            // Explicitly, whatever net.ipv6.bindv6only says.
            setsockopt(&fd, sockopt::Ipv6V6Only, &false)?;
        }
    }
    bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
    listen(&fd, Backlog::new(128)?)?;
    Ok(TcpListener::from(fd))
}
