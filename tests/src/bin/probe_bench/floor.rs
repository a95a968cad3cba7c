//! The kernel floor: what the same probes cost with no engine at all, in the
//! same topology and the same mix, so that the engine's figure minus this one
//! is what the engine itself adds (runtime, timers, readiness, outcomes).
//!
//! Each probe makes the system calls no prober can skip: a non-blocking
//! socket and connect, a wait until connected (one `poll`), SO_LINGER 0 so
//! the close is a reset, then for HTTP the request, a wait and one read of the
//! reply, then the close. Probes go in batches of `BATCH` so that by the time
//! one is waited for its answer has usually come: the thread rarely sleeps,
//! as an engine with thousands of probes in flight rarely does.

use lvs_agent::health::target::{Check, Target};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

const BATCH: usize = 64;

pub struct Floor {
    pub probes: u64,
    /// CPU time of the measuring thread per probe, in µs.
    pub per_probe_us: f64,
}

pub fn measure(targets: &[Target], run_for: Duration) -> Floor {
    let requests: Vec<Option<Vec<u8>>> = targets.iter().map(request).collect();
    let (before, started) = (thread_cpu(), Instant::now());
    let (mut probes, mut next) = (0u64, 0usize);
    while started.elapsed() < run_for {
        let batch: Vec<(usize, OwnedFd)> = (0..BATCH.min(targets.len()))
            .filter_map(|k| {
                let i = (next + k) % targets.len();
                start(targets[i].addr).map(|fd| (i, fd))
            })
            .collect();
        next = (next + BATCH) % targets.len();
        let mut replies = Vec::new();
        for (i, fd) in batch {
            if !wait(&fd, PollFlags::POLLOUT) {
                continue;
            }
            let _ = setsockopt(&fd, sockopt::Linger, &nix::libc::linger { l_onoff: 1, l_linger: 0 });
            match &requests[i] {
                None => probes += 1,
                Some(request) => {
                    let mut stream = TcpStream::from(fd);
                    if stream.write_all(request).is_ok() {
                        replies.push(stream);
                    }
                }
            }
        }
        let mut buf = [0u8; 1024];
        for mut stream in replies {
            if wait(&stream, PollFlags::POLLIN) && stream.read(&mut buf).is_ok() {
                probes += 1;
            }
        }
    }
    Floor { probes, per_probe_us: (thread_cpu() - before) / probes.max(1) as f64 * 1e6 }
}

/// The engine's request for an HTTP target (the Host is the address).
fn request(target: &Target) -> Option<Vec<u8>> {
    let Check::Http { path, .. } = &target.check else { return None };
    let host = match target.addr.port() {
        80 => target.addr.ip().to_string(),
        _ => target.addr.to_string(),
    };
    Some(
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: lvs-agent\r\nConnection: close\r\n\r\n")
            .into_bytes(),
    )
}

fn start(addr: SocketAddr) -> Option<OwnedFd> {
    let SocketAddr::V4(v4) = addr else { return None };
    let fd =
        socket(AddressFamily::Inet, SockType::Stream, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC, None).ok()?;
    match connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(v4)) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Some(fd),
        Err(_) => None,
    }
}

/// Waits up to the probes' timeout for `event`; false on an error or hang-up.
fn wait(fd: &impl AsFd, event: PollFlags) -> bool {
    let mut fds = [PollFd::new(fd.as_fd(), event)];
    matches!(poll(&mut fds, PollTimeout::from(500u16)), Ok(1))
        && fds[0].revents().is_some_and(|r| r.contains(event) && !r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}

fn thread_cpu() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| super::report::secs(u.user_time()) + super::report::secs(u.system_time()))
        .unwrap_or(0.0)
}
