//! One admitted connection as its handler sees it: a stream whose every read
//! and write is bounded by what is left of the connection's deadline.

use super::admission::Slot;
use super::closer::CloserHandle;
use super::deadline::Deadline;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

pub struct Connection {
    /// Shared with the admission, which shuts it down when the server stops.
    stream: Arc<TcpStream>,
    deadline: Deadline,
    slot: Slot,
}

impl Connection {
    pub(super) fn new(stream: Arc<TcpStream>, deadline: Deadline, slot: Slot) -> Connection {
        Connection { stream, deadline, slot }
    }

    /// Reads by `by` or by the connection's deadline, whichever comes first
    /// (then `TimedOut`): for a part of the exchange with a shorter limit of
    /// its own, like a request head.
    pub fn read_by(&mut self, buf: &mut [u8], by: Deadline) -> io::Result<usize> {
        self.stream.set_read_timeout(by.earliest(self.deadline).io_timeout()?)?;
        (&*self.stream).read(buf)
    }

    /// Who is at the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// Replaces the connection's deadline: for an exchange that is meant to
    /// last longer than the server's others (a log follower), once the
    /// client has shown who it is. It still ends at once when the server stops.
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = deadline;
    }

    /// Whether the client sent something, closed, or reset, within `within`:
    /// so that an exchange that mostly writes notices a client that left
    /// without writing to it.
    pub fn readable_within(&self, within: Duration) -> bool {
        let ms = u16::try_from(within.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        // A failed poll says nothing about the client: let the next read find out.
        matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
    }

    /// Gives the slot back and has `closer` close the socket politely, by
    /// `linger` from now and by the connection's deadline at the latest.
    pub(super) fn close(self, closer: &CloserHandle, linger: Duration) {
        let Connection { stream, deadline, slot } = self;
        // The admission held the other reference; giving the slot back dropped it.
        drop(slot);
        if let Ok(stream) = Arc::try_unwrap(stream) {
            closer.close(stream, deadline.earliest(Deadline::after(linger)));
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_by(buf, self.deadline)
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Set before each write: `write_all` of a big answer to a slow reader
        // is many writes, and all of them together must end by the deadline.
        self.stream.set_write_timeout(self.deadline.io_timeout()?)?;
        (&*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
