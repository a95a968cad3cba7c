//! The built-in static HTTP server: the default workload of a demo real
//! server. It answers every path with a fixed body (which the lab's client
//! counts to see which real server answered), or serves files below a root.
//!
//! GET and HEAD over HTTP/1.0 and 1.1, one request per connection; 405 for
//! other methods, 400 for garbage, 404 for what is not there, 403 for `..` and
//! symbolic links below the root. std threads only: the agent has no runtime.
//!
//! ```ignore
//! let server = http::serve(spec)?; // after blocking the stop signals
//! crate::note!(info, "http: serving on {}", server.local_addr());
//! // ... sigwait ...
//! server.stop();
//! ```

mod connection;
mod content_type;
mod listen;
mod request;
mod resolve;
mod server;
mod status;

pub use server::HttpServer;

use connection::Site;
use lvs_config::model::{HttpContent, StaticHttp};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("http: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("http: cannot listen: {0}")]
    Listen(#[source] std::io::Error),
    #[error("http: cannot serve {}: {source}", path.display())]
    Root { path: PathBuf, source: std::io::Error },
    #[error("http: cannot start the server thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// What one client may take.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections answered at once; more get a 503.
    pub max_connections: usize,
    /// The whole request head must arrive within this (then a 408).
    pub head_timeout: Duration,
    /// Each write of the answer must progress within this.
    pub write_timeout: Duration,
    /// Bytes of request head (then a 431).
    pub max_head: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            head_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            max_head: 8 * 1024,
        }
    }
}

/// Serves `spec` on every address of the machine (IPv6 and IPv4).
pub fn serve(spec: &StaticHttp) -> Result<HttpServer, HttpError> {
    let listener = listen::all_addresses(spec.port)
        .map_err(|source| HttpError::Bind { addr: SocketAddr::from(([0u16; 8], spec.port)), source })?;
    HttpServer::start(listener, site(&spec.content)?, Limits::default())
}

/// Serves `content` on exactly `addr` (tests: 127.0.0.1:0).
pub fn serve_on(addr: SocketAddr, content: &HttpContent, limits: Limits) -> Result<HttpServer, HttpError> {
    let listener = listen::on(addr).map_err(|source| HttpError::Bind { addr, source })?;
    HttpServer::start(listener, site(content)?, limits)
}

fn site(content: &HttpContent) -> Result<Site, HttpError> {
    Ok(match content {
        HttpContent::Body(body) => Site::Body(body.clone()),
        HttpContent::Root(path) => {
            Site::Root(resolve::Root::open(path).map_err(|source| HttpError::Root { path: path.clone(), source })?)
        }
    })
}
