//! Kernel settings under /proc/sys: `net.ipv4.ip_forward` and the
//! `net.ipv4.vs.*` knobs on a director; ARP suppression and rp_filter on a real
//! server.
//!
//! Written with std, not the `sysctl` crate: that crate turns every dot of a
//! name into a directory, which breaks interface names such as `eth0.100`.
//! Here a setting is a list of path components, so `eth0.100` stays one. The
//! root is injected: `/proc/sys` on a machine, a temp dir in tests. Under
//! /proc/sys/net the kernel shows the calling thread's network namespace.
//!
//! The agent keeps a record of each key it changed and of the value it found
//! there first ([`record`]): `put_back` restores a key the config no longer
//! sets, and keys the agent never changed are never touched.

pub mod desired;
pub mod record;

pub use desired::Setting;

use lvs_config::model::Appliance;
use record::{Changed, Entry};
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
    pub name: String,
    pub value: String,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
    pub hint: String,
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

/// The record, and whether its file must be written even if it looks unchanged.
struct Book<'a> {
    dir: &'a Path,
    changed: Changed,
    on_disk: Option<Changed>,
    failed: bool,
}

impl<'a> Book<'a> {
    fn open(dir: &'a Path, notes: &mut Vec<String>) -> Self {
        let (changed, warning) = record::load(dir);
        let on_disk = if warning.is_some() { None } else { Some(changed.clone()) };
        notes.extend(warning);
        Book { dir, changed, on_disk, failed: false }
    }

    /// Writes the record when it differs from the file. Only the first
    /// failure is reported: the rest would say the same.
    fn store(&mut self, failures: &mut Vec<SysctlFailure>) {
        if self.on_disk.as_ref() == Some(&self.changed) || self.failed {
            return;
        }
        match record::store(self.dir, &self.changed) {
            Ok(()) => self.on_disk = Some(self.changed.clone()),
            Err(e) => {
                self.failed = true;
                let source = e.into_io();
                failures.push(SysctlFailure {
                    what: "record the sysctls the agent changed and their original values".into(),
                    name: String::new(),
                    value: String::new(),
                    path: record::path(self.dir),
                    source,
                    hint: "the values are set all the same, but those changed now will not be put back \
                           when the config stops setting them: make the run directory writable"
                        .into(),
                });
            }
        }
    }
}

fn finish(report: SysctlReport, failures: Vec<SysctlFailure>) -> Result<SysctlReport, SysctlError> {
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(SysctlError { failures, applied: report.changes, notes: report.notes })
    }
}

pub fn set_all(settings: &[Setting], root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    let mut report = SysctlReport::default();
    let mut failures = Vec::new();
    let mut book = Book::open(record_dir, &mut report.notes);
    for s in settings {
        let name = desired::display_name(&s.key);
        let fail = |what: String, path: &Path, source: std::io::Error| SysctlFailure {
            hint: hint(&s.key, &source),
            what,
            name: name.clone(),
            value: s.value.clone(),
            path: path.to_path_buf(),
            source,
        };
        let setting = format!("set sysctl {name} to {}", s.value);
        let path = match key_path(root, &s.key) {
            Ok(p) => p,
            Err((p, e)) => {
                failures.push(fail(setting, &p, e));
                continue;
            }
        };
        let current = match read(&path) {
            Ok(v) => v,
            Err(e) => {
                failures.push(fail(setting, &path, e));
                continue;
            }
        };
        if current != s.value {
            let first = book.changed.get_mut(&s.key).is_none();
            if first {
                // The original goes on record before it is overwritten.
                book.changed.keys.push(Entry { key: s.key.clone(), original: current.clone(), wrote: s.value.clone() });
                book.store(&mut failures);
            }
            if let Err(e) = write(&path, &s.value) {
                failures.push(fail(setting, &path, e));
                if first {
                    book.changed.remove(&s.key);
                }
                continue;
            }
            report.changes.push(SysctlChange {
                name: name.clone(),
                from: current,
                to: s.value.clone(),
                put_back: false,
            });
        }
        if let Some(entry) = book.changed.get_mut(&s.key) {
            entry.wrote = s.value.clone();
        }
        book.store(&mut failures);
    }
    // A garbled record is replaced even when nothing changed.
    book.store(&mut failures);
    finish(report, failures)
}

pub fn put_back_all(settings: &[Setting], root: &Path, record_dir: &Path) -> Result<SysctlReport, SysctlError> {
    let mut report = SysctlReport::default();
    let mut failures = Vec::new();
    let mut book = Book::open(record_dir, &mut report.notes);
    let dropped: Vec<Entry> =
        book.changed.keys.iter().filter(|e| !settings.iter().any(|s| s.key == e.key)).cloned().collect();
    for entry in dropped {
        let name = desired::display_name(&entry.key);
        let what = format!("put sysctl {name} back to {}", entry.original);
        let fail = |path: &Path, source: std::io::Error| SysctlFailure {
            hint: hint(&entry.key, &source),
            what: what.clone(),
            name: name.clone(),
            value: entry.original.clone(),
            path: path.to_path_buf(),
            source,
        };
        let current =
            match key_path(root, &entry.key).and_then(|p| read(&p).map(|v| (p.clone(), v)).map_err(|e| (p, e))) {
                Ok((path, current)) => Some((path, current)),
                Err((_, e)) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err((path, e)) => {
                    // Kept in the record: the next apply tries again.
                    failures.push(fail(&path, e));
                    continue;
                }
            };
        match current {
            None => {
                report.notes.push(format!("sysctl {name} is gone (its interface was removed?): nothing to put back"))
            }
            Some((_, current)) if current == entry.original => {}
            Some((path, current)) if current == entry.wrote => {
                if let Err(e) = write(&path, &entry.original) {
                    failures.push(fail(&path, e));
                    continue;
                }
                report.changes.push(SysctlChange {
                    name: name.clone(),
                    from: current,
                    to: entry.original.clone(),
                    put_back: true,
                });
            }
            Some((_, current)) => report.notes.push(format!(
                "left sysctl {name} at {current}: it was changed after the agent set it to {} (it was {} before)",
                entry.wrote, entry.original
            )),
        }
        book.changed.remove(&entry.key);
        book.store(&mut failures);
    }
    finish(report, failures)
}

/// The file of `key` under `root`. The validator allows no '/' in interface
/// names; a component that would leave the tree is refused, not followed.
fn key_path(root: &Path, key: &[String]) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let mut path = root.to_path_buf();
    for c in key {
        if c.is_empty() || c == "." || c == ".." || c.contains('/') {
            let e =
                std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("`{c}` is not a sysctl name component"));
            return Err((path, e));
        }
        path.push(c);
    }
    Ok(path)
}

fn read(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    // No create: a sysctl that does not exist is an error, not a new file.
    let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(path)?;
    f.write_all(format!("{value}\n").as_bytes())
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

    /// `set_all` with a record in a temp dir of its own.
    fn write_all(settings: &[Setting], root: &Path) -> Result<Vec<SysctlChange>, SysctlError> {
        let record = tempfile::tempdir().unwrap();
        set_all(settings, root, record.path()).map(|r| r.changes)
    }

    fn lines(changes: &[SysctlChange]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    fn value(root: &Path, path: &str) -> String {
        std::fs::read_to_string(root.join(path)).unwrap()
    }

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

    #[test]
    fn a_record_that_cannot_be_written_is_an_error_but_the_values_are_set() {
        let root = tree(&[("net/ipv4/ip_forward", "0\n"), ("net/ipv4/conf/all/arp_ignore", "0\n")]);
        let blocker = tempfile::NamedTempFile::new().unwrap(); // a file where the record's folder should be
        let settings =
            [set(&["net", "ipv4", "ip_forward"], "1"), set(&["net", "ipv4", "conf", "all", "arp_ignore"], "1")];
        let err = set_all(&settings, root.path(), &blocker.path().join("sysctl")).unwrap_err();
        assert_eq!(err.failures.len(), 1, "{err}");
        assert!(err.to_string().starts_with("cannot record the sysctls the agent changed"), "{err}");
        assert!(err.to_string().contains("will not be put back"), "{err}");
        assert_eq!(err.applied.len(), 2);
        assert_eq!(value(root.path(), "net/ipv4/ip_forward"), "1\n");
    }

    #[test]
    fn a_refused_write_is_not_recorded() {
        // A read-only sysctl, even for root, stands in for one the kernel refuses.
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("kernel")).unwrap();
        std::os::unix::fs::symlink("/proc/sys/kernel/ostype", root.path().join("kernel/ostype")).unwrap();
        let record = tempfile::tempdir().unwrap();
        let err = set_all(&[set(&["kernel", "ostype"], "Plan9")], root.path(), record.path()).unwrap_err();
        assert!(err.to_string().starts_with("cannot set sysctl kernel.ostype to Plan9"), "{err}");
        assert!(err.applied.is_empty());
        assert_eq!(record::load(record.path()).0, Changed::default());
        assert_eq!(put_back_all(&[], root.path(), record.path()).unwrap(), SysctlReport::default());
    }

    #[test]
    fn a_dotted_interface_is_one_directory() {
        let root = tree(&[("net/ipv4/conf/eth0.100/arp_ignore", "0\n")]);
        let changes = write_all(&[set(&["net", "ipv4", "conf", "eth0.100", "arp_ignore"], "1")], root.path()).unwrap();
        assert_eq!(lines(&changes), ["~ sysctl net.ipv4.conf.eth0/100.arp_ignore 0 -> 1"]);
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
