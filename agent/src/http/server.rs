//! The accept loop, on a thread of its own, with a thread per connection up to
//! `Limits::max_connections`; stopped through a pipe it polls beside the socket.

use super::connection::{self, Site};
use super::status::Status;
use super::{HttpError, Limits};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The running server. `stop` it; dropping it stops it too.
pub struct HttpServer {
    addr: SocketAddr,
    /// Closing it wakes the accept loop, which then returns.
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub(super) fn start(listener: TcpListener, site: Site, limits: Limits) -> Result<HttpServer, HttpError> {
        let addr = listener.local_addr().map_err(HttpError::Listen)?;
        listener.set_nonblocking(true).map_err(HttpError::Listen)?;
        let (woken, wake) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| HttpError::Listen(e.into()))?;
        let thread = std::thread::Builder::new()
            .name(format!("http-{}", addr.port()))
            .spawn(move || accept_loop(listener, woken, Arc::new(site), Arc::new(limits)))
            .map_err(HttpError::Thread)?;
        Ok(HttpServer { addr, wake: Some(wake), thread: Some(thread) })
    }

    /// Where it listens (the port, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes the socket; answers being written finish on
    /// their own threads, bounded by the write timeout.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.finish();
    }
}

fn accept_loop(listener: TcpListener, woken: OwnedFd, site: Arc<Site>, limits: Arc<Limits>) {
    // The agent's main thread waits for these with sigwait: they must not be
    // delivered here (or to the connection threads, which inherit this mask).
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    let _ = set.thread_block();
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN), PollFd::new(woken.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                crate::note!(error, "http: poll failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if fds[1].any().unwrap_or(true) {
            return;
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => dispatch(stream, &site, &limits, &active),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors or memory: wait instead of spinning on the error.
                    crate::note!(warn, "http: accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
        }
    }
}

fn dispatch(stream: std::net::TcpStream, site: &Arc<Site>, limits: &Arc<Limits>, active: &Arc<AtomicUsize>) {
    // Accepted sockets do not inherit O_NONBLOCK on Linux; say so anyway.
    let _ = stream.set_nonblocking(false);
    if active.fetch_add(1, Ordering::SeqCst) >= limits.max_connections {
        active.fetch_sub(1, Ordering::SeqCst);
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        return connection::finish(stream, Status::Unavailable, false);
    }
    let (site, limits, done) = (site.clone(), limits.clone(), active.clone());
    let spawned = std::thread::Builder::new().name("http-conn".into()).spawn(move || {
        connection::handle(stream, &site, &limits);
        done.fetch_sub(1, Ordering::SeqCst);
    });
    if spawned.is_err() {
        active.fetch_sub(1, Ordering::SeqCst);
    }
}
