//! The appliance's identities (`lvs-agent pki`): a CA the operator keeps, the
//! appliance's server certificate, operators' client certificates; and the
//! TLS settings the management server runs with.
//!
//! STUB (issue 14 foundation): the signatures other parts code against.

use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the appliance needs in its pki folder; nothing else is read there.
pub const CA_FILE: &str = "ca.pem";
pub const SERVER_FILE: &str = "server.pem";
/// Optional: revoked client certificates.
pub const CRL_FILE: &str = "crl.pem";

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: {why}", path.display())]
    File { path: PathBuf, why: String },
}

/// The management server's TLS: TLS 1.3 only, the server certificate of
/// `dir/server.pem`, and a client certificate signed by `dir/ca.pem` required.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>, PkiError> {
    Err(PkiError::File { path: dir.join(SERVER_FILE), why: "not built yet".into() })
}

/// Who a client certificate names (its common name), for the log.
pub fn peer_name(cert: &CertificateDer<'_>) -> String {
    let _ = cert;
    "unnamed".into()
}
