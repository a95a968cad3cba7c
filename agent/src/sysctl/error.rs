//! Sysctl errors: each names the setting, its file and the errno, and says
//! what a person can do about it.

use super::SysctlChange;
use std::io::{self, ErrorKind};
use std::path::PathBuf;

/// Settings that could not be read, written or recorded. The others were
/// still written (they do not depend on one another); `applied` lists those
/// that changed.
#[derive(Debug, thiserror::Error)]
#[error("{}", failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SysctlError {
    pub failures: Vec<SysctlFailure>,
    pub applied: Vec<SysctlChange>,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {what} ({}): {source}: {hint}", path.display())]
pub struct SysctlFailure {
    /// "set sysctl NAME to VALUE", "put sysctl NAME back to VALUE", ...
    pub what: String,
    /// sysctl(8) spelling; empty for the record.
    pub name: String,
    pub value: String,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
    pub hint: String,
}

impl SysctlFailure {
    /// `key` could not be read or written to `value` (`put_back`: back to it).
    pub fn key(key: &[String], put_back: bool, value: &str, path: PathBuf, source: io::Error) -> SysctlFailure {
        let name = super::desired::display_name(key);
        let what = if put_back {
            format!("put sysctl {name} back to {value}")
        } else {
            format!("set sysctl {name} to {value}")
        };
        SysctlFailure { hint: hint(key, &source), what, name, value: value.to_string(), path, source }
    }

    /// The record at `path` could not be written.
    pub fn record(path: PathBuf, source: io::Error) -> SysctlFailure {
        SysctlFailure {
            what: "record the sysctls the agent changed and their original values".into(),
            name: String::new(),
            value: String::new(),
            path,
            source,
            hint: "the values are set all the same, but those changed now will not be put back \
                   when the config stops setting them: make the run directory writable"
                .into(),
        }
    }
}

fn hint(key: &[String], e: &io::Error) -> String {
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
    use crate::sysctl::fixture::{set, tree, write_all};

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
}
