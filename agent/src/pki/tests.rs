//! The pki folder and the TLS it gives, end to end in memory: rustls server
//! and client connections exchanging bytes through buffers, no socket.

use super::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateRevocationListDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const NAME: &str = "ds1";

fn addresses() -> Vec<IpAddr> {
    vec!["192.0.2.10".parse().unwrap(), "2001:db8::10".parse().unwrap()]
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init(&dir.path().join("pki"), NAME, &addresses()).unwrap();
    dir
}

fn pki_dir(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("pki")
}

/// Moves every byte one side has to write to the other until neither has
/// anything more; the first error either side finds in what it read.
fn handshake(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    name: &str,
) -> Result<ServerConnection, rustls::Error> {
    let mut s = ServerConnection::new(server).unwrap();
    let mut c = ClientConnection::new(client, ServerName::try_from(name.to_string()).unwrap()).unwrap();
    loop {
        let mut moved = false;
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        let mut rest = &buf[..];
        while !rest.is_empty() {
            moved = true;
            s.read_tls(&mut rest).unwrap();
            s.process_new_packets()?;
        }
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let mut rest = &buf[..];
        while !rest.is_empty() {
            moved = true;
            c.read_tls(&mut rest).unwrap();
            c.process_new_packets()?;
        }
        if !moved {
            assert!(!s.is_handshaking() && !c.is_handshaking(), "the handshake stalled");
            return Ok(s);
        }
    }
}

fn connect(dir: &Path, identity: &Path, ca: &Path, name: &str) -> Result<ServerConnection, rustls::Error> {
    handshake(server_config(dir).unwrap(), client_config(identity, ca).unwrap(), name)
}

fn refused_with(result: Result<ServerConnection, rustls::Error>, want: impl Fn(&rustls::Error) -> bool) {
    match result {
        Ok(_) => panic!("the handshake succeeded"),
        Err(e) => assert!(want(&e), "refused, but with {e:?}"),
    }
}

#[test]
fn the_admin_identity_is_accepted_and_named() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let s = connect(&pki, &pki.join("admin.pem"), &pki.join(CA_FILE), NAME).unwrap();
    assert_eq!(s.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    let certs = s.peer_certificates().unwrap();
    assert_eq!(peer_name(&certs[0]), "admin");
}

#[test]
fn the_server_certificate_is_valid_for_the_name_and_every_address_only() {
    let dir = folder();
    let pki = pki_dir(&dir);
    for name in [NAME, "192.0.2.10", "2001:db8::10"] {
        connect(&pki, &pki.join("admin.pem"), &pki.join(CA_FILE), name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in ["ds2", "192.0.2.11"] {
        refused_with(connect(&pki, &pki.join("admin.pem"), &pki.join(CA_FILE), name), |e| {
            matches!(e, rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }))
        });
    }
}

#[test]
fn a_client_from_another_ca_is_refused() {
    let ours = folder();
    let ours = pki_dir(&ours);
    let theirs = tempfile::tempdir().unwrap();
    init(theirs.path(), "ds2", &addresses()).unwrap();
    refused_with(connect(&ours, &theirs.path().join("admin.pem"), &ours.join(CA_FILE), NAME), |e| {
        matches!(e, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
    });
    // Another CA made for the same appliance has the same name as ours: its
    // signatures do not verify with our key.
    let twin = folder();
    refused_with(connect(&ours, &pki_dir(&twin).join("admin.pem"), &ours.join(CA_FILE), NAME), |e| {
        matches!(e, rustls::Error::InvalidCertificate(CertificateError::BadSignature))
    });
}

#[test]
fn an_expired_client_is_refused() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let now = SystemTime::now();
    let past = Validity {
        not_before: now.checked_sub(Duration::from_secs(10 * 86400)).unwrap(),
        not_after: now.checked_sub(Duration::from_secs(86400)).unwrap(),
    };
    let old = issue_client(&pki, "old", past).unwrap();
    refused_with(connect(&pki, &old, &pki.join(CA_FILE), NAME), |e| {
        matches!(
            e,
            rustls::Error::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. })
        )
    });
}

#[test]
fn a_revoked_client_is_refused_and_others_are_not() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let ca = pki.join(CA_FILE);
    let bob = issue_client(&pki, "bob", client_validity()).unwrap();
    let carol = issue_client(&pki, "carol", client_validity()).unwrap();
    connect(&pki, &bob, &ca, NAME).unwrap();

    assert!(matches!(revoke(&pki, "bob").unwrap(), Revoked::Added { .. }));
    let revoked = |e: &rustls::Error| matches!(e, rustls::Error::InvalidCertificate(CertificateError::Revoked));
    refused_with(connect(&pki, &bob, &ca, NAME), revoked);
    connect(&pki, &carol, &ca, NAME).unwrap();
    connect(&pki, &pki.join("admin.pem"), &ca, NAME).unwrap();

    // A second revocation keeps the first; a repeated one changes nothing.
    assert!(matches!(revoke(&pki, "carol").unwrap(), Revoked::Added { .. }));
    refused_with(connect(&pki, &bob, &ca, NAME), revoked);
    refused_with(connect(&pki, &carol, &ca, NAME), revoked);
    let before = std::fs::read(pki.join(CRL_FILE)).unwrap();
    assert!(matches!(revoke(&pki, "bob").unwrap(), Revoked::Already { .. }));
    assert_eq!(std::fs::read(pki.join(CRL_FILE)).unwrap(), before);
    let e = revoke(&pki, "nobody").unwrap_err();
    assert!(matches!(&e, PkiError::NoIdentity { path } if path == &pki.join("nobody.pem")), "{e:?}");
    connect(&pki, &pki.join("admin.pem"), &ca, NAME).unwrap();

    // Each list is numbered above the one before.
    let der = CertificateRevocationListDer::from_pem_slice(&before).unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
    assert_eq!(crl.crl_number().unwrap().to_bytes_be(), [2]);
}

#[test]
fn a_client_without_a_certificate_is_refused() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let mut roots = rustls::RootCertStore::empty();
    let ca = std::fs::read(pki.join(CA_FILE)).unwrap();
    roots.add(CertificateDer::from_pem_slice(&ca).unwrap()).unwrap();
    let client = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    refused_with(handshake(server_config(&pki).unwrap(), Arc::new(client), NAME), |e| {
        matches!(e, rustls::Error::NoCertificatesPresented)
    });
}

#[test]
fn key_files_are_private() {
    let dir = folder();
    let pki = pki_dir(&dir);
    issue_client(&pki, "alice", client_validity()).unwrap();
    for file in ["ca.key", "server.pem", "admin.pem", "alice.pem"] {
        let mode = std::fs::metadata(pki.join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let ca = std::fs::read_to_string(pki.join(CA_FILE)).unwrap();
    assert!(!ca.contains("PRIVATE KEY"), "ca.pem holds a key");
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let before = std::fs::read(pki.join("ca.key")).unwrap();
    let e = init(&pki, NAME, &addresses()).unwrap_err();
    assert!(matches!(&e, PkiError::Exists { path } if path == &pki.join(CA_FILE)), "{e:?}");
    assert!(e.to_string().contains("ca.pem: already exists"), "{e}");
    assert_eq!(std::fs::read(pki.join("ca.key")).unwrap(), before);

    // One file in the way stops it before any other is written.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("admin.pem"), "mine").unwrap();
    let e = init(&other, NAME, &addresses()).unwrap_err();
    assert!(matches!(&e, PkiError::Exists { path } if path == &other.join("admin.pem")), "{e:?}");
    assert!(!other.join(CA_FILE).exists() && !other.join("ca.key").exists());
    assert_eq!(std::fs::read(other.join("admin.pem")).unwrap(), b"mine");

    // As does a client that exists.
    let e = issue_client(&pki, "admin", client_validity()).unwrap_err();
    assert!(matches!(&e, PkiError::Exists { path } if path == &pki.join("admin.pem")), "{e:?}");
}

#[test]
fn names_that_are_no_plain_file_names_are_refused() {
    let dir = folder();
    let pki = pki_dir(&dir);
    let long = "a".repeat(65);
    for name in ["", "../x", "a/b", "x y", "ca", "server", "crl", ".hidden", "é", &long] {
        let e = issue_client(&pki, name, client_validity()).unwrap_err();
        assert!(matches!(e, PkiError::Name { .. }), "{name:?}: {e:?}");
        assert!(matches!(revoke(&pki, name).unwrap_err(), PkiError::Name { .. }), "{name:?}");
    }
    let names: Vec<_> = std::fs::read_dir(&pki).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    issue_client(&pki, &"a".repeat(64), client_validity()).unwrap();
    issue_client(&pki, "alice.ops-1_2", client_validity()).unwrap();
    assert!(matches!(init(&dir.path().join("x"), "no name", &[]), Err(PkiError::Name { .. })));
}

#[test]
fn peer_names_escape_control_characters() {
    let ca = Ca::generate("t", Validity::years(1), Path::new("t")).unwrap();
    let id = ca.client("evil\nname\u{1b}[31m", Validity::years(1), Path::new("t")).unwrap();
    let der = CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).unwrap();
    assert_eq!(peer_name(&der), "evil\\nname\\u{1b}[31m");
    assert_eq!(peer_name(&CertificateDer::from(vec![1, 2, 3])), "unnamed");
}

#[test]
fn errors_name_the_file_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let e = server_config(dir.path()).unwrap_err();
    assert!(matches!(&e, PkiError::Missing { path } if path == &dir.path().join(CA_FILE)), "{e:?}");
    assert!(e.to_string().contains("lvs-agent pki init"), "{e}");

    let kept = folder();
    let pki = pki_dir(&kept);
    let cert_only = std::fs::read_to_string(pki.join(CA_FILE)).unwrap();
    std::fs::write(pki.join(SERVER_FILE), &cert_only).unwrap();
    let e = server_config(&pki).unwrap_err();
    assert!(e.to_string().contains("server.pem: the file holds no private key"), "{e}");

    std::fs::write(pki.join(CA_FILE), "no pem here").unwrap();
    let e = server_config(&pki).unwrap_err();
    assert!(e.to_string().contains("ca.pem: the file holds no certificate"), "{e}");

    let e = client_config(&pki.join("nobody.pem"), &pki.join(CA_FILE)).unwrap_err();
    assert!(matches!(&e, PkiError::Lacks { .. } | PkiError::Missing { .. }), "{e:?}");

    // A key that is not the certificate's.
    let (one, two) = (folder(), folder());
    let (pki, other) = (pki_dir(&one), pki_dir(&two));
    let mut mixed = std::fs::read_to_string(pki.join(SERVER_FILE)).unwrap();
    let key_at = mixed.find("-----BEGIN PRIVATE KEY").unwrap();
    mixed.truncate(key_at);
    let theirs = std::fs::read_to_string(other.join(SERVER_FILE)).unwrap();
    mixed.push_str(&theirs[theirs.find("-----BEGIN PRIVATE KEY").unwrap()..]);
    std::fs::write(pki.join(SERVER_FILE), mixed).unwrap();
    let e = server_config(&pki).unwrap_err();
    assert!(matches!(&e, PkiError::Tls { path, .. } if path.ends_with(SERVER_FILE)), "{e:?}");
}

#[test]
fn a_pki_file_is_read_up_to_its_cap_only() {
    let kept = folder();
    let pki = pki_dir(&kept);
    // A CRL file the size of a disk image (a mix-up) is refused by its size, naming it.
    let huge = vec![b'A'; usize::try_from(crate::pki::PEM_MAX_BYTES).unwrap() + 1];
    std::fs::write(pki.join(CRL_FILE), huge).unwrap();
    let e = server_config(&pki).unwrap_err();
    assert!(matches!(&e, PkiError::Invalid { path, .. } if path.ends_with(CRL_FILE)), "{e:?}");
    assert!(e.to_string().contains("262144 bytes at most"), "{e}");
}
