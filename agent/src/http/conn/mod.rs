//! Connection handling for a TCP server of the agent, whatever it speaks: the
//! rules that keep careless and hostile clients from taking it over. The
//! static HTTP server uses it; the management API is meant to use the same.
//!
//! - Every connection has one deadline, from accept to close ([`Rules::timeout`]):
//!   each read and write is bounded by what is left of it, so a client sending
//!   (or reading) a byte at a time cannot stretch it.
//! - Slots are bounded in all and per client address ([`Rules::max_per_client`]),
//!   so one address cannot take every slot.
//! - The accept thread never waits on a client: a client without a slot gets the
//!   handler's refusal in one non-blocking write.
//! - After the answer the server does not read on: the write side is shut and the
//!   socket is closed once the client closes too, or after [`Rules::linger`] at
//!   most, by one thread for all sockets (see `closer`), and the slot is free
//!   as soon as the answer is written.
//! - Stopping shuts every socket down and returns without waiting on clients.
//!
//! ```ignore
//! let server = conn::Acceptor::start("http", listener, rules, MyHandler)?;
//! // ... MyHandler::serve(&mut Connection) reads and writes through the Connection ...
//! server.stop();
//! ```

mod acceptor;
mod admission;
mod closer;
mod connection;
mod deadline;

pub use acceptor::Acceptor;
pub use admission::Refusal;
pub use connection::Connection;
pub use deadline::Deadline;

use nix::sys::signal::{SigSet, Signal};
use std::time::Duration;

/// What the clients of one server may take.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Connections served at once; more are refused.
    pub max_connections: usize,
    /// Connections served at once for one client (an IPv4 address, an IPv6 /64).
    pub max_per_client: usize,
    /// From accept to close, whatever the client does.
    pub timeout: Duration,
    /// How long, after the answer, to wait for the client to close first.
    pub linger: Duration,
}

/// What a server does with the connections it admits.
pub trait Handler: Send + Sync + 'static {
    /// Serves one connection through `conn`, whose reads and writes fail
    /// (`TimedOut`, `WouldBlock`) once its deadline has passed and at once
    /// after the server stopped. The socket is closed politely afterwards.
    fn serve(&self, conn: &mut Connection);

    /// What a client refused a slot is told: a few hundred bytes at most, so
    /// that one non-blocking write on a fresh socket takes them whole.
    fn refusal(&self, why: Refusal) -> Vec<u8>;
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare the listening socket: {0}")]
    Socket(#[source] std::io::Error),
    #[error("cannot start a server thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// The agent's main thread waits for these with sigwait: they must not be
/// delivered to a server's threads (connection threads inherit the mask of
/// the accept thread that starts them).
fn block_stop_signals() {
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    let _ = set.thread_block();
}
