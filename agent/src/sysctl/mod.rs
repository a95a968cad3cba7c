//! Kernel settings under /proc/sys: `net.ipv4.ip_forward` and the
//! `net.ipv4.vs.*` knobs on a director; ARP suppression and rp_filter on a real
//! server.
//!
//! Written with std, not the `sysctl` crate: that crate turns every dot of a
//! name into a directory, which breaks interface names such as `eth0.100`.
//! Here a setting is a list of path components, so `eth0.100` stays one. The
//! root is injected: `/proc/sys` on a machine, a temp dir in tests.
//!
//! desired (pure, from the model) → observed (the current values under the
//! root) → plan (pure, with the record) → exec. The agent keeps a record of
//! each key it changed and of the value it found there first ([`record`]):
//! `put_back` restores a key the config no longer sets, and keys the agent
//! never changed are never touched.

pub mod desired;
mod error;
pub mod exec;
#[cfg(test)]
mod fixture;
pub mod observed;
pub mod plan;
pub mod record;

pub use desired::Setting;
pub use error::{SysctlError, SysctlFailure};

use exec::Exec;
use lvs_config::model::Appliance;
use std::fmt;
use std::path::Path;

pub const PROC_SYS: &str = "/proc/sys";

/// One value that was changed, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlChange {
    /// sysctl(8) spelling: `net.ipv4.conf.eth0/100.arp_ignore`.
    pub name: String,
    pub from: String,
    pub to: String,
    /// Put back to the value it had before the agent changed it.
    pub put_back: bool,
}

impl fmt::Display for SysctlChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "~ sysctl {} {} -> {}", self.name, self.from, self.to)?;
        if self.put_back {
            write!(f, " (put back: the config no longer sets it)")?;
        }
        Ok(())
    }
}

/// What one call changed, and what it left alone on purpose (one line each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysctlReport {
    pub changes: Vec<SysctlChange>,
    pub notes: Vec<String>,
}

/// Writes the settings `appliance` wants under `root`, each only when its
/// value differs, and returns what changed. The value found before the
/// agent's first write of a key goes into the record under `record_dir`
/// first, so that [`put_back`] can restore it.
pub fn apply(appliance: &Appliance, root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    set_all(&desired::desired(appliance), root, record_dir)
}

/// Restores the keys the agent changed and `appliance` no longer sets. Call
/// it after the network setup: a real server that stops being one must lose
/// its VIPs before ARP suppression is lifted.
///
/// A key whose value someone else changed after the agent wrote it is left
/// as it is (with a note); a key that is gone (its interface was removed) is
/// forgotten.
pub fn put_back(appliance: &Appliance, root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    put_back_all(&desired::desired(appliance), root, record_dir)
}

/// [`apply`] for a list of settings.
pub fn set_all(settings: &[Setting], root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    let mut exec = Exec::open(root, record_dir);
    let mut observed = observed::read(root, settings.iter().map(|s| &s.key));
    exec.run(plan::set(settings, &observed), &mut observed);
    // A damaged record is replaced even when nothing changed.
    exec.store_record();
    exec.finish()
}

/// [`put_back`] for a list of settings: those still wanted.
pub fn put_back_all(settings: &[Setting], root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    let mut exec = Exec::open(root, record_dir);
    let dropped: Vec<Vec<String>> = plan::dropped(settings, exec.record()).map(|e| e.key.clone()).collect();
    let mut observed = observed::read(root, &dropped);
    exec.run(plan::put_back(settings, &observed, exec.record()), &mut observed);
    exec.finish()
}

#[cfg(test)]
mod tests {
    use super::fixture::{lines, set, tree, value, write_all};
    use super::record::{self, Changed};
    use super::*;

    #[test]
    fn writes_only_what_differs_and_reports_it() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n"), ("net/ipv4/vs/conntrack", "1\n")]);
        let settings = [set(&["net", "ipv4", "ip_forward"], "1"), set(&["net", "ipv4", "vs", "conntrack"], "1")];
        let changes = write_all(&settings, root.path()).unwrap();
        assert_eq!(
            changes,
            vec![SysctlChange {
                name: "net.ipv4.ip_forward".into(),
                from: "0".into(),
                to: "1".into(),
                put_back: false
            }]
        );
        assert_eq!(std::fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "1\n");
        assert_eq!(write_all(&settings, root.path()).unwrap(), vec![], "a second write changes nothing");
    }

    #[test]
    fn the_original_is_recorded_before_the_first_write_and_put_back_when_no_longer_set() {
        let root = tree(&[
            ("net/ipv4/ip_forward", "0\n"),
            ("net/ipv4/conf/all/rp_filter", "1\n"),
            ("net/ipv4/conf/eth0.100/arp_ignore", "0\n"),
        ]);
        let record = tempfile::tempdir().unwrap();
        let (root, rec) = (root.path(), record.path());
        let first = [
            set(&["net", "ipv4", "ip_forward"], "1"),
            set(&["net", "ipv4", "conf", "all", "rp_filter"], "1"), // already so: not the agent's
            set(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"], "1"),
        ];
        let report = set_all(&first, root, rec).unwrap();
        assert_eq!(
            lines(&report.changes),
            ["~ sysctl net.ipv4.ip_forward 0 -> 1", "~ sysctl net.ipv4.conf.eth0/100.arp_ignore 0 -> 1"]
        );
        let (changed, _) = record::load(rec);
        assert_eq!(
            changed
                .keys
                .iter()
                .map(|e| (desired::display_name(&e.key), e.original.as_str(), e.wrote.as_str()))
                .collect::<Vec<_>>(),
            [
                ("net.ipv4.ip_forward".to_string(), "0", "1"),
                ("net.ipv4.conf.eth0/100.arp_ignore".to_string(), "0", "1")
            ]
        );
        let on_disk = std::fs::read_to_string(record::path(rec)).unwrap();
        assert_eq!(set_all(&first, root, rec).unwrap(), SysctlReport::default());
        assert_eq!(
            put_back_all(&first, root, rec).unwrap(),
            SysctlReport::default(),
            "all still set: nothing to put back"
        );
        assert_eq!(std::fs::read_to_string(record::path(rec)).unwrap(), on_disk, "the record is not rewritten");

        // The config changes a value: the original stays the first one seen.
        let second =
            [set(&["net", "ipv4", "ip_forward"], "0"), set(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"], "2")];
        assert_eq!(
            lines(&set_all(&second, root, rec).unwrap().changes),
            ["~ sysctl net.ipv4.ip_forward 1 -> 0", "~ sysctl net.ipv4.conf.eth0/100.arp_ignore 1 -> 2"]
        );
        assert_eq!(record::load(rec).0.keys[1].original, "0");
        assert_eq!(record::load(rec).0.keys[1].wrote, "2");

        // rp_filter was never the agent's: dropping it from the config leaves it at 1.
        std::fs::write(root.join("net/ipv4/conf/all/rp_filter"), "1\n").unwrap();
        let report = put_back_all(&[], root, rec).unwrap();
        assert_eq!(
            lines(&report.changes),
            ["~ sysctl net.ipv4.conf.eth0/100.arp_ignore 2 -> 0 (put back: the config no longer sets it)"],
            "ip_forward is at its original already"
        );
        assert_eq!(value(root, "net/ipv4/conf/eth0.100/arp_ignore"), "0\n");
        assert_eq!(value(root, "net/ipv4/conf/all/rp_filter"), "1\n");
        assert_eq!(record::load(rec).0, Changed::default());
        assert_eq!(put_back_all(&[], root, rec).unwrap(), SysctlReport::default());
    }

    #[test]
    fn a_value_someone_else_changed_since_or_a_key_that_is_gone_is_left_alone() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n"), ("net/ipv4/conf/v0.100/arp_ignore", "0\n")]);
        let record = tempfile::tempdir().unwrap();
        let (root, rec) = (root.path(), record.path());
        let settings =
            [set(&["net", "ipv4", "ip_forward"], "1"), set(&["net", "ipv4", "conf", "v0.100", "arp_ignore"], "1")];
        set_all(&settings, root, rec).unwrap();
        std::fs::write(root.join("net/ipv4/ip_forward"), "7\n").unwrap(); // a person's value
        std::fs::remove_dir_all(root.join("net/ipv4/conf/v0.100")).unwrap();
        let report = put_back_all(&[], root, rec).unwrap();
        assert!(report.changes.is_empty(), "{:?}", report.changes);
        assert_eq!(
            report.notes,
            [
                "left sysctl net.ipv4.ip_forward at 7: it was changed after the agent set it to 1 (it was 0 before)",
                "sysctl net.ipv4.conf.v0/100.arp_ignore is gone (its interface was removed?): nothing to put back",
            ]
        );
        assert_eq!(value(root, "net/ipv4/ip_forward"), "7\n");
        assert_eq!(record::load(rec).0, Changed::default(), "both are forgotten");
    }
}
