//! The pki folder on the operator's machine: `pki init`, `pki client` and
//! `pki revoke` write it; the appliance reads ca.pem, server.pem and crl.pem
//! from its copy (tls.rs). Private keys are written 0600, and nothing that
//! exists is overwritten but crl.pem, which only grows.

use super::generate::{Ca, Validity, CA_YEARS, LEAF_YEARS};
use super::{check_client_name, check_server_name, PkiError, ADMIN, CA_FILE, CA_KEY_FILE, CRL_FILE, SERVER_FILE};
use crate::atomic_file;
use crate::capped::CappedReadError;
use rcgen::{RevokedCertParams, SerialNumber};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a command wrote, in order.
pub type Written = Vec<PathBuf>;

/// A new CA for the appliance NAME, its server certificate (NAME and every
/// address), and the operator's identity `admin.pem`. Refuses before writing
/// anything when one of the four files exists.
pub fn init(dir: &Path, name: &str, addresses: &[IpAddr]) -> Result<Written, PkiError> {
    check_server_name(name)?;
    let [ca_pem, ca_key, server, admin] =
        [CA_FILE, CA_KEY_FILE, SERVER_FILE, &format!("{ADMIN}.pem")].map(|f| dir.join(f));
    for path in [&ca_pem, &ca_key, &server, &admin] {
        if path.symlink_metadata().is_ok() {
            return Err(PkiError::Exists { path: path.clone() });
        }
    }
    let ca = Ca::generate(name, Validity::years(CA_YEARS), &ca_pem)?;
    let leaf = Validity::years(LEAF_YEARS);
    let server_id = ca.server(name, addresses, leaf, &server)?;
    let admin_id = ca.client(ADMIN, leaf, &admin)?;

    DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(written(dir))?;
    create(&ca_key, ca.key_pem().as_bytes(), 0o600)?;
    create(&ca_pem, ca.cert_pem().as_bytes(), 0o644)?;
    create(&server, server_id.identity_pem(&ca).as_bytes(), 0o600)?;
    create(&admin, admin_id.identity_pem(&ca).as_bytes(), 0o600)?;
    Ok(vec![ca_pem, ca_key, server, admin])
}

/// Another client identity, `DIR/NAME.pem`, signed by the folder's CA.
pub fn issue_client(dir: &Path, name: &str, validity: Validity) -> Result<PathBuf, PkiError> {
    check_client_name(name)?;
    let path = client_file(dir, name);
    if path.symlink_metadata().is_ok() {
        return Err(PkiError::Exists { path });
    }
    let ca = load_ca(dir)?;
    let id = ca.client(name, validity, &path)?;
    create(&path, id.identity_pem(&ca).as_bytes(), 0o600)?;
    Ok(path)
}

/// The default validity of a client identity.
pub fn client_validity() -> Validity {
    Validity::years(LEAF_YEARS)
}

/// What `revoke` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    /// The serial was added to the list at this path.
    Added { crl: PathBuf, serial: String },
    /// The list had it already; it is left as it was.
    Already { crl: PathBuf, serial: String },
}

/// Adds the serial of `DIR/NAME.pem` to `DIR/crl.pem` (made when missing),
/// keeping the serials already there; the list is signed by the folder's CA.
pub fn revoke(dir: &Path, name: &str) -> Result<Revoked, PkiError> {
    check_client_name(name)?;
    let ca = load_ca(dir)?;
    let ca_der = first_cert(&dir.join(CA_FILE))?;
    let ca_subject = parse_cert(&dir.join(CA_FILE), &ca_der)?.subject().as_raw().to_vec();

    let client = client_file(dir, name);
    let der = first_cert(&client).map_err(|e| match e {
        PkiError::Missing { path } => PkiError::NoIdentity { path },
        e => e,
    })?;
    let cert = parse_cert(&client, &der)?;
    if cert.issuer().as_raw() != ca_subject.as_slice() {
        let why = format!("was not issued by the CA in {}; nothing to revoke there", dir.display());
        return Err(PkiError::Invalid { path: client, why });
    }
    let serial = cert.serial.to_bytes_be();
    let shown = cert.raw_serial_as_string();

    let crl_path = dir.join(CRL_FILE);
    let mut revoked = Vec::new();
    let mut number = vec![0u8];
    match std::fs::read(&crl_path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(source) => return Err(PkiError::Read { path: crl_path, source }),
        Ok(bytes) => {
            let der = CertificateRevocationListDer::from_pem_slice(&bytes)
                .map_err(pem_error(&crl_path, "revocation list"))?;
            let (_, crl) = x509_parser::parse_x509_crl(&der).map_err(|e| invalid(&crl_path, e))?;
            if crl.issuer().as_raw() != ca_subject.as_slice() {
                let why = format!("is not the revocation list of the CA in {}; remove it", dir.display());
                return Err(PkiError::Invalid { path: crl_path, why });
            }
            if crl.iter_revoked_certificates().any(|r| r.serial().to_bytes_be() == serial) {
                return Ok(Revoked::Already { crl: crl_path, serial: shown });
            }
            number = crl.crl_number().map(|n| n.to_bytes_be()).unwrap_or(number);
            revoked = crl
                .iter_revoked_certificates()
                .map(|r| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial().to_bytes_be()),
                    revocation_time: from_timestamp(r.revocation_date.timestamp()).into(),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect();
        }
    }
    revoked.push(RevokedCertParams {
        serial_number: SerialNumber::from_slice(&serial),
        revocation_time: SystemTime::now().into(),
        reason_code: None,
        invalidity_date: None,
    });
    let text = ca.crl(revoked, SerialNumber::from_slice(&increment(number)), Validity::years(CA_YEARS), &crl_path)?;
    atomic_file::write(&crl_path, text.as_bytes()).map_err(written(&crl_path))?;
    Ok(Revoked::Added { crl: crl_path, serial: shown })
}

fn client_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.pem"))
}

fn from_timestamp(secs: i64) -> SystemTime {
    let epoch = SystemTime::UNIX_EPOCH;
    let offset = Duration::from_secs(secs.unsigned_abs());
    let time = if secs >= 0 { epoch.checked_add(offset) } else { epoch.checked_sub(offset) };
    time.unwrap_or(epoch)
}

/// A big-endian unsigned number plus one.
fn increment(mut number: Vec<u8>) -> Vec<u8> {
    for byte in number.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            return number;
        }
    }
    number.insert(0, 1);
    number
}

/// The folder's CA with its key, to sign with.
fn load_ca(dir: &Path) -> Result<Ca, PkiError> {
    let cert_path = dir.join(CA_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    let cert = text(&cert_path, read(&cert_path)?)?;
    let key = text(&key_path, read(&key_path)?)?;
    // Checked here so that the message names the file that lacks it.
    PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(pem_error(&key_path, "private key"))?;
    first_cert(&cert_path)?;
    Ca::load(&cert, &key, &cert_path)
}

fn text(path: &Path, bytes: Vec<u8>) -> Result<String, PkiError> {
    String::from_utf8(bytes).map_err(|_| PkiError::Invalid { path: path.into(), why: "not PEM text".into() })
}

/// A file's bytes; a missing file says how to make it.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    crate::capped::read(path, super::PEM_MAX_BYTES, "PEM file").map_err(|e| match e {
        CappedReadError::Io { error, .. } if error.kind() == ErrorKind::NotFound => {
            PkiError::Missing { path: path.into() }
        }
        CappedReadError::Io { error, .. } => PkiError::Read { path: path.into(), source: error },
        e @ CappedReadError::TooBig { .. } => PkiError::Invalid { path: path.into(), why: e.to_string() },
    })
}

/// Every certificate in a PEM file, in order; at least one.
pub(super) fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error(path, "certificate"))?;
    if certs.is_empty() {
        return Err(PkiError::Lacks { path: path.into(), what: "certificate" });
    }
    Ok(certs)
}

fn first_cert(path: &Path) -> Result<CertificateDer<'static>, PkiError> {
    Ok(certs(path)?.swap_remove(0))
}

/// The private key in a PEM file.
pub(super) fn key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(pem_error(path, "private key"))
}

/// The revocation lists in a PEM file, when there is one.
pub(super) fn crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, PkiError> {
    match read(path) {
        Err(PkiError::Missing { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
        Ok(bytes) => CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(pem_error(path, "revocation list")),
    }
}

fn parse_cert<'a>(
    path: &Path,
    der: &'a CertificateDer<'_>,
) -> Result<x509_parser::certificate::X509Certificate<'a>, PkiError> {
    x509_parser::parse_x509_certificate(der).map(|(_, cert)| cert).map_err(|e| invalid(path, e))
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> PkiError {
    PkiError::Invalid { path: path.into(), why: format!("cannot be parsed ({e}); {}", super::RUN_INIT) }
}

/// "No items found" is the file lacking `what`; other PEM errors are damage.
fn pem_error<'a>(path: &'a Path, what: &'static str) -> impl Fn(pem::Error) -> PkiError + 'a {
    move |source| match source {
        pem::Error::NoItemsFound => PkiError::Lacks { path: path.into(), what },
        source => PkiError::Pem { path: path.into(), source },
    }
}

fn written(path: &Path) -> impl Fn(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Write { path: path.into(), source }
}

/// Writes a new file with `mode`, refusing to replace one.
fn create(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => PkiError::Exists { path: path.into() },
            _ => PkiError::Write { path: path.into(), source: e },
        })?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(written(path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn increment_carries() {
        assert_eq!(super::increment(vec![0]), [1]);
        assert_eq!(super::increment(vec![0x01, 0xff]), [0x02, 0x00]);
        assert_eq!(super::increment(vec![0xff]), [0x01, 0x00]);
    }
}
