//! Writing the config file so that it lasts: on the appliance the config
//! partition is mounted read-only, and a power cut during a write must leave
//! a whole file behind.
//!
//! The order, each step durable before the next: remount read-write; the new
//! text to `.NAME.tmp`, synced; the current file (when it is a valid config)
//! copied to `NAME.prev` through `.NAME.prev.tmp`, synced and renamed, so
//! that `.prev` is whole at every instant; `.NAME.tmp` renamed over the file;
//! the folder synced; remounted read-only, also when a step failed. Before
//! the last rename the file is the old one, after it the new one, and `.prev`
//! is whole throughout: a boot that reads the file, else `.prev`, finds a
//! whole config, old or new.

mod disk;
#[cfg(test)]
mod tests;

pub use disk::{Disk, Linux};

use nix::errno::Errno;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The file beside the config that holds the one before it.
pub const PREV_SUFFIX: &str = ".prev";

/// Where the config lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// The mount point of a read-only file system to remount read-write for
    /// the write (the appliance's /config); None when it is writable as is.
    pub remount: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot remount {} {}: {errno}", mount_point.display(), if *read_only { "read-only" } else { "read-write" })]
    Remount { mount_point: PathBuf, read_only: bool, errno: Errno },
}

impl ConfigFile {
    /// Writes `text` as the config, keeping the file before as `<path>.prev`.
    pub fn write(&self, text: &str) -> Result<(), WriteError> {
        self.write_with(&mut Linux, text)
    }

    /// [`ConfigFile::write`] through `disk`.
    pub fn write_with(&self, disk: &mut dyn Disk, text: &str) -> Result<(), WriteError> {
        let Some(mount_point) = &self.remount else { return self.replace(disk, text) };
        disk.remount(mount_point, false).map_err(|errno| WriteError::Remount {
            mount_point: mount_point.clone(),
            read_only: false,
            errno,
        })?;
        let written = self.replace(disk, text);
        let back = disk.remount(mount_point, true).map_err(|errno| WriteError::Remount {
            mount_point: mount_point.clone(),
            read_only: true,
            errno,
        });
        match (written, back) {
            (Err(e), Err(also)) => {
                crate::note!(error, "config: {also} after a failed write");
                Err(e)
            }
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    /// `<path>.prev`.
    pub fn prev(&self) -> PathBuf {
        beside(&self.path, "", PREV_SUFFIX)
    }

    fn replace(&self, disk: &mut dyn Disk, text: &str) -> Result<(), WriteError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io { path, source }
        };
        let tmp = beside(&self.path, ".", ".tmp");
        disk.write(&tmp, text.as_bytes()).map_err(io(&tmp))?;
        disk.sync(&tmp).map_err(io(&tmp))?;
        self.keep_current(disk)?;
        disk.rename(&tmp, &self.path).map_err(io(&self.path))?;
        let dir = folder(&self.path);
        disk.sync_dir(dir).map_err(io(dir))
    }

    /// Copies the current file to `.prev` when it is a valid config; one that
    /// is not (damaged by hand, or missing) leaves the `.prev` there is, the
    /// last good one, which a boot falls back to.
    fn keep_current(&self, disk: &mut dyn Disk) -> Result<(), WriteError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io { path, source }
        };
        let Some(current) = disk.read(&self.path, lvs_config::MAX_CONFIG_BYTES).map_err(io(&self.path))? else {
            return Ok(());
        };
        let valid = std::str::from_utf8(&current).is_ok_and(|text| lvs_config::parse(text, &self.path).is_ok());
        if !valid {
            crate::note!(
                warn,
                "config: {} is not a valid config; {} keeps the one before",
                self.path.display(),
                self.prev().display()
            );
            return Ok(());
        }
        let prev = self.prev();
        let tmp = beside(&self.path, ".", &format!("{PREV_SUFFIX}.tmp"));
        disk.write(&tmp, &current).map_err(io(&tmp))?;
        disk.sync(&tmp).map_err(io(&tmp))?;
        disk.rename(&tmp, &prev).map_err(io(&prev))
    }
}

/// `dir/<before>NAME<after>` for `dir/NAME`.
fn beside(path: &Path, before: &str, after: &str) -> PathBuf {
    let mut name = OsString::from(before);
    name.push(path.file_name().unwrap_or_default());
    name.push(after);
    folder(path).join(name)
}

fn folder(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}
