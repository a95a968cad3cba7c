//! Reading a file that must not be bigger than a cap, without reading more
//! than the cap: every file the agent reads on someone else's word (a config,
//! a tried config, a weight request, its state file, `restore`'s input) goes
//! through here, so that a 200 MB file costs a refusal, not 200 MB of memory.
//!
//! Each cap lives beside the file it is for: the state file's and the run-dir
//! records' in their [`crate::record::Kind`], a weight request's in
//! `run::weight_requests`, the config's here.

use lvs_config::{ConfigError, Diagnostic, Loaded, Severity};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest config file (and tried config) the agent reads: lvs-config's
/// cap, which `lvs_config::load` and `parse` apply too.
pub const CONFIG_MAX_BYTES: u64 = lvs_config::MAX_CONFIG_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum CappedReadError {
    /// `error` is not a `source`: the message already says it, and anyhow
    /// would say it twice.
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{} is {}, more than a {what} may be ({cap} bytes at most)", path.display(), Size(*size, *cap))]
    TooBig {
        path: PathBuf,
        what: &'static str,
        /// Its length when it is a regular file; None for a pipe or a device,
        /// of which only the cap and one byte more were read.
        size: Option<u64>,
        cap: u64,
    },
}

/// A file's size for a message: "5000000 bytes", or "over 4194304 bytes"
/// (the cap) when the length is not known.
pub struct Size(pub Option<u64>, pub u64);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(size) => write!(f, "{size} bytes"),
            None => write!(f, "over {} bytes", self.1),
        }
    }
}

impl CappedReadError {
    /// The file does not exist: for callers to whom that means "nothing yet".
    pub fn is_not_found(&self) -> bool {
        matches!(self, CappedReadError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }
}

/// The bytes of `path`, a `what` ("state file") of at most `cap` bytes. Reads
/// at most `cap` + 1 bytes, whatever the file's size.
pub fn read(path: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, CappedReadError> {
    let io = |error| CappedReadError::Io { path: path.to_path_buf(), error };
    let file = File::open(path).map_err(io)?;
    let length = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    let too_big = |size| CappedReadError::TooBig { path: path.to_path_buf(), what, size, cap };
    if let Some(size) = length.filter(|l| *l > cap) {
        return Err(too_big(Some(size)));
    }
    let mut bytes = Vec::with_capacity(length.map_or(0, |l| usize::try_from(l).unwrap_or(0)));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        // It grew while being read, or it is not a regular file.
        return Err(too_big(length.filter(|l| *l > cap)));
    }
    Ok(bytes)
}

/// The config at `path`, read with [`CONFIG_MAX_BYTES`] as its cap, then
/// validated: `lvs_config::load`, bounded. Every config the agent and its
/// command line read goes through here (or [`read_config`]).
pub fn load_config(path: &Path) -> Result<Loaded, ConfigError> {
    lvs_config::parse(&read_config(path)?, path)
}

/// The text of the config at `path`. One that cannot be read is
/// `ConfigError::Read` (exit status 1); one over the cap is wrong input,
/// `ConfigError::Invalid` (exit status 2), naming its size and the cap.
pub fn read_config(path: &Path) -> Result<String, ConfigError> {
    match read_to_string(path, CONFIG_MAX_BYTES, "config file") {
        Ok(text) => Ok(text),
        Err(CappedReadError::Io { path, error }) => Err(ConfigError::Read { path, source: error }),
        Err(CappedReadError::TooBig { path, size, cap, .. }) => Err(ConfigError::Invalid {
            errors: vec![Diagnostic {
                severity: Severity::Error,
                file: path,
                position: None,
                path: None,
                message: format!(
                    "the file is {}, more than a config file may be ({cap} bytes at most)",
                    Size(size, cap)
                ),
                help: Some("a config is a few kilobytes, rarely a megabyte: is this the right file?".to_string()),
            }],
            warnings: Vec::new(),
        }),
    }
}

/// The same, as text: a file that is not UTF-8 is an error of kind
/// `InvalidData`, as with `std::fs::read_to_string`.
pub fn read_to_string(path: &Path, cap: u64, what: &'static str) -> Result<String, CappedReadError> {
    let bytes = read(path, cap, what)?;
    String::from_utf8(bytes).map_err(|e| CappedReadError::Io {
        path: path.to_path_buf(),
        error: io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_cap_and_names_file_size_and_cap_beyond_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read(&path, 5, "test file").unwrap(), b"12345");
        assert_eq!(read_to_string(&path, 5, "test file").unwrap(), "12345");
        let e = read(&path, 4, "test file").unwrap_err();
        assert!(matches!(e, CappedReadError::TooBig { size: Some(5), cap: 4, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("{} is 5 bytes, more than a test file may be (4 bytes at most)", path.display())
        );
    }

    #[test]
    fn a_big_sparse_file_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge");
        // 64 GiB on paper, nothing on disk: reading it whole would take the machine down.
        File::create(&path).unwrap().set_len(64 << 30).unwrap();
        let e = read(&path, CONFIG_MAX_BYTES, "config file").unwrap_err();
        assert!(matches!(e, CappedReadError::TooBig { size: Some(68_719_476_736), .. }), "{e:?}");
    }

    #[test]
    fn a_stream_is_read_to_the_cap_and_one_byte_more() {
        // /dev/zero has no length and no end.
        let e = read(Path::new("/dev/zero"), 1000, "weight request").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero is over 1000 bytes, more than a weight request may be (1000 bytes at most)"
        );
    }

    #[test]
    fn a_config_over_the_cap_is_invalid_and_a_missing_one_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appliance.ron");
        std::fs::write(&path, "Appliance(role: Director(services: []))").unwrap();
        assert!(load_config(&path).is_ok());
        File::create(&path).unwrap().set_len(CONFIG_MAX_BYTES + 1).unwrap();
        let e = load_config(&path).unwrap_err();
        assert!(matches!(e, ConfigError::Invalid { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: error: the file is 4194305 bytes, more than a config file may be (4194304 bytes at most)\n  \
                 help: a config is a few kilobytes, rarely a megabyte: is this the right file?",
                path.display()
            )
        );
        let e = load_config(&dir.path().join("none.ron")).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    }

    #[test]
    fn missing_and_not_text_are_io_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none");
        let e = read(&missing, 10, "state file").unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert!(e.to_string().starts_with(&format!("cannot read {}: ", missing.display())), "{e}");
        let binary = dir.path().join("bin");
        std::fs::write(&binary, b"\xff\xfe").unwrap();
        let e = read_to_string(&binary, 10, "config file").unwrap_err();
        assert!(matches!(&e, CappedReadError::Io { error, .. } if error.kind() == io::ErrorKind::InvalidData));
        assert!(!e.is_not_found());
    }
}
