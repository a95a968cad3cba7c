//! The record of the sysctls the agent changed: for each key, the value it
//! found before its first write and the value it wrote. With it, a key the
//! config stops setting is put back, and a key the agent never changed is
//! never touched.
//!
//! The file is `<run_dir>/sysctl/sysctl-original.ron` (`/run/lvs/sysctl/` on
//! the appliance), written atomically before each first write of a key, so a
//! restarted agent still knows the originals. /run is tmpfs: a reboot clears
//! the record along with the values it describes.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "sysctl-original.ron";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    #[serde(default)]
    pub keys: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path components under /proc/sys, as `Setting::key`.
    pub key: Vec<String>,
    /// The value before the agent first wrote this key.
    pub original: String,
    /// The value the agent wrote last.
    pub wrote: String,
}

impl Changed {
    pub fn get_mut(&mut self, key: &[String]) -> Option<&mut Entry> {
        self.keys.iter_mut().find(|e| e.key == key)
    }

    pub fn remove(&mut self, key: &[String]) {
        self.keys.retain(|e| e.key != key);
    }
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// What the record says. A missing file is an empty record (first start since
/// boot). An unreadable or garbled one counts as empty, with a warning:
/// knowing no originals means putting nothing back, the safe way to be wrong.
pub fn load(dir: &Path) -> (Changed, Option<String>) {
    let file = path(dir);
    match std::fs::read_to_string(&file) {
        Ok(text) => match ron::from_str(&text) {
            Ok(changed) => (changed, None),
            Err(e) => (
                Changed::default(),
                Some(format!(
                    "{} is not a record this agent wrote ({e}): it is ignored, so no sysctl changed before is put back",
                    file.display()
                )),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Changed::default(), None),
        Err(e) => (
            Changed::default(),
            Some(format!("cannot read {} ({e}): no sysctl changed before is put back", file.display())),
        ),
    }
}

pub fn store(dir: &Path, changed: &Changed) -> std::io::Result<()> {
    crate::net::record::write_ron(dir, FILE_NAME, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_a_garbled_file_knows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), (Changed::default(), None));
        let changed = Changed {
            keys: vec![Entry {
                key: ["net", "ipv4", "conf", "eth0.100", "arp_ignore"].map(String::from).to_vec(),
                original: "0".into(),
                wrote: "1".into(),
            }],
        };
        store(dir.path(), &changed).unwrap();
        assert_eq!(load(dir.path()), (changed, None));
        std::fs::write(path(dir.path()), "Changed(keys: [(").unwrap();
        let (changed, warning) = load(dir.path());
        assert_eq!(changed, Changed::default());
        assert!(warning.unwrap().contains("no sysctl changed before is put back"));
    }
}
