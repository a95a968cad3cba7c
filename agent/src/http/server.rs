//! The running HTTP server: the HTTP handler under the connection rules of
//! `conn`, which owns the accept loop and the threads.

use super::conn::{Acceptor, Rules};
use super::exchange::{HttpHandler, Site};
use super::{HttpError, Limits};
use std::net::{SocketAddr, TcpListener};

/// The running server. `stop` it; dropping it stops it too.
pub struct HttpServer {
    acceptor: Acceptor,
}

impl HttpServer {
    pub(super) fn start(listener: TcpListener, site: Site, limits: Limits) -> Result<HttpServer, HttpError> {
        let rules = Rules {
            max_connections: limits.max_connections,
            max_per_client: limits.max_per_client,
            timeout: limits.connection_timeout,
            linger: limits.linger,
        };
        let handler = HttpHandler { site, head_timeout: limits.head_timeout, max_head: limits.max_head };
        Ok(HttpServer { acceptor: Acceptor::start("http", listener, rules, handler)? })
    }

    /// Where it listens (the port, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.acceptor.local_addr()
    }

    /// Stops at once, whatever the clients do: closes the port, shuts down
    /// every connection and returns without waiting for any client.
    pub fn stop(self) {
        self.acceptor.stop();
    }
}
