//! Carries out the plan's steps under the root: writes each value, keeps the
//! record (a key's original goes on record before the agent's first write of
//! it) and collects failures rather than stopping at the first, since the
//! settings do not depend on one another.

use super::desired::display_name;
use super::error::{SysctlError, SysctlFailure};
use super::observed::{key_path, Observed};
use super::plan::Step;
use super::record::{self, Changed, Entry};
use super::{SysctlChange, SysctlReport};
use std::io::Write;
use std::path::Path;

pub struct Exec<'a> {
    root: &'a Path,
    record_dir: &'a Path,
    record: Changed,
    /// What the record's file holds; None when it is damaged, so that it is
    /// replaced even when nothing changes.
    on_disk: Option<Changed>,
    record_failed: bool,
    report: SysctlReport,
    failures: Vec<SysctlFailure>,
}

impl<'a> Exec<'a> {
    /// Reads the record under `record_dir`; a warning about it becomes a note.
    pub fn open(root: &'a Path, record_dir: &'a Path) -> Exec<'a> {
        let (record, warning) = record::load(record_dir);
        let on_disk = if warning.is_some() { None } else { Some(record.clone()) };
        let report = SysctlReport { notes: warning.into_iter().collect(), ..SysctlReport::default() };
        Exec { root, record_dir, record, on_disk, record_failed: false, report, failures: Vec::new() }
    }

    pub fn record(&self) -> &Changed {
        &self.record
    }

    /// Carries out `steps` in order; the record is written after each one
    /// that changes it. `observed` gives up the read errors it reports.
    pub fn run(&mut self, steps: Vec<Step>, observed: &mut Observed) {
        for step in steps {
            self.step(step, observed);
            self.store_record();
        }
    }

    fn step(&mut self, step: Step, observed: &mut Observed) {
        match step {
            Step::Set { key, from, to } => {
                let first = self.record.get(&key).is_none();
                if first {
                    // The original goes on record before it is overwritten.
                    self.record.keys.push(Entry { key: key.clone(), original: from.clone(), wrote: to.clone() });
                    self.store_record();
                }
                if let Err((path, e)) = key_path(self.root, &key).and_then(|p| write(&p, &to).map_err(|e| (p, e))) {
                    self.failures.push(SysctlFailure::key(&key, false, &to, path, e));
                    if first {
                        self.record.remove(&key);
                    }
                    return;
                }
                self.report.changes.push(SysctlChange {
                    name: display_name(&key),
                    from,
                    to: to.clone(),
                    put_back: false,
                });
                if let Some(entry) = self.record.get_mut(&key) {
                    entry.wrote = to;
                }
            }
            Step::Keep { key, value } => {
                if let Some(entry) = self.record.get_mut(&key) {
                    entry.wrote = value;
                }
            }
            Step::PutBack { key, from, to } => {
                if let Err((path, e)) = key_path(self.root, &key).and_then(|p| write(&p, &to).map_err(|e| (p, e))) {
                    // Kept in the record: the next call tries again.
                    self.failures.push(SysctlFailure::key(&key, true, &to, path, e));
                    return;
                }
                self.report.changes.push(SysctlChange { name: display_name(&key), from, to, put_back: true });
                self.record.remove(&key);
            }
            Step::Leave { key, note } => {
                self.report.notes.push(note);
                self.record.remove(&key);
            }
            Step::Forget { key, note } => {
                self.report.notes.extend(note);
                self.record.remove(&key);
            }
            Step::CannotRead { key, put_back, value } => {
                if let Some((path, e)) = observed.take_error(&key) {
                    self.failures.push(SysctlFailure::key(&key, put_back, &value, path, e));
                }
            }
        }
    }

    /// Writes the record when it differs from the file. Only the first
    /// failure is reported: the rest would say the same.
    pub fn store_record(&mut self) {
        if self.on_disk.as_ref() == Some(&self.record) || self.record_failed {
            return;
        }
        match record::store(self.record_dir, &self.record) {
            Ok(()) => self.on_disk = Some(self.record.clone()),
            Err(e) => {
                self.record_failed = true;
                self.failures.push(SysctlFailure::record(record::path(self.record_dir), e.into_io()));
            }
        }
    }

    pub fn finish(self) -> Result<SysctlReport, SysctlError> {
        if self.failures.is_empty() {
            Ok(self.report)
        } else {
            Err(SysctlError { failures: self.failures, applied: self.report.changes, notes: self.report.notes })
        }
    }
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    // No create: a sysctl that does not exist is an error, not a new file.
    let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(path)?;
    f.write_all(format!("{value}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use crate::sysctl::fixture::{set, tree, value};
    use crate::sysctl::record::{self, Changed};
    use crate::sysctl::{put_back_all, set_all, SysctlReport};

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
    fn a_damaged_record_is_replaced_even_when_nothing_changes() {
        let root = tree(&[("net/ipv4/ip_forward", "1\n")]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(record::path(dir.path()), "garbage").unwrap();
        let report = set_all(&[set(&["net", "ipv4", "ip_forward"], "1")], root.path(), dir.path()).unwrap();
        assert!(report.changes.is_empty());
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert!(report.notes[0].contains("no sysctl changed before is put back"), "{:?}", report.notes);
        assert_eq!(record::load(dir.path()), (Changed::default(), None));
    }
}
