//! The management API (docs/API.md): HTTPS with mutual TLS on the addresses
//! the config lists, the CLI as its client. `api` holds the wire types both
//! sides share; `ops` the one trait through which the server reaches the
//! running agent, so that the server is tested with a fake agent and the
//! agent's side without a socket.

pub mod api;
pub mod ops;
mod server;
pub mod setup;

pub use ops::{OpError, Operations, Power};
pub use server::answer_request;

use std::net::SocketAddr;
use std::sync::Arc;

/// The running management server: one listener per address. `stop` it;
/// dropping it stops it too.
pub struct ManageServer {
    acceptors: Vec<crate::http::conn::Acceptor>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("management: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("management: cannot serve {addr}: {source}")]
    Start { addr: SocketAddr, source: std::io::Error },
}

impl ServeError {
    /// The address is not (yet) on this machine: worth trying again later, as
    /// an interface may come up or an address be added after the agent started.
    pub fn address_missing(&self) -> bool {
        matches!(self, ServeError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrNotAvailable)
    }
}

/// Serves the API on every address of `listen` with `tls` until stopped.
/// Nothing listens unless every address could be bound.
pub fn serve(
    listen: &[SocketAddr],
    tls: Arc<rustls::ServerConfig>,
    ops: Arc<dyn Operations>,
) -> Result<ManageServer, ServeError> {
    let followers = server::followers();
    let mut acceptors = Vec::with_capacity(listen.len());
    for &addr in listen {
        let listener = crate::http::listen::on(addr).map_err(|source| ServeError::Bind { addr, source })?;
        let acceptor = server::start(listener, tls.clone(), ops.clone(), followers.clone()).map_err(|e| {
            let source = match e {
                crate::http::conn::StartError::Socket(e) | crate::http::conn::StartError::Thread(e) => e,
            };
            ServeError::Start { addr, source }
        })?;
        acceptors.push(acceptor);
    }
    Ok(ManageServer { acceptors })
}

impl ManageServer {
    /// Where it listens (the ports, when asked for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.acceptors.iter().map(|a| a.local_addr()).collect()
    }

    /// Stops at once: closes the ports and every connection, waits for no client.
    pub fn stop(self) {
        for acceptor in self.acceptors {
            acceptor.stop();
        }
    }
}
