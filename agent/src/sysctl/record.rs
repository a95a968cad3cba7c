//! The record of the sysctls the agent changed: for each key, the value it
//! found before its first write and the value it wrote. With it, a key the
//! config stops setting is put back, and a key the agent never changed is
//! never touched.
//!
//! The file is `<run_dir>/sysctl/sysctl-original.ron` (`/run/lvs/sysctl/` on
//! the appliance), written atomically before each first write of a key, so a
//! restarted agent still knows the originals. /run is tmpfs: a reboot clears
//! the record along with the values it describes.

use crate::record::{self, Kind, RecordError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "sysctl-original.ron";

pub const KIND: Kind = Kind {
    magic: "lvs-agent-sysctl-original",
    version: 1,
    what: "record of the sysctls the agent changed",
    max_bytes: crate::record::RECORD_MAX_BYTES,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Changed", deny_unknown_fields)]
pub struct Changed {
    pub keys: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Sysctl", deny_unknown_fields)]
pub struct Entry {
    /// Path components under /proc/sys, as `Setting::key`; in the file, the
    /// path they make (`"net/ipv4/conf/eth0.100/arp_ignore"`).
    #[serde(with = "key_as_path")]
    pub key: Vec<String>,
    /// The value before the agent first wrote this key.
    pub original: String,
    /// The value the agent wrote last.
    pub wrote: String,
}

impl Changed {
    pub fn get(&self, key: &[String]) -> Option<&Entry> {
        self.keys.iter().find(|e| e.key == key)
    }

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

/// What the record says. A missing, unreadable or damaged record knows no
/// originals: putting nothing back is the safe way to be wrong.
pub fn load(dir: &Path) -> (Changed, Option<String>) {
    record::load_or_empty(&path(dir), &KIND, "no sysctl changed before is put back")
}

/// Writes the record atomically.
pub fn store(dir: &Path, changed: &Changed) -> Result<(), RecordError> {
    record::store(&path(dir), &KIND, changed)
}

/// A key is written as its path under /proc/sys: its components never hold
/// a '/'. One that would leave the tree makes the record unreadable.
mod key_as_path {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &[String], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&key.join("/"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
        let path = String::deserialize(deserializer)?;
        let key: Vec<String> = path.split('/').map(String::from).collect();
        if key.iter().any(|c| c.is_empty() || c == "." || c == "..") {
            return Err(D::Error::custom(format!("`{path}` is not a path under /proc/sys")));
        }
        Ok(key)
    }
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
        let odd = Changed {
            keys: vec![Entry {
                key: vec!["kernel".into(), "x".into()],
                original: "a\tb \"c\" \\ d\n".into(),
                wrote: String::new(),
            }],
        };
        store(dir.path(), &odd).unwrap();
        assert_eq!(load(dir.path()), (odd, None), "tabs, quotes, backslashes and empty values survive");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)], "no temporary file is left behind");
        for garbled in
            ["[\n    (\"net/ipv4/ip_forward\", \"0\"),\n]\n", "[\n    (\"net/../x\", \"0\", \"1\"),\n]\n", "[\n"]
        {
            std::fs::write(path(dir.path()), garbled).unwrap();
            assert!(load(dir.path()).1.is_some(), "{garbled:?}");
        }
        for bad_key in ["net/../x", "net//x", "/net/x"] {
            let body = format!("Changed(keys: [Sysctl(key: \"{bad_key}\", original: \"0\", wrote: \"1\")])");
            std::fs::write(path(dir.path()), crate::record::frame(&KIND, &body)).unwrap();
            let warning = load(dir.path()).1.unwrap();
            assert!(warning.contains(&format!("`{bad_key}` is not a path under /proc/sys")), "{warning}");
        }
        std::fs::write(path(dir.path()), "Changed(keys: [(").unwrap();
        let (changed, warning) = load(dir.path());
        assert_eq!(changed, Changed::default());
        assert!(warning.unwrap().contains("no sysctl changed before is put back"));
    }
}
