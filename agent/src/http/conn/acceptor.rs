//! The accept loop, on a thread of its own, with a thread per admitted
//! connection. The accept thread never waits on a client: it admits, or
//! refuses with one non-blocking write and hands the socket to the closer.

use super::admission::{Admission, Refusal};
use super::closer::{Closer, CloserHandle};
use super::connection::Connection;
use super::deadline::Deadline;
use super::{Handler, Rules, StartError};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long `stop` waits for connection threads whose sockets it shut down:
/// they end at once (their next read or write fails), so this is only a bound.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A running server; `stop` it (dropping it stops it too).
pub struct Acceptor {
    name: String,
    addr: SocketAddr,
    /// Closing it wakes the accept loop, which then returns.
    stop_accepting: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    admission: Arc<Admission>,
    closer: Option<Closer>,
}

impl Acceptor {
    /// Serves `listener` with `handler` under `rules`; `name` names the threads and log lines.
    pub fn start<H: Handler>(
        name: &str,
        listener: TcpListener,
        rules: Rules,
        handler: H,
    ) -> Result<Acceptor, StartError> {
        let addr = listener.local_addr().map_err(StartError::Socket)?;
        listener.set_nonblocking(true).map_err(StartError::Socket)?;
        let (woken, stop_accepting) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| StartError::Socket(e.into()))?;
        let closer = Closer::start(format!("{name}-close")).map_err(StartError::Thread)?;
        let admission = Admission::new(rules.max_connections, rules.max_per_client);
        let accepting = Accepting {
            name: name.to_string(),
            rules,
            handler: Arc::new(handler),
            admission: admission.clone(),
            closer: closer.handle(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || accepting.run(&listener, &woken))
            .map_err(StartError::Thread)?;
        Ok(Acceptor {
            name: name.to_string(),
            addr,
            stop_accepting: Some(stop_accepting),
            thread: Some(thread),
            admission,
            closer: Some(closer),
        })
    }

    /// Where it listens (the port, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops at once: closes the listening socket, shuts down every
    /// connection (its thread ends on its next read or write), and closes the
    /// ones being closed politely. Waits for no client.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        drop(self.stop_accepting.take());
        let Some(thread) = self.thread.take() else { return };
        let _ = thread.join();
        // The accept thread is gone: no connection is admitted after this.
        self.admission.shut_all();
        if let Some(closer) = self.closer.take() {
            closer.stop();
        }
        let left = self.admission.wait_all_freed(STOP_GRACE);
        if left > 0 {
            crate::note!(warn, "{}: {left} connection threads still ending after stop", self.name);
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.finish();
    }
}

/// What the accept thread owns.
struct Accepting<H> {
    name: String,
    rules: Rules,
    handler: Arc<H>,
    admission: Arc<Admission>,
    closer: CloserHandle,
}

impl<H: Handler> Accepting<H> {
    fn run(self, listener: &TcpListener, woken: &OwnedFd) {
        super::block_stop_signals();
        loop {
            let mut fds =
                [PollFd::new(listener.as_fd(), PollFlags::POLLIN), PollFd::new(woken.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    crate::note!(error, "{}: poll failed: {e}", self.name);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            if fds[1].any().unwrap_or(true) {
                return;
            }
            loop {
                match listener.accept() {
                    Ok((stream, peer)) => self.dispatch(stream, peer),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // Out of descriptors or memory: wait instead of spinning on the error.
                        crate::note!(warn, "{}: accept failed: {e}", self.name);
                        std::thread::sleep(Duration::from_millis(100));
                        break;
                    }
                }
            }
        }
    }

    fn dispatch(&self, stream: TcpStream, peer: SocketAddr) {
        let stream = Arc::new(stream);
        let slot = match self.admission.admit(&stream, peer.ip()) {
            Ok(slot) => slot,
            Err(why) => return self.refuse(stream, why),
        };
        // Accepted sockets do not inherit O_NONBLOCK on Linux; say so anyway.
        let _ = stream.set_nonblocking(false);
        let conn = Connection::new(stream, Deadline::after(self.rules.timeout), slot);
        let (handler, closer, linger) = (self.handler.clone(), self.closer.clone(), self.rules.linger);
        let spawned = std::thread::Builder::new().name(format!("{}-conn", self.name)).spawn(move || {
            let mut conn = conn;
            handler.serve(&mut conn);
            conn.close(&closer, linger);
        });
        // The closure, and with it the connection and its slot, is dropped when no thread took it.
        if let Err(e) = spawned {
            crate::note!(warn, "{}: no thread for a connection from {peer}: {e}", self.name);
        }
    }

    /// Tells a client without a slot why, in one write that cannot block.
    fn refuse(&self, stream: Arc<TcpStream>, why: Refusal) {
        let Ok(stream) = Arc::try_unwrap(stream) else { return };
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        // A fresh socket's send buffer takes a small answer whole; if not, the client gets less.
        let _ = (&stream).write(&self.handler.refusal(why));
        self.closer.close(stream, Deadline::after(self.rules.linger));
    }
}
