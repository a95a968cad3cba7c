//! Reading a config that must be a director's, for the subcommands that work on
//! its IPVS table.

use super::{EXIT_FAILED, EXIT_INVALID};
use lvs_config::model::{Director, Role};
use lvs_config::ConfigError;
use std::path::Path;

/// The director, or the exit status after the reason has been printed: 2
/// for a file that is wrong, 1 for one that cannot be read, as `check` says.
pub fn load(file: &Path, doing: &str) -> Result<Director, i32> {
    let loaded = lvs_agent::capped::load_config(file).map_err(|e| {
        eprintln!("{e}");
        match e {
            ConfigError::Read { .. } => EXIT_FAILED,
            _ => EXIT_INVALID,
        }
    })?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    match loaded.model.role {
        Role::Director(d) => Ok(d),
        Role::RealServer(_) => {
            eprintln!("{}: a real server has no IPVS rules to {doing}", file.display());
            Err(EXIT_INVALID)
        }
    }
}
