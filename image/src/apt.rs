//! Debian packages through apt's own clients: `apt-get download` into the cache
//! (nothing is installed), `dpkg-deb -x` to unpack. What the archive lists is
//! asked of apt's index (`index.rs`).

use crate::command;
use crate::error::{Error, Result};
use crate::index;
use crate::lock::Pinned;
use crate::progress::{self, note};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `apt-get update` waits for another apt (a parallel build, another
/// user) to let go of the lists' lock: apt itself gives up at once.
const UPDATE_LOCK_WAIT: Duration = Duration::from_secs(120);

/// apt as the build uses it: downloads go to `debs`, and `apt-get update` runs
/// at most once per process (only when a download failed, or for `lock`).
pub struct Apt {
    debs: PathBuf,
    updated: Cell<bool>,
}

impl Apt {
    pub fn new(debs: &Path) -> Result<Apt> {
        std::fs::create_dir_all(debs).map_err(Error::io("creating", debs))?;
        Ok(Apt { debs: debs.to_path_buf(), updated: Cell::new(false) })
    }

    /// The folder the .debs are downloaded into.
    pub fn debs(&self) -> &Path {
        &self.debs
    }

    /// `apt-get update`, once.
    pub fn update(&self) -> Result<()> {
        if self.updated.replace(true) {
            return Ok(());
        }
        note("apt-get update");
        let step = Duration::from_millis(500);
        let mut waited = Duration::ZERO;
        loop {
            match command::run("apt-get", ["update"], None) {
                Err(Error::Command { stderr, .. })
                    if stderr.contains("Could not get lock") && waited < UPDATE_LOCK_WAIT =>
                {
                    std::thread::sleep(step);
                    waited += step;
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// Whether this process has run `apt-get update` (the index is today's).
    pub fn updated(&self) -> bool {
        self.updated.get()
    }

    /// `deb` if its sha256 is the one `pin` names.
    pub fn verify(&self, pin: &Pinned, deb: PathBuf) -> Result<PathBuf> {
        let actual = sha256_file(&deb)?;
        if actual != pin.sha256 {
            return Err(Error::Checksum {
                package: pin.name.clone(),
                version: pin.version.clone(),
                file: deb,
                expected: pin.sha256.clone(),
                actual,
            });
        }
        Ok(deb)
    }

    /// `package=version` as the archive's index lists it: the .deb (cached or
    /// downloaded) and its pin, whose sha256 is the file's own after it was
    /// found among those the index lists for that version. What a stale pin
    /// falls back to: nothing in the lock vouches for it, the index does.
    pub fn from_index(&self, package: &str, version: &str) -> Result<(Pinned, PathBuf)> {
        let listed = index::sha256s(package, version)?;
        if listed.is_empty() {
            return Err(Error::Resolve {
                package: format!("{package} {version}"),
                message: "apt's index lists no sha256 for it, so it cannot be checked".into(),
            });
        }
        let deb = self.get(package, version)?;
        let actual = sha256_file(&deb)?;
        if !listed.contains(&actual) {
            return Err(Error::IndexChecksum {
                package: package.to_string(),
                version: version.to_string(),
                file: deb,
                listed,
                actual,
            });
        }
        Ok((Pinned { name: package.to_string(), version: version.to_string(), sha256: actual }, deb))
    }

    /// The cached .deb of `package=version`, downloaded when missing; unchecked
    /// (callers check it against the lock or apt's index).
    pub fn get(&self, package: &str, version: &str) -> Result<PathBuf> {
        match self.cached(package, version)? {
            Some(deb) => Ok(deb),
            None => self.download(package, version),
        }
    }

    /// Downloads `package=version` (again, if it is cached) and returns the .deb;
    /// when that fails, runs `apt-get update` (once per process) and tries again.
    pub fn download(&self, package: &str, version: &str) -> Result<PathBuf> {
        match self.download_once(package, version) {
            // Old package lists are the usual cause; a version that left the
            // archive is the other, and an update does not bring that back.
            Err(_) if !self.updated.get() => {
                self.update()?;
                self.download_once(package, version)
            }
            other => other,
        }
    }

    /// One `apt-get download package=version`; a version apt's index does not
    /// list is [`Error::PackageGone`]. apt-get writes into a private folder first
    /// and the finished file is moved into the cache, so a build running beside
    /// this one never sees half a .deb.
    pub fn download_once(&self, package: &str, version: &str) -> Result<PathBuf> {
        note(format!("downloading {package} {version}"));
        let spec = format!("{package}={version}");
        let partial = tempfile::Builder::new()
            .prefix(".downloading-")
            .tempdir_in(&self.debs)
            .map_err(Error::io("creating a folder in", &self.debs))?;
        command::run("apt-get", ["download", spec.as_str()], Some(partial.path()))
            .map_err(|e| gone_or(e, package, version))?;
        let fetched = find_deb(partial.path(), package, version)?.ok_or_else(|| Error::Resolve {
            package: package.to_string(),
            message: format!("apt-get download {spec} succeeded but left no {package}_*.deb"),
        })?;
        let deb = self.debs.join(fetched.file_name().unwrap_or_default());
        std::fs::rename(&fetched, &deb).map_err(Error::io("moving into the cache", &deb))?;
        let len = std::fs::metadata(&deb).map_err(Error::io("reading", &deb))?.len();
        note(format!("downloaded {} ({})", deb.display(), progress::size(len)));
        Ok(deb)
    }

    /// The cached .deb for `package=version`, as apt-get names it
    /// (`name_version_arch.deb`, with an epoch's ':' written `%3a`).
    pub fn cached(&self, package: &str, version: &str) -> Result<Option<PathBuf>> {
        find_deb(&self.debs, package, version)
    }
}

/// The .deb apt-get left in `dir` for `package=version`.
fn find_deb(dir: &Path, package: &str, version: &str) -> Result<Option<PathBuf>> {
    let prefix = format!("{package}_{}_", version.replace(':', "%3a"));
    for entry in std::fs::read_dir(dir).map_err(Error::io("reading", dir))? {
        let entry = entry.map_err(Error::io("reading", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".deb") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// A failed download whose message says the version is not there becomes
/// [`Error::PackageGone`]; anything else (no network, disk full) stays as it was.
fn gone_or(e: Error, package: &str, version: &str) -> Error {
    match e {
        Error::Command { stderr, .. }
            if ["was not found", "Can't find a source", "Unable to locate package"]
                .iter()
                .any(|m| stderr.contains(m)) =>
        {
            Error::PackageGone { package: package.to_string(), version: version.to_string(), detail: stderr }
        }
        other => other,
    }
}

/// Unpacks a .deb into `dest` (as `dpkg-deb -x`, nothing installed), once: an
/// existing `dest` is taken as done, since it only appears after a full unpack.
pub fn unpack(deb: &Path, dest: &Path) -> Result<()> {
    if dest.is_dir() {
        return Ok(());
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io("creating", parent))?;
    let partial = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(parent)
        .map_err(Error::io("creating a folder in", parent))?;
    note(format!("unpacking {}", deb.display()));
    command::run("dpkg-deb", ["-x".as_ref(), deb.as_os_str(), partial.path().as_os_str()], None)?;
    match std::fs::rename(partial.path(), dest) {
        Ok(()) => {
            // Moved: nothing left for the TempDir to delete.
            let _ = partial.keep();
            Ok(())
        }
        // A build running beside this one finished the same unpack first.
        Err(_) if dest.is_dir() => Ok(()),
        Err(e) => Err(Error::io("renaming into place", dest)(e)),
    }
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(Error::io("opening", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("abc");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(sha256_file(&file).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_vanished_version_names_the_package_and_the_fix() {
        let failed = Error::Command {
            command: "apt-get download x=1".into(),
            status: "exit status: 100".into(),
            stderr: "E: Version '1' for 'x' was not found\n".into(),
        };
        let text = gone_or(failed, "x", "1").to_string();
        assert!(text.starts_with("x 1 can no longer be downloaded"), "{text}");
        assert!(text.contains("run `lvs-image lock`"), "{text}");
        assert!(text.contains("| E: Version '1' for 'x' was not found"), "{text}");
    }
}
