//! A lab's RON files, loaded as the agent loads them, and what the labs
//! take from them: each VM's name, address and answer, and the director's
//! HTTP check, from which each lab derives its own bounds.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lvs_config::model::{Appliance, Health};

/// Loads `file` (relative to the repository). Warnings are errors: the labs
/// use their files as they are, and a warning would mean one says something
/// other than the test assumes.
pub fn load(file: &'static str) -> Result<lvs_config::Loaded, String> {
    let path: PathBuf = crate::repo_root().join(file);
    let loaded = lvs_config::load(&path).map_err(|e| format!("{file}: {e}"))?;
    if !loaded.warnings.is_empty() {
        let w: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        return Err(format!("{file}: warnings: {}", w.join("; ")));
    }
    Ok(loaded)
}

/// One VM of a lab.
#[derive(Clone, Debug)]
pub struct Machine {
    pub name: String,
    /// Relative to the repository.
    pub file: &'static str,
    pub address: IpAddr,
    /// What it answers on the service, as the client tells it apart: its
    /// hostname and a newline unless the lab says otherwise.
    pub body: String,
}

/// The machine `file` describes: its hostname, and the first address of its
/// first interface.
pub fn machine(file: &'static str, model: &Appliance) -> Result<Machine, String> {
    let name = model.hostname.clone().ok_or_else(|| format!("{file}: no hostname"))?;
    let address = model
        .interfaces
        .first()
        .and_then(|i| i.addresses.first())
        .map(|n| n.addr())
        .ok_or_else(|| format!("{file}: no address on its first interface"))?;
    Ok(Machine { body: format!("{name}\n"), name, file, address })
}

/// A director's HTTP check, as the model reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
}

impl Check {
    pub fn of(h: &Health) -> Check {
        Check { interval: h.target.interval, timeout: h.target.timeout, rise: h.rise, fall: h.fall }
    }
}
