//! The record of the sysctls the agent changed: for each key, the value it
//! found before its first write and the value it wrote. With it, a key the
//! config stops setting is put back, and a key the agent never changed is
//! never touched.
//!
//! The file is `<run_dir>/sysctl/sysctl-original.ron` (`/run/lvs/sysctl/` on
//! the appliance), written atomically before each first write of a key, so a
//! restarted agent still knows the originals. /run is tmpfs: a reboot clears
//! the record along with the values it describes.

use crate::net::record_text::{self, Row};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "sysctl-original.ron";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub keys: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
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

/// What the record says. A missing, unreadable or garbled record knows no
/// originals: putting nothing back is the safe way to be wrong.
pub fn load(dir: &Path) -> (Changed, Option<String>) {
    record_text::load(&path(dir), parse, "no sysctl changed before is put back")
}

/// Writes the record atomically.
pub fn store(dir: &Path, changed: &Changed) -> std::io::Result<()> {
    let rows: Vec<Row> = changed
        .keys
        .iter()
        .map(|e| ("Changed".to_string(), vec![e.key.join("/"), e.original.clone(), e.wrote.clone()]))
        .collect();
    let text = record_text::format(
        "lvs-agent: the sysctls it changed (path under /proc/sys, value before, value written)",
        &rows,
    );
    crate::atomic_file::write(&path(dir), text.as_bytes())
}

// The key is written as its path under /proc/sys: its components never hold a '/'.
fn parse(text: &str) -> Option<Changed> {
    let mut keys = Vec::new();
    for (tag, fields) in record_text::parse(text)? {
        let [path, original, wrote] = <[String; 3]>::try_from(fields).ok()?;
        let key: Vec<String> = path.split('/').map(String::from).collect();
        if tag != "Changed" || key.iter().any(|c| c.is_empty() || c == "." || c == "..") {
            return None;
        }
        keys.push(Entry { key, original, wrote });
    }
    Some(Changed { keys })
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
        std::fs::write(path(dir.path()), "Changed(keys: [(").unwrap();
        let (changed, warning) = load(dir.path());
        assert_eq!(changed, Changed::default());
        assert!(warning.unwrap().contains("no sysctl changed before is put back"));
    }
}
