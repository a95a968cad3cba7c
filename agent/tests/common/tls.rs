//! Test certificates for the management server, made with rcgen directly: a
//! CA, a server certificate for 127.0.0.1, clients signed by it (one of them
//! expired), and a client from another CA; and the rustls settings of both
//! sides (TLS 1.3, ring, a client certificate required).

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::sync::Arc;

/// A certificate and its key.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Identity {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

pub struct Ca {
    pub cert: CertificateDer<'static>,
    params: CertificateParams,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap().der().clone();
        Ca { cert, params, key }
    }

    fn issue(&self, name: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose, expired: bool) -> Identity {
        let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        if expired {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap().der().clone();
        Identity { cert, key: key.serialize_der() }
    }

    /// A server certificate for `ip`.
    pub fn server(&self, ip: &str) -> Identity {
        self.issue("appliance", &[ip], ExtendedKeyUsagePurpose::ServerAuth, false)
    }

    pub fn client(&self, name: &str) -> Identity {
        self.issue(name, &[], ExtendedKeyUsagePurpose::ClientAuth, false)
    }

    /// A client certificate that expired in 2001.
    pub fn expired_client(&self, name: &str) -> Identity {
        self.issue(name, &[], ExtendedKeyUsagePurpose::ClientAuth, true)
    }

    fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        Arc::new(roots)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the appliance would run with: TLS 1.3, `server`, clients of `ca` only.
pub fn server_config(ca: &Ca, server: &Identity) -> Arc<ServerConfig> {
    let verifier = WebPkiClientVerifier::builder_with_provider(ca.roots(), provider()).build().unwrap();
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert.clone()], server.key())
        .unwrap();
    Arc::new(config)
}

/// A client trusting `ca`, showing `identity` (none: no client certificate).
pub fn client_config(ca: &Ca, identity: Option<&Identity>) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(ca.roots());
    let config = match identity {
        Some(id) => builder.with_client_auth_cert(vec![id.cert.clone()], id.key()).unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

pub fn server_name(ip: &str) -> ServerName<'static> {
    ServerName::try_from(ip.to_string()).unwrap()
}

/// The ClientHello a client of `config` opens with, as bytes on the wire.
pub fn client_hello(config: Arc<ClientConfig>, ip: &str) -> Vec<u8> {
    let mut conn = rustls::ClientConnection::new(config, server_name(ip)).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}
