//! From a loaded config to the management server's TLS, with a problem in
//! the pki folder reported at the config's `pki` (or `management`) line and
//! column, at boot and in `lvs-agent check`.
//!
//! STUB (issue 14 foundation): the signature the agent codes against.

use lvs_config::Loaded;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The whole diagnostic: file:line:col, what is wrong, what to do.
    #[error("{0}")]
    Pki(String),
}

/// The TLS settings for the config's management API; None when it has none.
pub fn tls(loaded: &Loaded) -> Result<Option<Arc<rustls::ServerConfig>>, SetupError> {
    match &loaded.model.management {
        None => Ok(None),
        Some(m) => crate::pki::server_config(&m.pki).map(Some).map_err(|e| SetupError::Pki(e.to_string())),
    }
}
