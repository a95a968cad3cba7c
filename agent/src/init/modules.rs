//! Loading the kernel modules the image lists, in order.

use super::system::System;
use nix::errno::Errno;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub ok: usize,
    /// Each failure with the module's file and the errno: all logged, none fatal.
    pub failed: Vec<(PathBuf, Errno)>,
}

/// Loads each module of `list` (one path per line, dependencies first).
/// Already loaded (EEXIST) counts as loaded; anything else is logged and the
/// next module is tried, so one bad module does not cost the others.
pub fn load_all(sys: &mut dyn System, list: &str) -> Report {
    let mut report = Report::default();
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let path = Path::new(line);
        match sys.load_module(path) {
            Ok(()) | Err(Errno::EEXIST) => report.ok += 1,
            Err(e) => {
                let why = match e {
                    // crc32c-intel under TCG, for instance: the CPU lacks what it drives.
                    Errno::ENODEV => "no such device here; harmless for drivers of absent hardware",
                    Errno::ENOENT => "the file is missing from the image",
                    Errno::ENOEXEC => "not a module for this kernel",
                    _ => "load failed",
                };
                crate::note!(warn, "module {} not loaded: {} ({e})", path.display(), why);
                report.failed.push((path.to_path_buf(), e));
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::system::MountFlags;
    use std::collections::HashMap;

    /// Answers as the kernel would for each module path; records what was asked.
    #[derive(Default)]
    struct FakeKernel {
        answers: HashMap<PathBuf, Errno>,
        loaded: Vec<PathBuf>,
    }

    impl System for FakeKernel {
        fn mount(&mut self, _: &str, _: &Path, _: &str, _: MountFlags, _: &str) -> Result<(), Errno> {
            Ok(())
        }
        fn load_module(&mut self, path: &Path) -> Result<(), Errno> {
            self.loaded.push(path.to_path_buf());
            match self.answers.get(path) {
                Some(e) => Err(*e),
                None => Ok(()),
            }
        }
        fn set_hostname(&mut self, _: &str) -> Result<(), Errno> {
            Ok(())
        }
    }

    #[test]
    fn every_module_is_tried_in_order_and_failures_are_kept() {
        let mut k = FakeKernel::default();
        k.answers.insert("/lib/modules/crc32c-intel.ko".into(), Errno::ENODEV);
        k.answers.insert("/lib/modules/nf_conntrack.ko".into(), Errno::EEXIST);
        k.answers.insert("/lib/modules/bad.ko".into(), Errno::ENOEXEC);
        let list = "/lib/modules/crc32c-intel.ko\n\n# comment\n/lib/modules/nf_conntrack.ko\n/lib/modules/bad.ko\n/lib/modules/ip_vs.ko\n";
        let report = load_all(&mut k, list);
        assert_eq!(k.loaded.len(), 4);
        assert_eq!(k.loaded.last().unwrap(), Path::new("/lib/modules/ip_vs.ko"));
        // Already loaded counts as loaded; the others are failures, and loading went on.
        assert_eq!(report.ok, 2);
        assert_eq!(
            report.failed,
            vec![
                (PathBuf::from("/lib/modules/crc32c-intel.ko"), Errno::ENODEV),
                (PathBuf::from("/lib/modules/bad.ko"), Errno::ENOEXEC)
            ]
        );
    }
}
