//! The appliance's identities (`lvs-agent pki`): a CA the operator keeps, the
//! appliance's server certificate, operators' client certificates, a list of
//! revoked ones; and the TLS settings the management server and its clients
//! run with.
//!
//! All keys are ECDSA P-256 made by rcgen; all TLS is rustls with ring.

mod files;
mod generate;
mod tls;

#[cfg(test)]
mod tests;

pub use files::{client_validity, init, issue_client, revoke, Revoked, Written};
pub use generate::{Ca, Issued, Validity};
pub use tls::{client_config, server_config};

use rustls::pki_types::CertificateDer;
use std::path::PathBuf;

/// What the appliance needs in its pki folder; nothing else is read there.
pub const CA_FILE: &str = "ca.pem";
pub const SERVER_FILE: &str = "server.pem";
/// The most a pki file (a certificate, a key, a revocation list) is read
/// of: far more than `lvs-agent pki` writes, far less than memory.
pub const PEM_MAX_BYTES: u64 = 256 * 1024;
/// Optional: revoked client certificates.
pub const CRL_FILE: &str = "crl.pem";
/// The CA's private key: stays with the operator, never on the appliance.
pub const CA_KEY_FILE: &str = "ca.key";
/// The client identity `pki init` makes for the operator.
pub const ADMIN: &str = "admin";

/// How to make the files this module reads, for the messages that miss them.
const RUN_INIT: &str = "run `lvs-agent pki init DIR --name NAME --address IP` to make a CA and identities";

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: missing; {RUN_INIT}, and `lvs-image build --pki DIR` to put ca.pem and server.pem on the appliance", path.display())]
    Missing { path: PathBuf },

    #[error("{}: missing; there is no identity of that name in the folder to revoke", path.display())]
    NoIdentity { path: PathBuf },

    #[error("{}: cannot read it; check its permissions", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: already exists; it is left alone (remove it first, or use another folder or name)", path.display())]
    Exists { path: PathBuf },

    #[error("{}: cannot write it", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not PEM text ({source}); {RUN_INIT}", path.display())]
    Pem {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },

    #[error("{}: the file holds no {what}; {RUN_INIT}", path.display())]
    Lacks { path: PathBuf, what: &'static str },

    #[error("{}: {why}", path.display())]
    Invalid { path: PathBuf, why: String },

    #[error("{}: rejected by TLS: {source}", path.display())]
    Tls {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },

    #[error("{}: cannot verify clients with it: {source}", path.display())]
    Verifier {
        path: PathBuf,
        #[source]
        source: rustls::server::VerifierBuilderError,
    },

    #[error("{}: cannot make it: {source}", path.display())]
    Generate {
        path: PathBuf,
        #[source]
        source: rcgen::Error,
    },

    #[error("no random numbers from the system for a serial number; try again")]
    Random,

    #[error("name {name:?}: {why}")]
    Name { name: String, why: &'static str },
}

/// Who a client certificate names (its common name), for the log: control
/// characters escaped, "unnamed" when it has none.
pub fn peer_name(cert: &CertificateDer<'_>) -> String {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert) else {
        return "unnamed".into();
    };
    let cn = parsed.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok());
    match cn {
        Some(cn) if !cn.is_empty() => escape_controls(cn),
        _ => "unnamed".into(),
    }
}

fn escape_controls(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// File names a name would collide with in the pki folder.
const RESERVED: [&str; 3] = ["ca", "server", "crl"];

/// A client's name: it becomes `NAME.pem` in the pki folder and the
/// certificate's common name, so only [A-Za-z0-9._-], 1 to 64 of them.
pub fn check_client_name(name: &str) -> Result<(), PkiError> {
    let refuse = |why| Err(PkiError::Name { name: name.into(), why });
    if name.is_empty() || name.len() > 64 {
        return refuse("must be 1 to 64 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return refuse("only letters, digits, '.', '_' and '-' (it becomes a file name)");
    }
    if name.starts_with('.') {
        return refuse("must not start with '.' (a hidden file, or the folder itself)");
    }
    if RESERVED.contains(&name) {
        return refuse("is the name of one of the pki folder's own files");
    }
    Ok(())
}

/// The appliance's name: a DNS name the server certificate is valid for.
pub fn check_server_name(name: &str) -> Result<(), PkiError> {
    match rustls::pki_types::DnsName::try_from(name) {
        Ok(_) if !name.is_empty() && name.len() <= 253 => Ok(()),
        _ => Err(PkiError::Name { name: name.into(), why: "is not a DNS name (letters, digits, '-' and '.')" }),
    }
}
