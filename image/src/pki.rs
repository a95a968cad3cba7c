//! `--pki DIR`: what of an `lvs-agent pki init` folder goes on the config
//! partition, under `pki/`: the CA's certificate, the appliance's certificate
//! and key, and the revocation list when there is one. Never the CA's key nor
//! an operator's identity: those stay with the operator.

use crate::error::{Error, Result};
use std::io::ErrorKind;
use std::path::Path;

/// The folder on the config partition the agent reads (its default `pki`).
pub const PARTITION_DIR: &str = "pki";
/// Taken from DIR; what `lvs-agent pki` names them.
pub const REQUIRED: [&str; 2] = ["ca.pem", "server.pem"];
pub const OPTIONAL: [&str; 1] = ["crl.pem"];

/// A file for the config partition: its path there and its bytes.
pub type PartitionFile = (String, Vec<u8>);

fn pki_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Pki { path: path.to_path_buf(), message: message.into() }
}

/// The files of `dir` for the config partition, in a fixed order.
pub fn files(dir: &Path) -> Result<Vec<PartitionFile>> {
    let mut files = Vec::new();
    for (name, required) in REQUIRED.iter().map(|n| (n, true)).chain(OPTIONAL.iter().map(|n| (n, false))) {
        let path = dir.join(name);
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            Err(e) if e.kind() == ErrorKind::NotFound && !required => continue,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(pki_err(
                    &path,
                    "missing; `lvs-agent pki init DIR --name NAME --address IP` writes ca.pem and server.pem",
                ))
            }
            Err(e) => return Err(Error::io("reading", &path)(e)),
        };
        // ca.pem and crl.pem are public; a key in one of them would be the CA's.
        if *name != "server.pem" && holds_private_key(&data) {
            return Err(pki_err(&path, "holds a private key, which must not go on the appliance; use the ca.pem that `lvs-agent pki init` wrote"));
        }
        files.push((format!("{PARTITION_DIR}/{name}"), data));
    }
    Ok(files)
}

fn holds_private_key(pem: &[u8]) -> bool {
    pem.windows(b"PRIVATE KEY-----".len()).any(|w| w == b"PRIVATE KEY-----")
}
