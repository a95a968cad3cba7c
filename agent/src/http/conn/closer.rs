//! Closing politely, for every connection of a server on one thread.
//!
//! Closing a socket with unread input (a request body, a pipelined request, a
//! request not read at all because the answer was a refusal) sends a reset,
//! and the client may then lose the answer it has not read yet. So a socket
//! whose answer is written is not closed at once: its write side is shut (the
//! client sees the end of the answer) and it is held, what the client still
//! sends read and thrown away, until the client closes too or a short time
//! has passed. Holding is done here, off the serving threads and the accept
//! thread, bounded in time per socket and in number of sockets: a client that
//! keeps sending cannot stretch it, and many cannot make it grow.

use super::deadline::Deadline;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sockets held at once; beyond, a socket is closed at once (a client that
/// sent nothing more loses nothing; one that did may see a reset).
const MAX_HELD: usize = 128;
/// Bytes read from one socket while holding it; then it is closed.
const MAX_DRAINED: usize = 64 * 1024;

/// The closing thread; `stop` it (dropping it stops it too).
pub struct Closer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What serving threads hand sockets to.
#[derive(Clone)]
pub struct CloserHandle(Arc<Shared>);

struct Shared {
    inbox: Mutex<Inbox>,
    /// A byte written here wakes the thread to look at its inbox.
    wake: OwnedFd,
}

#[derive(Default)]
struct Inbox {
    new: Vec<Held>,
    /// How many the thread held when it last looked.
    holding: usize,
    stopped: bool,
}

struct Held {
    stream: TcpStream,
    until: Deadline,
    drained: usize,
}

impl Closer {
    pub fn start(name: String) -> io::Result<Closer> {
        let flags = nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK;
        let (woken, wake) = nix::unistd::pipe2(flags)?;
        let shared = Arc::new(Shared { inbox: Mutex::default(), wake });
        let thread = std::thread::Builder::new().name(name.clone()).spawn({
            let shared = shared.clone();
            move || run(&name, &shared, &woken)
        })?;
        Ok(Closer { shared, thread: Some(thread) })
    }

    pub fn handle(&self) -> CloserHandle {
        CloserHandle(self.shared.clone())
    }

    /// Closes every held socket and ends the thread, at once.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.shared.inbox().stopped = true;
        self.shared.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.finish();
    }
}

impl CloserHandle {
    /// Ends the answer on `stream` and closes it by `until` at the latest.
    pub fn close(&self, stream: TcpStream, until: Deadline) {
        if stream.shutdown(Shutdown::Write).is_err() || stream.set_nonblocking(true).is_err() {
            return;
        }
        if until.has_passed_at(Instant::now()) {
            return;
        }
        let mut inbox = self.0.inbox();
        if inbox.stopped || inbox.holding + inbox.new.len() >= MAX_HELD {
            return;
        }
        inbox.new.push(Held { stream, until, drained: 0 });
        drop(inbox);
        self.0.wake();
    }
}

impl Shared {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        // Full pipe: the thread has wake-ups pending anyway.
        let _ = nix::unistd::write(&self.wake, &[1]);
    }
}

fn run(name: &str, shared: &Shared, woken: &OwnedFd) {
    super::block_stop_signals();
    let mut held: Vec<Held> = Vec::new();
    loop {
        let now = Instant::now();
        {
            let mut inbox = shared.inbox();
            if inbox.stopped {
                inbox.new.clear();
                return;
            }
            held.append(&mut inbox.new);
            held.retain(|h| !h.until.has_passed_at(now));
            inbox.holding = held.len();
        }
        let next = held.iter().fold(Deadline::NEVER, |d, h| d.earliest(h.until));
        let mut fds = vec![PollFd::new(woken.as_fd(), PollFlags::POLLIN)];
        fds.extend(held.iter().map(|h| PollFd::new(h.stream.as_fd(), PollFlags::POLLIN)));
        match poll(&mut fds, poll_timeout(next.left_at(now))) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                crate::note!(error, "{name}: poll failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let ready: Vec<bool> = fds[1..].iter().map(|fd| fd.any().unwrap_or(true)).collect();
        drop(fds);
        drain_pipe(woken);
        let mut ready = ready.into_iter();
        held.retain_mut(|h| !ready.next().unwrap_or(false) || h.drain());
    }
}

impl Held {
    /// Reads what the client sent; whether to keep holding the socket.
    fn drain(&mut self) -> bool {
        let mut sink = [0u8; 4096];
        loop {
            match self.stream.read(&mut sink) {
                Ok(0) => return false,
                Ok(n) => {
                    self.drained += n;
                    if self.drained >= MAX_DRAINED {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

fn drain_pipe(woken: &OwnedFd) {
    let mut buf = [0u8; 64];
    while matches!(nix::unistd::read(woken, &mut buf), Ok(n) if n > 0) {}
}

/// `left` as a poll timeout, rounded up so that the deadline has passed when
/// poll returns (not a millisecond early, which would spin).
fn poll_timeout(left: Option<Duration>) -> PollTimeout {
    match left {
        None => PollTimeout::NONE,
        Some(left) => {
            let ms = left.as_micros().div_ceil(1000);
            i32::try_from(ms).map_or(PollTimeout::MAX, |ms| PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeouts_round_up_and_saturate() {
        assert_eq!(poll_timeout(None), PollTimeout::NONE);
        assert_eq!(poll_timeout(Some(Duration::ZERO)), PollTimeout::ZERO);
        assert_eq!(poll_timeout(Some(Duration::from_micros(1))), PollTimeout::from(1u16));
        assert_eq!(poll_timeout(Some(Duration::from_millis(1500))), PollTimeout::from(1500u16));
        assert_eq!(poll_timeout(Some(Duration::from_secs(u64::MAX))), PollTimeout::MAX);
    }
}
