//! Kernel settings under /proc/sys: `net.ipv4.ip_forward` and the
//! `net.ipv4.vs.*` knobs on a director; ARP suppression and rp_filter on a real
//! server.
//!
//! Written with std, not the `sysctl` crate: that crate turns every dot of a
//! name into a directory, which breaks interface names such as `eth0.100`.
//! Here a setting is a list of path components, so `eth0.100` stays one. The
//! root is injected: `/proc/sys` on a machine, a temp dir in tests. Under
//! /proc/sys/net the kernel shows the calling thread's network namespace.

pub mod desired;

pub use desired::Setting;

use crate::config::model::Appliance;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const PROC_SYS: &str = "/proc/sys";

/// One value that was changed, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlChange {
    /// sysctl(8) spelling: `net.ipv4.conf.eth0/100.arp_ignore`.
    pub name: String,
    pub from: String,
    pub to: String,
}

impl fmt::Display for SysctlChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "~ sysctl {} {} -> {}", self.name, self.from, self.to)
    }
}

/// Settings that could not be read or written. The others were still written
/// (they do not depend on one another); `applied` lists those that changed.
#[derive(Debug, thiserror::Error)]
#[error("{}", failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SysctlError {
    pub failures: Vec<SysctlFailure>,
    pub applied: Vec<SysctlChange>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set sysctl {name} to {value} ({}): {source}: {hint}", path.display())]
pub struct SysctlFailure {
    pub name: String,
    pub value: String,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
    pub hint: String,
}

/// Writes the settings `appliance` wants under `root`, each only when its
/// value differs, and returns what changed.
pub fn apply(appliance: &Appliance, root: &Path) -> Result<Vec<SysctlChange>, SysctlError> {
    write_all(&desired::desired(appliance), root)
}

pub fn write_all(settings: &[Setting], root: &Path) -> Result<Vec<SysctlChange>, SysctlError> {
    let mut applied = Vec::new();
    let mut failures = Vec::new();
    for s in settings {
        match write_one(s, root) {
            Ok(Some(change)) => applied.push(change),
            Ok(None) => {}
            Err(f) => failures.push(f),
        }
    }
    if failures.is_empty() {
        Ok(applied)
    } else {
        Err(SysctlError { failures, applied })
    }
}

fn write_one(s: &Setting, root: &Path) -> Result<Option<SysctlChange>, SysctlFailure> {
    let name = desired::display_name(&s.key);
    let mut path = root.to_path_buf();
    let fail = |path: &Path, source: std::io::Error| SysctlFailure {
        hint: hint(&s.key, &source),
        name: name.clone(),
        value: s.value.clone(),
        path: path.to_path_buf(),
        source,
    };
    for c in &s.key {
        // The validator allows no '/' in interface names; a component that
        // would leave the tree is refused rather than followed.
        if c.is_empty() || c == "." || c == ".." || c.contains('/') {
            let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("`{c}` is not a sysctl name component"));
            return Err(fail(&path, e));
        }
        path.push(c);
    }
    let current = std::fs::read_to_string(&path).map_err(|e| fail(&path, e))?;
    let current = current.trim();
    if current == s.value {
        return Ok(None);
    }
    // No create: a sysctl that does not exist is an error, not a new file.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| fail(&path, e))?;
    f.write_all(format!("{}\n", s.value).as_bytes()).map_err(|e| fail(&path, e))?;
    Ok(Some(SysctlChange { name: name.clone(), from: current.to_string(), to: s.value.clone() }))
}

fn hint(key: &[String], e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let strs: Vec<&str> = key.iter().map(String::as_str).collect();
    match (e.kind(), strs.as_slice()) {
        (ErrorKind::NotFound, ["net", "ipv4", "vs", ..]) => {
            "the ip_vs module is not loaded (the image loads it on a director; elsewhere `modprobe ip_vs`)".into()
        }
        (ErrorKind::NotFound, ["net", "ipv4", "conf", "tunl0", ..]) => {
            "interface tunl0 does not exist: the ipip module is not loaded (`modprobe ipip`)".into()
        }
        (ErrorKind::NotFound, ["net", "ipv4", "conf", iface, ..]) => {
            format!("no such interface {iface}: the config names an interface this machine does not have")
        }
        (ErrorKind::NotFound, _) => "this kernel has no such setting".into(),
        (ErrorKind::PermissionDenied, _) => "the agent needs root to write /proc/sys".into(),
        (ErrorKind::InvalidInput, _) => "the kernel refuses this value".into(),
        _ => "see the error above".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, value) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, value).unwrap();
        }
        dir
    }

    fn set(key: &[&str], value: &str) -> Setting {
        Setting { key: key.iter().map(|k| k.to_string()).collect(), value: value.into() }
    }

    #[test]
    fn writes_only_what_differs_and_reports_it() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n"), ("net/ipv4/vs/conntrack", "1\n")]);
        let settings = [set(&["net", "ipv4", "ip_forward"], "1"), set(&["net", "ipv4", "vs", "conntrack"], "1")];
        let changes = write_all(&settings, root.path()).unwrap();
        assert_eq!(changes, vec![SysctlChange { name: "net.ipv4.ip_forward".into(), from: "0".into(), to: "1".into() }]);
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "1\n");
        assert_eq!(write_all(&settings, root.path()).unwrap(), vec![], "a second write changes nothing");
    }

    #[test]
    fn a_dotted_interface_is_one_directory() {
        let root = tree(&[("net/ipv4/conf/eth0.100/arp_ignore", "0\n")]);
        let changes = write_all(&[set(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"], "1")], root.path()).unwrap();
        assert_eq!(changes[0].to_string(), "~ sysctl net.ipv4.conf.eth0/100.arp_ignore 0 -> 1");
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/conf/eth0.100/arp_ignore")).unwrap(), "1\n");
    }

    #[test]
    fn missing_settings_are_named_with_a_hint_and_the_rest_is_still_written() {
        let root = tree(&[("net/ipv4/conf/all/arp_ignore", "0\n")]);
        let err = write_all(
            &[
                set(&["net", "ipv4", "conf", "tunl0", "arp_ignore"], "1"),
                set(&["net", "ipv4", "conf", "all", "arp_ignore"], "1"),
                set(&["net", "ipv4", "vs", "sloppy_tcp"], "1"),
                set(&["net", "ipv4", "conf", "eth7", "rp_filter"], "0"),
            ],
            root.path(),
        )
        .unwrap_err();
        assert_eq!(err.applied.len(), 1);
        assert_eq!(err.failures.len(), 3);
        let text = err.to_string();
        assert!(text.contains("cannot set sysctl net.ipv4.conf.tunl0.arp_ignore to 1"), "{text}");
        assert!(text.contains("the ipip module is not loaded"), "{text}");
        assert!(text.contains("the ip_vs module is not loaded"), "{text}");
        assert!(text.contains("no such interface eth7"), "{text}");
        assert!(!root.path().join("net/ipv4/conf/eth7").exists(), "nothing is created");
    }

    #[test]
    fn a_component_that_leaves_the_tree_is_refused() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n")]);
        let err = write_all(&[set(&["net", "ipv4", "conf", "..", "ip_forward"], "1")], root.path()).unwrap_err();
        assert!(err.to_string().contains("not a sysctl name component"), "{err}");
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "0\n");
    }
}
