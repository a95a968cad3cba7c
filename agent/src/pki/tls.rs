//! rustls settings from the pki files: the management server's (TLS 1.3,
//! a client certificate signed by the CA and not revoked, required) and a
//! client's (trusting that CA only, presenting an identity file).

use super::files::{certs, crls, key};
use super::{PkiError, CA_FILE, CRL_FILE, SERVER_FILE};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::Path;
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The CA certificates of `path` as the only roots.
fn roots(path: &Path) -> Result<Arc<RootCertStore>, PkiError> {
    let mut roots = RootCertStore::empty();
    for cert in certs(path)? {
        roots.add(cert).map_err(|source| PkiError::Tls { path: path.into(), source })?;
    }
    Ok(Arc::new(roots))
}

/// The management server's TLS: TLS 1.3 only, the certificate chain and key
/// of `dir/server.pem`, and a client certificate signed by `dir/ca.pem`
/// required; one listed in `dir/crl.pem` (when there is one) is refused.
pub fn server_config(dir: &Path) -> Result<Arc<ServerConfig>, PkiError> {
    let ca_path = dir.join(CA_FILE);
    let server_path = dir.join(SERVER_FILE);
    let crl_path = dir.join(CRL_FILE);
    let roots = roots(&ca_path)?;
    let chain = certs(&server_path)?;
    let key = key(&server_path)?;
    let crls = crls(&crl_path)?;
    // A list to check makes every failure a revocation question, so the
    // file is named when it is the one in question.
    let verifier_path = if crls.is_empty() { &ca_path } else { &crl_path };
    let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
        .with_crls(crls)
        .only_check_end_entity_revocation()
        .build()
        .map_err(|source| PkiError::Verifier { path: verifier_path.clone(), source })?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|source| PkiError::Tls { path: server_path.clone(), source })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|source| PkiError::Tls { path: server_path, source })?;
    Ok(Arc::new(config))
}

/// A client's TLS: TLS 1.3 only, trusting the CA certificates of `ca` only,
/// presenting the certificate chain and key of `identity`.
pub fn client_config(identity: &Path, ca: &Path) -> Result<Arc<ClientConfig>, PkiError> {
    let roots = roots(ca)?;
    let chain = certs(identity)?;
    let key = key(identity)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|source| PkiError::Tls { path: identity.into(), source })?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|source| PkiError::Tls { path: identity.into(), source })?;
    Ok(Arc::new(config))
}
