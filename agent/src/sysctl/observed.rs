//! The values the kernel has now, read under an injected root: `/proc/sys`
//! on a machine, a temp dir in tests. Under /proc/sys/net the kernel shows
//! the calling thread's network namespace.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// One reading per key asked for.
#[derive(Debug, Default)]
pub struct Observed {
    readings: BTreeMap<Vec<String>, Reading>,
}

/// What reading one key found.
#[derive(Debug)]
pub struct Reading {
    /// The key's file (as far as it goes, for a key that would leave the tree).
    pub path: PathBuf,
    /// The value without its newline, or why there is none: `NotFound` when
    /// the key does not exist (its module is not loaded, its interface is gone).
    pub value: io::Result<String>,
}

impl Observed {
    pub fn insert(&mut self, key: Vec<String>, reading: Reading) {
        self.readings.insert(key, reading);
    }

    pub fn get(&self, key: &[String]) -> Option<&Reading> {
        self.readings.get(key)
    }

    /// The error of a key that could not be read, taken out to be reported.
    pub fn take_error(&mut self, key: &[String]) -> Option<(PathBuf, io::Error)> {
        match self.readings.remove(key)? {
            Reading { path, value: Err(e) } => Some((path, e)),
            ok => {
                self.readings.insert(key.to_vec(), ok);
                None
            }
        }
    }
}

/// Reads each of `keys` under `root`.
pub fn read<'a>(root: &Path, keys: impl IntoIterator<Item = &'a Vec<String>>) -> Observed {
    let mut observed = Observed::default();
    for key in keys {
        let reading = match key_path(root, key) {
            Ok(path) => Reading { value: read_value(&path), path },
            Err((path, e)) => Reading { path, value: Err(e) },
        };
        observed.insert(key.clone(), reading);
    }
    observed
}

/// The file of `key` under `root`. The validator allows no '/' in interface
/// names; a component that would leave the tree is refused, not followed.
pub fn key_path(root: &Path, key: &[String]) -> Result<PathBuf, (PathBuf, io::Error)> {
    let mut path = root.to_path_buf();
    for c in key {
        if c.is_empty() || c == "." || c == ".." || c.contains('/') {
            let e = io::Error::new(io::ErrorKind::InvalidInput, format!("`{c}` is not a sysctl name component"));
            return Err((path, e));
        }
        path.push(c);
    }
    Ok(path)
}

fn read_value(path: &Path) -> io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysctl::fixture::{lines, set, tree, write_all};

    fn key(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn reads_values_without_their_newline_and_keeps_the_errors() {
        let root = tree(&[("net/ipv4/ip_forward", "1\n"), ("net/ipv4/conf/eth0.100/arp_ignore", "2\n")]);
        let keys = [
            key(&["net", "ipv4", "ip_forward"]),
            key(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"]),
            key(&["net", "ipv4", "vs", "conntrack"]),
            key(&["net", "..", "ip_forward"]),
        ];
        let mut observed = read(root.path(), &keys);
        assert_eq!(observed.get(&keys[0]).unwrap().value.as_deref().unwrap(), "1");
        let dotted = observed.get(&keys[1]).unwrap();
        assert_eq!(dotted.path, root.path().join("net/ipv4/conf/eth0.100/arp_ignore"));
        assert_eq!(dotted.value.as_deref().unwrap(), "2");
        let missing = observed.get(&keys[2]).unwrap();
        assert_eq!(missing.value.as_ref().unwrap_err().kind(), io::ErrorKind::NotFound);
        let (path, e) = observed.take_error(&keys[3]).unwrap();
        assert_eq!((path, e.kind()), (root.path().join("net"), io::ErrorKind::InvalidInput));
        assert!(observed.take_error(&keys[0]).is_none() && observed.get(&keys[0]).is_some(), "a value stays");
    }

    #[test]
    fn a_dotted_interface_is_one_directory() {
        let root = tree(&[("net/ipv4/conf/eth0.100/arp_ignore", "0\n")]);
        let changes = write_all(&[set(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"], "1")], root.path()).unwrap();
        assert_eq!(lines(&changes), ["~ sysctl net.ipv4.conf.eth0/100.arp_ignore 0 -> 1"]);
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/conf/eth0.100/arp_ignore")).unwrap(), "1\n");
    }

    #[test]
    fn a_component_that_leaves_the_tree_is_refused() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n")]);
        let err = write_all(&[set(&["net", "ipv4", "conf", "..", "ip_forward"], "1")], root.path()).unwrap_err();
        assert!(err.to_string().contains("not a sysctl name component"), "{err}");
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "0\n");
    }
}
