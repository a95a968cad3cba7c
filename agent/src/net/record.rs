//! The record of what the agent added: the addresses and routes it created,
//! kept in a small RON file (a [`crate::record`]) so that a later apply can
//! remove those the config no longer names, and only those. An address or
//! route from DHCP or a person is never in it, so it is never removed.
//!
//! The file lives in a directory the caller chooses: `<run_dir>/net`, so
//! `/run/lvs/net/net-owned.ron` on the appliance. /run is tmpfs, so the record
//! is gone after a reboot, as are the addresses and routes it lists.
//!
//! `net::apply` stores it after every change that adds or removes something,
//! so a crash part way leaves a record of what was done up to then.

use super::desired::{Address, Route};
use crate::record::{self, Kind, RecordError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "net-owned.ron";

pub const KIND: Kind = Kind {
    magic: "lvs-agent-net-owned",
    version: 1,
    what: "record of the addresses and routes the agent added",
    max_bytes: crate::record::RECORD_MAX_BYTES,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owned {
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// What the record says. A missing, unreadable or damaged record owns
/// nothing: removing nothing is the safe way to be wrong.
pub fn load(dir: &Path) -> (Owned, Option<String>) {
    record::load_or_empty(&path(dir), &KIND, "nothing added before is removed")
}

/// Writes the record atomically.
pub fn store(dir: &Path, owned: &Owned) -> Result<(), RecordError> {
    record::store(&path(dir), &KIND, owned)
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
            routes: vec![
                Route {
                    destination: "0.0.0.0/0".parse().unwrap(),
                    gateway: Some("192.0.2.1".parse().unwrap()),
                    interface: None,
                    metric: 0,
                },
                Route {
                    destination: "2001:db8:1::/48".parse().unwrap(),
                    gateway: None,
                    interface: Some("eth0.100".into()),
                    metric: 1024,
                },
            ],
        };
        store(&dir.path().join("sub"), &owned).unwrap();
        assert_eq!(load(&dir.path().join("sub")), (owned, None));
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
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

    #[test]
    fn a_damaged_record_or_another_kind_owns_nothing_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let owned = Owned {
            addresses: vec![Address { interface: "eth0".into(), net: "192.0.2.10/32".parse().unwrap() }],
            routes: vec![],
        };
        store(dir.path(), &owned).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(text.starts_with("lvs-agent-net-owned 1 "), "{text}");
        assert!(text.contains("interface: \"eth0\"") && text.contains("\"192.0.2.10/32\""), "{text}");
        std::fs::write(path(dir.path()), text.replace("192.0.2.10", "192.0.2.11")).unwrap();
        let (owned, warning) = load(dir.path());
        assert_eq!(owned, Owned::default());
        let warning = warning.unwrap();
        assert!(warning.starts_with(&path(dir.path()).display().to_string()), "{warning}");
        assert!(warning.contains("(damaged)"), "{warning}");
        let other = crate::record::Kind { magic: "lvs-agent-sysctl-original", ..KIND };
        crate::record::store(&path(dir.path()), &other, &owned).unwrap();
        assert!(load(dir.path()).1.unwrap().contains("not a record of the addresses and routes"));
    }
}
