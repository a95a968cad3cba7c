//! The record of what the agent added: the addresses and routes it created,
//! kept in a small RON file so that a later apply can remove those the config
//! no longer names, and only those. An address or route from DHCP or a person
//! is never in it, so it is never removed.
//!
//! The file lives in a directory the caller chooses: `<run_dir>/net`, so
//! `/run/lvs/net/net-owned.ron` on the appliance. /run is tmpfs, so the record
//! is gone after a reboot, as are the addresses and routes it lists.
//!
//! `net::apply` stores it after every change that adds or removes something,
//! so a crash part way leaves a record of what was done up to then.

use super::desired::{Address, Route};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "net-owned.ron";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// What the record says. A missing file is an empty record (first boot). An
/// unreadable or garbled one is treated as empty too, with a warning: owning
/// nothing means removing nothing, which is the safe way to be wrong.
pub fn load(dir: &Path) -> (Owned, Option<String>) {
    let file = path(dir);
    match std::fs::read_to_string(&file) {
        Ok(text) => match ron::from_str(&text) {
            Ok(owned) => (owned, None),
            Err(e) => (
                Owned::default(),
                Some(format!(
                    "{} is not a record this agent wrote ({e}): it is ignored, so nothing added before is removed",
                    file.display()
                )),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Owned::default(), None),
        Err(e) => (
            Owned::default(),
            Some(format!("cannot read {} ({e}): nothing added before is removed", file.display())),
        ),
    }
}

pub fn store(dir: &Path, owned: &Owned) -> std::io::Result<()> {
    write_ron(dir, FILE_NAME, owned)
}

/// Writes `value` as RON to `dir/name` through a temporary file and a rename
/// (then syncs the folder), so that a crash leaves either the old file or the
/// new one, never half of one. The sysctl record is written the same way.
pub fn write_ron<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), (Owned::default(), None));
        let owned = Owned {
            addresses: vec![Address { interface: "eth0.100".into(), net: "192.0.2.10/32".parse().unwrap() }],
            routes: vec![Route {
                destination: "0.0.0.0/0".parse().unwrap(),
                gateway: Some("192.0.2.1".parse().unwrap()),
                interface: None,
                metric: 0,
            }],
        };
        store(&dir.path().join("sub"), &owned).unwrap();
        assert_eq!(load(&dir.path().join("sub")), (owned, None));
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)], "no temporary file is left behind");
    }

    #[test]
    fn a_garbled_record_owns_nothing_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "not ron at all (").unwrap();
        let (owned, warning) = load(dir.path());
        assert_eq!(owned, Owned::default());
        assert!(warning.unwrap().contains("nothing added before is removed"));
    }
}
