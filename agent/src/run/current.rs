//! The config that runs and where it came from: the file, or the state
//! file's copy when the file is unusable at start; and the fingerprint by
//! which the main loop sees that the file was replaced.

use crate::state::format::fnv1a64;
use crate::state::{now_ms, SavedConfig, StateFile, Store};
use lvs_config::{self as config, ConfigError, Loaded};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The config that runs.
pub struct Current {
    pub path: PathBuf,
    pub loaded: Loaded,
}

impl Current {
    pub fn read(path: &Path) -> Result<Current, ConfigError> {
        Ok(Current { path: path.to_path_buf(), loaded: crate::capped::load_config(path)? })
    }

    pub fn text(&self) -> &str {
        &self.loaded.text
    }

    /// The copy the state file keeps.
    pub fn saved(&self) -> SavedConfig {
        SavedConfig {
            path: self.path.display().to_string(),
            hash: format!("{:016x}", fnv1a64(self.text().as_bytes())),
            applied_at_ms: now_ms(),
            text: self.text().to_string(),
        }
    }

    /// The copy in a state file, when it still validates and is no bigger
    /// than a config file may be.
    pub fn from_state(state: Option<&StateFile>) -> Option<Current> {
        let saved = state?.config.as_ref().filter(|c| c.text.len() as u64 <= crate::capped::CONFIG_MAX_BYTES)?;
        let path = PathBuf::from(&saved.path);
        let loaded = config::parse(&saved.text, &path).ok()?;
        Some(Current { path, loaded })
    }
}

/// The state file, or None with a line saying why.
pub fn load_state(store: &Store) -> Option<StateFile> {
    match store.load() {
        Ok(Some(state)) => {
            let age = now_ms().saturating_sub(state.written_at_ms) / 1000;
            crate::note!(info, "state: read {}, written {age} s ago", store.path().display());
            Some(state)
        }
        Ok(None) => {
            crate::note!(info, "state: no saved state in {}; starting from the config", store.path().display());
            None
        }
        Err(e) => {
            crate::note!(warn, "state: ignored {e}; starting from the config");
            None
        }
    }
}

/// What tells the poll that a file was replaced: an editor's rename gives a
/// new inode, an overwrite in place a new length or time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

pub fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Fingerprint { len: m.len(), modified: m.modified().ok(), inode: m.ino() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_files_copy_runs_when_valid_and_no_bigger_than_a_config() {
        let text = "Appliance(role: Director(services: []))\n";
        let copy = |text: String| StateFile {
            config: Some(SavedConfig { path: "/config/a.ron".into(), hash: String::new(), applied_at_ms: 0, text }),
            ..StateFile::new(0)
        };
        let current = Current::from_state(Some(&copy(text.to_string()))).unwrap();
        assert_eq!((current.path.to_str(), current.text()), (Some("/config/a.ron"), text));
        let padded = format!("{text}{}", " ".repeat(crate::capped::CONFIG_MAX_BYTES as usize));
        assert!(Current::from_state(Some(&copy(padded))).is_none());
        assert!(Current::from_state(Some(&copy("Appliance(".into()))).is_none());
        assert!(Current::from_state(None).is_none());
    }

    #[test]
    fn a_replaced_file_changes_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ron");
        std::fs::write(&path, "one").unwrap();
        let before = fingerprint(&path);
        let other = dir.path().join("b.ron");
        std::fs::write(&other, "two").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_ne!(fingerprint(&path), before);
        assert_eq!(fingerprint(&dir.path().join("none")), None);
    }
}
