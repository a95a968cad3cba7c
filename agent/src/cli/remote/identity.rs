//! `--identity` and `--ca` read into what ureq's TLS takes, checked first so
//! that a wrong file is told as one (ureq would panic on a key that does not
//! match its certificate, and skip a CA certificate it cannot parse).

use super::errors::RemoteError;
use lvs_agent::capped::{self, CappedReadError};
use lvs_agent::pki::PEM_MAX_BYTES;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

/// What `lvs-agent pki` writes, for the messages.
const IDENTITY_IS: &str =
    "--identity is a PEM file with a client certificate and its key, as `lvs-agent pki init` writes admin.pem";
const CA_IS: &str = "--ca is the ca.pem that `lvs-agent pki init` wrote (the CA's certificate, no key)";

/// The TLS settings of every request: trust only the CA in `ca`, show the
/// certificate in `identity`, with ring as the crypto provider.
pub fn tls_config(identity: &Path, ca: &Path) -> Result<TlsConfig, RemoteError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (chain, key, pem) = read_identity(identity)?;
    let roots = read_ca(ca)?;
    check_pair(&provider, &roots, &chain, &key, identity)?;
    let certs: Vec<Certificate<'static>> = roots.iter().map(|c| Certificate::from_der(c).to_owned()).collect();
    let chain: Vec<Certificate<'static>> = chain.iter().map(|c| Certificate::from_der(c).to_owned()).collect();
    // The same key, read by ureq's own reader (it has one key: read_identity saw to it).
    let key = PrivateKey::from_pem(&pem).map_err(|e| RemoteError::Identity {
        path: identity.to_path_buf(),
        problem: format!("its private key: {e}"),
    })?;
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .root_certs(RootCerts::Specific(Arc::new(certs)))
        .client_cert(Some(ClientCert::new_with_certs(&chain, key)))
        .build())
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, String> {
    capped::read(path, PEM_MAX_BYTES, what).map_err(|e| match e {
        CappedReadError::Io { error, .. } => format!("cannot read it: {error}"),
        CappedReadError::TooBig { .. } => {
            format!("it is larger than a PEM file may be ({PEM_MAX_BYTES} bytes at most)")
        }
    })
}

/// Every PEM section of the file, or why it is not PEM.
fn sections(bytes: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, String> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("it is not a PEM file: {e}"))
}

fn is_key(kind: SectionKind) -> bool {
    matches!(kind, SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey)
}

fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, RemoteError> {
    let error = |problem: String| RemoteError::Ca { path: path.to_path_buf(), problem };
    let sections = sections(&read(path, "CA certificate file").map_err(error)?).map_err(error)?;
    if sections.iter().any(|(kind, _)| is_key(*kind)) {
        return Err(error(format!("it holds a private key; {CA_IS}")));
    }
    let certs: Vec<CertificateDer<'static>> = sections
        .into_iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der))
        .collect();
    if certs.is_empty() {
        return Err(error(format!("it holds no certificate; {CA_IS}")));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| error(format!("a certificate in it cannot be used as a CA: {e}")))?;
    }
    Ok(certs)
}

/// The certificate chain, the key, and the file's text.
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Vec<u8>);

fn read_identity(path: &Path) -> Result<Identity, RemoteError> {
    let error = |problem: String| RemoteError::Identity { path: path.to_path_buf(), problem };
    let bytes = read(path, "identity file").map_err(error)?;
    let sections = sections(&bytes).map_err(error)?;
    let chain: Vec<CertificateDer<'static>> = sections
        .iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der.clone()))
        .collect();
    let keys = sections.iter().filter(|(kind, _)| is_key(*kind)).count();
    if chain.is_empty() {
        return Err(error(format!("it holds no certificate; {IDENTITY_IS}")));
    }
    if keys == 0 {
        return Err(error(format!("it holds no private key; {IDENTITY_IS}")));
    }
    if keys > 1 {
        return Err(error(format!("it holds {keys} private keys, and one identity has one; {IDENTITY_IS}")));
    }
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| error(format!("its private key: {e}")))?;
    Ok((chain, key, bytes))
}

/// What rustls says of the pair, before ureq sees it (ureq panics on a bad one).
fn check_pair(
    provider: &Arc<CryptoProvider>,
    roots: &[CertificateDer<'static>],
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    path: &Path,
) -> Result<(), RemoteError> {
    let error = |problem: String| RemoteError::Identity { path: path.to_path_buf(), problem };
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(roots.iter().cloned());
    ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| error(e.to_string()))?
        .with_root_certificates(store)
        .with_client_auth_cert(chain.to_vec(), key.clone_key())
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                error("its private key does not belong to its certificate: a PEM file from `lvs-agent pki` holds the matching pair".to_string())
            }
            e => error(format!("cannot be used as a client identity: {e}")),
        })?;
    if let Ok((_, cert)) = x509_parser::parse_x509_certificate(&chain[0]) {
        let validity = cert.validity();
        let now = x509_parser::time::ASN1Time::now();
        if now > validity.not_after {
            return Err(error(format!(
                "its certificate expired on {}: ask for a new one (`lvs-agent pki client`)",
                validity.not_after
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new() -> Files {
            Files { dir: tempfile::tempdir().unwrap() }
        }
        fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    fn ca() -> (String, Issuer<'static, KeyPair>, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let key_pem = key.serialize_pem();
        (cert.pem(), Issuer::new(params, key), key_pem)
    }

    fn client(issuer: &Issuer<'static, KeyPair>) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["admin".to_string()]).unwrap().signed_by(&key, issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_certificate_with_its_key_and_a_ca_make_a_tls_config() {
        let f = Files::new();
        let (ca_pem, issuer, _) = ca();
        let (cert, key) = client(&issuer);
        let identity = f.write("admin.pem", &format!("{cert}{key}"));
        assert!(tls_config(&identity, &f.write("ca.pem", &ca_pem)).is_ok());
    }

    #[test]
    fn a_missing_or_wrong_file_is_named_and_told_what_it_should_hold() {
        let f = Files::new();
        let (ca_pem, issuer, ca_key) = ca();
        let (cert, key) = client(&issuer);
        let (_, other_key) = client(&issuer);
        let ca = f.write("ca.pem", &ca_pem);
        let good = f.write("admin.pem", &format!("{cert}{key}"));
        let problem = |identity: &Path, ca: &Path| tls_config(identity, ca).unwrap_err().to_string();

        let e = problem(&f.dir.path().join("none.pem"), &ca);
        assert!(e.starts_with("--identity ") && e.contains("none.pem: cannot read it: No such file"), "{e}");
        let e = problem(&good, &f.dir.path().join("none.pem"));
        assert!(e.starts_with("--ca ") && e.contains("cannot read it"), "{e}");
        let e = problem(&f.write("cert-only.pem", &cert), &ca);
        assert!(e.contains("holds no private key") && e.contains("admin.pem"), "{e}");
        let e = problem(&f.write("key-only.pem", &key), &ca);
        assert!(e.contains("holds no certificate"), "{e}");
        let e = problem(&f.write("mismatch.pem", &format!("{cert}{other_key}")), &ca);
        assert!(e.contains("does not belong to its certificate"), "{e}");
        let e = problem(&good, &f.write("ca-with-key.pem", &format!("{ca_pem}{ca_key}")));
        assert!(e.contains("holds a private key") && e.contains("ca.pem"), "{e}");
        let e = problem(&good, &f.write("empty.pem", ""));
        assert!(e.contains("holds no certificate"), "{e}");
        let e = problem(&good, &f.write("garbage.pem", "-----BEGIN CERTIFICATE-----\n!!!\n"));
        assert!(e.starts_with("--ca ") && e.contains("not a PEM file"), "{e}");
    }
}
