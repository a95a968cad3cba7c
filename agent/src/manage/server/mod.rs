//! The management server: the API of docs/API.md over mutual TLS, on the
//! connection handling of `http::conn` (deadlines, slots per client, a
//! thread per connection, stop at once).
//!
//! - `exchange`: one connection: handshake, head, body, answer, log line.
//! - `tls`: rustls over the connection, with deadlines.
//! - `head`, `query`: what the client asked, parsed.
//! - `routes`: the request to an operation and its answer, without a socket.
//! - `answer`: answers as HTTP.
//! - `follow`: the log stream.

mod answer;
mod exchange;
mod follow;
mod fuzz;
mod head;
mod query;
mod routes;
mod tls;

pub use fuzz::answer_request;

use crate::http::conn::{Acceptor, Rules};
use crate::manage::Operations;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// What the API's clients may take. An operator's CLI opens one connection
/// per command; a log follower holds one.
pub fn rules() -> Rules {
    Rules {
        // A thread, a descriptor and a TLS session (some 100 KiB at most) each.
        max_connections: 32,
        // A quarter: it takes four addresses to fill the server.
        max_per_client: 8,
        // The handshake and head's 10 s, a 1 MiB config over a slow link, the answer.
        timeout: Duration::from_secs(30),
        linger: Duration::from_secs(1),
    }
}

/// Serves the API on `listener`; the followers are shared by every address.
pub fn start(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    ops: Arc<dyn Operations>,
    followers: Arc<follow::Followers>,
) -> Result<Acceptor, crate::http::conn::StartError> {
    let handler = exchange::ManageHandler { tls, ops, followers };
    Acceptor::start("management", listener, rules(), handler)
}

/// One count of log followers for all the addresses of a server.
pub fn followers() -> Arc<follow::Followers> {
    follow::Followers::new(follow::MAX_FOLLOWERS)
}
