//! What the sysctl tests share: a temp tree laid out as /proc/sys, and
//! short ways to name settings and changes.

use super::{set_all, Setting, SysctlChange, SysctlError};
use std::path::Path;

pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, value) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, value).unwrap();
    }
    dir
}

pub fn set(key: &[&str], value: &str) -> Setting {
    Setting { key: key.iter().map(|k| k.to_string()).collect(), value: value.into() }
}

/// `set_all` with a record in a temp dir of its own.
pub fn write_all(settings: &[Setting], root: &Path) -> Result<Vec<SysctlChange>, SysctlError> {
    let record = tempfile::tempdir().unwrap();
    set_all(settings, root, record.path()).map(|r| r.changes)
}

pub fn lines(changes: &[SysctlChange]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

pub fn value(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap()
}
