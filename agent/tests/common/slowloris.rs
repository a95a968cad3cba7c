//! Slow clients (slowloris) against a management server at any address: half
//! dribble a real ClientHello a byte every half second, half send nothing,
//! each reconnecting when the server closes it, spread over three loopback
//! source addresses. Used against the in-process server (host_manage) and
//! the real agent (host_manage_agent); both run in a network namespace of
//! their own, with loopback up.

#![allow(dead_code)]

use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Three addresses: 24 of the 32 slots at most, so that a fourth address is
/// served at once (one address may take 8).
pub const SOURCES: [u8; 3] = [2, 3, 4];
pub const TRICKLE: Duration = Duration::from_millis(500);

/// 127.0.0.n.
pub fn lo(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A TCP connection to `to` from `source`.
pub fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let fd = socket(AddressFamily::Inet, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    bind(fd.as_raw_fd(), &SockaddrStorage::from(SocketAddr::new(source, 0)))?;
    connect(fd.as_raw_fd(), &SockaddrStorage::from(to))?;
    Ok(TcpStream::from(fd))
}

pub struct Slow {
    stream: TcpStream,
    source: IpAddr,
    opened: Instant,
    /// How many bytes of the ClientHello it sent; None: it sends nothing.
    sent: Option<usize>,
    next: Instant,
}

/// Every attacker on one thread, so that the test's own threads do not blur the memory figure.
pub struct Attack {
    pub hello: Vec<u8>,
    pub addr: SocketAddr,
    pub slow: Vec<Slow>,
    pub connections: usize,
    /// The longest an attacker's connection lasted before the server closed it.
    pub longest: Duration,
}

impl Attack {
    /// `attackers` connections to `addr`, the dribblers sending `hello`.
    pub fn start(hello: Vec<u8>, addr: SocketAddr, attackers: usize) -> Attack {
        let mut attack = Attack { hello, addr, slow: Vec::new(), connections: 0, longest: Duration::ZERO };
        for i in 0..attackers {
            let slow = attack.connect(i).unwrap_or_else(|| panic!("attacker {i} could not connect"));
            attack.slow.push(slow);
        }
        attack
    }

    pub fn connect(&mut self, i: usize) -> Option<Slow> {
        let source = lo(SOURCES[i % SOURCES.len()]);
        let stream = connect_from(source, self.addr).ok()?;
        stream.set_nonblocking(true).ok()?;
        self.connections += 1;
        let now = Instant::now();
        Some(Slow { stream, source, opened: now, sent: (i % 2 == 0).then_some(0), next: now })
    }

    /// One round: a byte from each dribbler whose time has come, a new connection for each closed one.
    pub fn round(&mut self) {
        let now = Instant::now();
        for i in 0..self.slow.len() {
            let s = &mut self.slow[i];
            let mut buf = [0u8; 512];
            let closed = match (&s.stream).read(&mut buf) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => e.kind() != ErrorKind::WouldBlock,
            };
            if closed {
                self.longest = self.longest.max(s.opened.elapsed());
                let source = s.source;
                if let Some(fresh) = self.connect(i) {
                    assert_eq!(fresh.source, source);
                    self.slow[i] = fresh;
                }
                continue;
            }
            if let Some(sent) = s.sent.filter(|&n| n < self.hello.len() && now >= s.next) {
                if (&s.stream).write(&self.hello[sent..sent + 1]).is_ok() {
                    s.sent = Some(sent + 1);
                }
                s.next = now.checked_add(TRICKLE).unwrap();
            }
        }
    }
}

/// Sockets of this network namespace on `port` that a process holds open
/// (the kernel's own, in TIME_WAIT, have inode 0): the server's, since the
/// server is the only one with that local port.
pub fn server_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/thread-self/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 9 && f[1].ends_with(&local) && f[9] != "0"
        })
        .count()
}
