//! `lvs-agent save` and `lvs-agent restore`: the kernel's IPVS table to a file
//! and back, as ipvsadm-save and ipvsadm-restore do, in the state file's
//! format (by default) or as ipvsadm rules.

use super::EXIT_INVALID;
use anyhow::{Context, Result};
use lvs_agent::capped::{self, CappedReadError};
use lvs_agent::keeper::{restore, state_file, Carried};
use lvs_agent::record::RECORD_MAX_BYTES;
use lvs_agent::state::format;
use lvs_ipvs::{self as ipvs, Ipvs, Ownership};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SaveFormat {
    /// The agent's state file (what `restore` and a booting agent read).
    State,
    /// ipvsadm rules, as `ipvsadm-save -n` writes them.
    Ipvsadm,
}

/// Where `restore` looks when given no file: the state partition, then /run.
pub const DEFAULT_STATE_FILES: [&str; 2] = ["/state/state.ron", "/run/lvs/state/state.ron"];

pub fn save(format: SaveFormat, output: Option<&Path>, kernel: impl FnOnce() -> Result<Box<dyn Ipvs>>) -> Result<i32> {
    let table = kernel()?.dump()?;
    let text = match format {
        SaveFormat::State => {
            format::encode(&state_file(lvs_agent::state::now_ms(), None, &Carried::default(), Some(&table)))
        }
        SaveFormat::Ipvsadm => {
            let (text, warnings) = lvs_ipvs::ipvsadm::export(&table);
            for w in warnings {
                eprintln!("lvs-agent: warning: {w}");
            }
            text
        }
    };
    match output {
        Some(path) => lvs_agent::atomic_file::write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// The services in the file are made as saved; others are left alone.
pub fn restore(file: Option<&Path>, kernel: impl FnOnce() -> Result<Box<dyn Ipvs>>) -> Result<i32> {
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => DEFAULT_STATE_FILES.iter().map(PathBuf::from).find(|p| p.exists()).with_context(|| {
            format!("no state file in {}; name one, or save one first", DEFAULT_STATE_FILES.join(" or "))
        })?,
    };
    // ipvsadm rules of a table as big as the largest state file's fit the same cap.
    let bytes = match capped::read(&path, RECORD_MAX_BYTES, "state file or ipvsadm rules file") {
        Ok(bytes) => bytes,
        Err(e @ CappedReadError::TooBig { .. }) => {
            eprintln!("lvs-agent: {e}; nothing restored");
            return Ok(EXIT_INVALID);
        }
        Err(e) => return Err(e.into()),
    };
    // An empty file is a state file a power cut cut short, not rules for nothing.
    let table = if bytes.starts_with(b"lvs-agent-state ") || bytes.iter().all(u8::is_ascii_whitespace) {
        let state = match format::decode(&bytes) {
            Ok(s) => s,
            Err(problem) => {
                eprintln!("lvs-agent: {}: {problem}", path.display());
                return Ok(EXIT_INVALID);
            }
        };
        match restore::table(&state) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                eprintln!("lvs-agent: {}: the saved table is not valid: {e}", path.display());
                return Ok(EXIT_INVALID);
            }
            None => {
                eprintln!("lvs-agent: {}: holds no table", path.display());
                return Ok(EXIT_INVALID);
            }
        }
    } else {
        let text = String::from_utf8_lossy(&bytes);
        match lvs_ipvs::ipvsadm::import(&text, &lvs_ipvs::ipvsadm::ImportOptions { strict: true }) {
            Ok(imported) => imported.table,
            Err(e) => {
                eprintln!(
                    "lvs-agent: {}: neither a state file nor ipvsadm rules: {}:{e}",
                    path.display(),
                    path.display()
                );
                return Ok(EXIT_INVALID);
            }
        }
    };
    let mut kernel = kernel()?;
    let changes = ipvs::sync(kernel.as_mut(), &table, Ownership::NamedServices)
        .with_context(|| format!("restoring {}", path.display()))?;
    for c in &changes {
        println!("{c}");
    }
    println!("restored {} services from {}: {} changes", table.services.len(), path.display(), changes.len());
    Ok(0)
}
