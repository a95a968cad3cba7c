//! The built-in static HTTP server: the default workload of a demo real
//! server. It answers every path with a fixed body (which the lab's client
//! counts to see which real server answered), or serves files below a root.
//!
//! GET and HEAD over HTTP/1.0 and 1.1, one request per connection; 405 for
//! other methods, 400 for garbage, 404 for what is not there, 403 for `..` and
//! symbolic links below the root. std threads only: the agent has no runtime.
//!
//! Connections are handled by `conn` (one deadline per connection, a bound
//! per client address, nothing slow on the accept thread, stop at once).
//!
//! ```ignore
//! let server = http::serve(spec)?; // after blocking the stop signals
//! crate::note!(info, "http: serving on {}", server.local_addr());
//! // ... sigwait ...
//! server.stop();
//! ```

pub(crate) mod conn;
mod content_type;
mod exchange;
pub(crate) mod listen;
pub(crate) mod request;
mod resolve;
mod server;
mod status;

pub use server::HttpServer;

/// A request head read as the server reads one, for the fuzz target
/// (tests/fuzz, `http_head`): bytes arriving in `pieces` (the bytes split at
/// those lengths, as reads return them), the head's end searched as each
/// arrives, then the head parsed. None while no end has arrived; the decoded
/// path of a request the server would answer, or the status it refuses with.
pub fn read_head(bytes: &[u8], pieces: &[usize]) -> Option<Result<Vec<u8>, u16>> {
    let (mut have, mut searched) = (0usize, 0usize);
    for piece in pieces.iter().copied().chain([bytes.len()]) {
        have = have.saturating_add(piece.max(1)).min(bytes.len());
        if let Some(end) = request::head_end(&bytes[..have], searched) {
            return Some(request::parse(&bytes[..end]).map(|r| r.path).map_err(|s| s.code()));
        }
        searched = have;
        if have == bytes.len() {
            break;
        }
    }
    None
}

use exchange::Site;
use lvs_config::model::{HttpContent, StaticHttp};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("http: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("http: cannot serve {}: {source}", path.display())]
    Root { path: PathBuf, source: std::io::Error },
    #[error("http: {0}")]
    Start(#[from] conn::StartError),
}

/// What clients may take. Not in the config: the defaults are meant for any
/// demo or test site, and a client that needs more is not one this server is for.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections answered at once; more get a 503. Default 64: a thread
    /// and a descriptor each, far below PID 1's 1024 descriptors.
    pub max_connections: usize,
    /// Connections answered at once for one client address (IPv6: one /64);
    /// more get a 429. Default 16: a quarter of the total, so that it takes
    /// four addresses to fill the server, and above the 6 a browser opens.
    pub max_per_client: usize,
    /// The whole request head must arrive within this (then a 408). Default
    /// 10 s: a slow link, or someone typing into netcat.
    pub head_timeout: Duration,
    /// Everything, from accept to close (head, answer, waiting for the
    /// client to close), whatever the client does. Default 30 s: the head's
    /// 10 s and a demo page over a slow link.
    pub connection_timeout: Duration,
    /// After the answer, how long to wait for the client to close before we
    /// do (a close with input unread would reset the connection and could
    /// lose the answer). Default 1 s: a client that read its answer closes in
    /// a round trip; bytes it sends meanwhile do not extend it.
    pub linger: Duration,
    /// Bytes of request head (then a 431). Default 8 KiB, as most servers.
    pub max_head: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            max_per_client: 16,
            head_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(30),
            linger: Duration::from_secs(1),
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
