//! The management API (docs/API.md): HTTPS with mutual TLS on the addresses
//! the config lists, the CLI as its client. `api` holds the wire types both
//! sides share; `ops` the one trait through which the server reaches the
//! running agent, so that the server is tested with a fake agent and the
//! agent's side without a socket.

pub mod api;
pub mod ops;
pub mod setup;

pub use ops::{OpError, Operations, Power};

use std::net::SocketAddr;
use std::sync::Arc;

/// STUB (issue 14 foundation): the running management server.
pub struct ManageServer {}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("management: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Serves the API on every address of `listen` with `tls` until stopped.
pub fn serve(
    listen: &[SocketAddr],
    tls: Arc<rustls::ServerConfig>,
    ops: Arc<dyn Operations>,
) -> Result<ManageServer, ServeError> {
    let _ = (tls, ops);
    Err(ServeError::Bind { addr: listen[0], source: std::io::Error::other("not built yet") })
}

impl ManageServer {
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
    pub fn stop(self) {}
}
