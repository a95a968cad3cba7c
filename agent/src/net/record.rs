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
use super::record_text::{self, Row};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "net-owned.ron";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owned {
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// What the record says. A missing, unreadable or garbled record owns
/// nothing: removing nothing is the safe way to be wrong.
pub fn load(dir: &Path) -> (Owned, Option<String>) {
    let parse = |text: &str| record_text::parse(text).and_then(|rows| from_rows(&rows));
    record_text::load(&path(dir), parse, "nothing added before is removed")
}

/// Writes the record atomically.
pub fn store(dir: &Path, owned: &Owned) -> std::io::Result<()> {
    let text = record_text::format("lvs-agent: the addresses and routes it added", &to_rows(owned));
    crate::atomic_file::write(&path(dir), text.as_bytes())
}

// Address("interface", "net"), Route("destination", "gateway", "interface", "metric"):
// an empty field is None.
fn to_rows(owned: &Owned) -> Vec<Row> {
    let addresses =
        owned.addresses.iter().map(|a| ("Address".to_string(), vec![a.interface.clone(), a.net.to_string()]));
    let routes = owned.routes.iter().map(|r| {
        let gateway = r.gateway.map(|g| g.to_string()).unwrap_or_default();
        let fields =
            vec![r.destination.to_string(), gateway, r.interface.clone().unwrap_or_default(), r.metric.to_string()];
        ("Route".to_string(), fields)
    });
    addresses.chain(routes).collect()
}

fn from_rows(rows: &[Row]) -> Option<Owned> {
    let mut owned = Owned::default();
    for (tag, fields) in rows {
        match (tag.as_str(), fields.as_slice()) {
            ("Address", [interface, net]) if !interface.is_empty() => {
                owned.addresses.push(Address { interface: interface.clone(), net: net.parse().ok()? })
            }
            ("Route", [destination, gateway, interface, metric]) => owned.routes.push(Route {
                destination: destination.parse().ok()?,
                gateway: if gateway.is_empty() { None } else { Some(gateway.parse().ok()?) },
                interface: (!interface.is_empty()).then(|| interface.clone()),
                metric: metric.parse().ok()?,
            }),
            _ => return None,
        }
    }
    Some(owned)
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
}
