//! The config that runs and where it came from: the file; when it is
//! unusable at start, the one before it (`.prev`, which every lasting write
//! keeps), else the state file's copy; and the fingerprint by which the main
//! loop sees that the file was replaced.

use crate::config_file::ConfigFile;
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

/// The config file at start, else its `.prev`; the log (the console on the
/// appliance) says when it is `.prev` and why, or why `.prev` is no help
/// either. The error is the file's, for the next fallback to quote.
pub fn read_or_prev(path: &Path) -> Result<Current, ConfigError> {
    let (chosen, lines) = choose(path);
    for (level, line) in lines {
        log::log!(level, "{line}");
    }
    chosen
}

/// [`read_or_prev`], with the lines it logs.
fn choose(path: &Path) -> (Result<Current, ConfigError>, Vec<(log::Level, String)>) {
    let e = match Current::read(path) {
        Ok(c) => return (Ok(c), Vec::new()),
        Err(e) => e,
    };
    let prev = ConfigFile { path: path.to_path_buf(), remount: None }.prev();
    match Current::read(&prev) {
        Ok(c) => {
            let line = format!(
                "config {} is not usable:\n{e}\ngoing on with {}, the config before the last change \
                 (fix the file; it is read again when it changes)",
                path.display(),
                prev.display()
            );
            (Ok(c), vec![(log::Level::Error, line)])
        }
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            let line = format!("config: there is no {} to fall back to", prev.display());
            (Err(e), vec![(log::Level::Info, line)])
        }
        Err(prev_error) => {
            let line = format!("config: {} is not usable either:\n{prev_error}", prev.display());
            (Err(e), vec![(log::Level::Warn, line)])
        }
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

    const GOOD: &str = "Appliance(role: Director(services: []), log_level: Warn)\n";
    const OLD: &str = "Appliance(role: Director(services: []), log_level: Debug)\n";

    fn files(dir: &Path, file: Option<&str>, prev: Option<&str>) -> PathBuf {
        let path = dir.join("appliance.ron");
        for (p, text) in [(path.clone(), file), (dir.join("appliance.ron.prev"), prev)] {
            if let Some(text) = text {
                std::fs::write(p, text).unwrap();
            }
        }
        path
    }

    #[test]
    fn a_valid_file_runs_and_nothing_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = files(dir.path(), Some(GOOD), Some(OLD));
        let (chosen, lines) = choose(&path);
        let c = chosen.unwrap();
        assert_eq!((c.path.as_path(), c.text(), lines.len()), (path.as_path(), GOOD, 0));
    }

    #[test]
    fn an_invalid_file_falls_back_to_prev_and_the_log_says_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        for broken in [
            Some("Appliance(role: Director(services: [])"),
            None,
            Some("Appliance(role: Director(services: []), log_level: Loud)"),
        ] {
            let _ = std::fs::remove_file(dir.path().join("appliance.ron"));
            let path = files(dir.path(), broken, Some(OLD));
            let (chosen, lines) = choose(&path);
            let c = chosen.unwrap();
            let prev = dir.path().join("appliance.ron.prev");
            assert_eq!((c.path.as_path(), c.text()), (prev.as_path(), OLD));
            let [(level, line)] = &lines[..] else { panic!("{lines:?}") };
            assert_eq!(*level, log::Level::Error);
            assert!(
                line.starts_with(&format!("config {} is not usable:\n{}", path.display(), path.display())),
                "{line}"
            );
            assert!(
                line.contains(&format!("going on with {}, the config before the last change", prev.display())),
                "{line}"
            );
        }
    }

    #[test]
    fn without_a_usable_prev_the_error_is_the_files_and_the_state_copy_comes_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = files(dir.path(), Some("Appliance("), None);
        let (chosen, lines) = choose(&path);
        assert!(chosen.err().unwrap().to_string().starts_with(&path.display().to_string()));
        assert_eq!(lines, [(log::Level::Info, format!("config: there is no {}.prev to fall back to", path.display()))]);

        let path = files(dir.path(), Some("Appliance("), Some("Appliance(role: Director(services: [])"));
        let (chosen, lines) = choose(&path);
        assert!(chosen.err().unwrap().to_string().starts_with(&format!("{}:", path.display())));
        let [(level, line)] = &lines[..] else { panic!("{lines:?}") };
        assert_eq!(*level, log::Level::Warn);
        assert!(
            line.starts_with(&format!(
                "config: {}.prev is not usable either:\n{}.prev:1:",
                path.display(),
                path.display()
            )),
            "{line}"
        );
        // What run does next: the state file's copy.
        let state = StateFile {
            config: Some(SavedConfig {
                path: "/config/appliance.ron".into(),
                hash: String::new(),
                applied_at_ms: 0,
                text: GOOD.into(),
            }),
            ..StateFile::new(0)
        };
        assert_eq!(Current::from_state(Some(&state)).unwrap().text(), GOOD);
    }
}
