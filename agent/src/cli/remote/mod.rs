//! The CLI as the client of the appliance's management API (docs/API.md):
//! with `--endpoint`, the operational commands ask the appliance instead of
//! acting on this machine, over HTTPS with mutual TLS, and print what the
//! local command prints. `client` makes the requests, `identity` reads the
//! PEM files, `errors` says what went wrong and what to do, `ops` and
//! `status` are the commands.

mod client;
pub mod endpoint;
mod errors;
mod identity;
pub mod ops;
pub mod status;

pub use client::Client;
pub use endpoint::Endpoint;
pub use errors::RemoteError;

use std::path::PathBuf;
use std::time::Duration;

/// Where to send an operational command; with no endpoint it acts locally.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Target {
    /// Ask the appliance at HOST:PORT (its `management: Management(listen: [...])`) instead
    /// of acting on this machine; needs --identity and --ca.
    #[arg(long, env = "LVS_ENDPOINT", value_name = "HOST:PORT", value_parser = endpoint::parse,
          requires_all = ["identity", "ca"])]
    pub endpoint: Option<Endpoint>,
    /// With --endpoint: a PEM file with your client certificate and its key (the admin.pem
    /// that `lvs-agent pki init` wrote, or one from `lvs-agent pki client`).
    #[arg(long, env = "LVS_IDENTITY", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// With --endpoint: the appliance's CA certificate, the ca.pem that `lvs-agent pki init`
    /// wrote; only a server certificate signed by it is trusted.
    #[arg(long, env = "LVS_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// With --endpoint: how long a request may take, e.g. 60s (connecting: 10s of it at most).
    #[arg(long, env = "LVS_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "60s", value_parser = parse_timeout)]
    pub request_timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("a request needs some time, e.g. 60s".to_string()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

impl Target {
    /// The client of the endpoint, or None to act locally. `stream`: for a
    /// request that lasts as long as the appliance sends (logs -f), whose
    /// answer must start within the timeout, and then has none.
    pub fn client(&self, stream: bool) -> Result<Option<Client>, RemoteError> {
        let Some(endpoint) = self.endpoint.clone() else { return Ok(None) };
        // clap makes --endpoint require both; these are for a Target made otherwise.
        let identity = self.identity.clone().ok_or_else(|| RemoteError::Identity {
            path: PathBuf::new(),
            problem: "--endpoint needs --identity FILE (or LVS_IDENTITY)".to_string(),
        })?;
        let ca = self.ca.clone().ok_or_else(|| RemoteError::Ca {
            path: PathBuf::new(),
            problem: "--endpoint needs --ca FILE (or LVS_CA)".to_string(),
        })?;
        Client::new(endpoint, identity, ca, self.request_timeout, stream).map(Some)
    }
}

/// A remote command's exit status, its error printed: 2 for what the
/// appliance refused as wrong, 1 for anything else.
pub fn finish(result: Result<i32, RemoteError>) -> i32 {
    result.unwrap_or_else(|e| {
        eprintln!("lvs-agent: {e}");
        e.exit_status()
    })
}
