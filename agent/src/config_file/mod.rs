//! Writing the config file so that it lasts: on the appliance the config
//! partition is mounted read-only, and a power cut during a write must leave
//! a whole file behind.
//!
//! STUB (issue 14 foundation): the signatures other parts code against.

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
}

impl ConfigFile {
    /// Writes `text` as the config, keeping the file before as `<path>.prev`.
    pub fn write(&self, text: &str) -> Result<(), WriteError> {
        let _ = (text, Path::new(PREV_SUFFIX));
        Err(WriteError::Io { path: self.path.clone(), source: std::io::Error::other("not built yet") })
    }
}
