//! Debian packages unpacked into `<repo>/.cache/qemu` instead of installed:
//! `apt-get install qemu-system-x86` would remove the host's newer qemu-utils
//! (see LAB-NOTES). Versions and sha256 sums are pinned in `tests/qemu.lock`,
//! so every machine runs the same qemu and firmware; a pin the archive has
//! dropped is replaced by its current version, loudly (`stale`).

mod stale;
pub use stale::{loud, RELOCK_COMMAND};

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use super::command::run;
use super::error::{LabError, Result};

/// Where fetched packages and their unpacked trees live (git-ignored).
pub fn cache_dir() -> PathBuf {
    crate::repo_root().join(".cache").join("qemu")
}

/// `tests/qemu.lock`.
pub fn lock_path() -> PathBuf {
    crate::repo_root().join("tests").join("qemu.lock")
}

/// What to run when the lock no longer matches the mirror or the code.
pub const RELOCK_HINT: &str =
    "re-pin with `make lab-lock` (cargo run -p lvs-tests --bin lab-lock) and commit tests/qemu.lock";

/// One pinned package: `group package version sha256` in the lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// Which unpacked tree it goes into: `qemu` or `ovmf`.
    pub group: String,
    pub package: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Clone, Debug)]
pub struct Lock {
    pub pins: Vec<Pin>,
}

impl Lock {
    pub fn load() -> Result<Lock> {
        let path = lock_path();
        let text = fs::read_to_string(&path).map_err(|e| LabError::io(format!("reading {}", path.display()), e))?;
        Lock::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Lock> {
        let mut pins = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [group, package, version, sha256] = fields[..] else {
                return Err(LabError::Lock {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: format!("expected `group package version sha256`, found {line:?}"),
                });
            };
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(LabError::Lock {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: format!("{sha256:?} is not a sha256 in hex"),
                });
            }
            pins.push(Pin {
                group: group.to_string(),
                package: package.to_string(),
                version: version.to_string(),
                sha256: sha256.to_ascii_lowercase(),
            });
        }
        Ok(Lock { pins })
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Debian packages the lab harness unpacks into .cache/qemu to run qemu and OVMF\n\
             # without installing them (tests/src/lab/qemu.rs says why each is there).\n\
             # Written by `cargo run -p lvs-tests --bin lab-lock`; one pin a line:\n\
             # group package version sha256\n",
        );
        for p in &self.pins {
            out.push_str(&format!("{} {} {} {}\n", p.group, p.package, p.version, p.sha256));
        }
        out
    }

    /// The pins of `group`, checked against the package list the code expects,
    /// so that a stale lock fails with a hint instead of a missing library.
    pub fn group(&self, group: &str, expected: &[&str]) -> Result<Vec<Pin>> {
        let pins: Vec<Pin> = self.pins.iter().filter(|p| p.group == group).cloned().collect();
        let mut have: Vec<&str> = pins.iter().map(|p| p.package.as_str()).collect();
        let mut want: Vec<&str> = expected.to_vec();
        have.sort_unstable();
        want.sort_unstable();
        if have != want {
            return Err(LabError::Lock {
                path: lock_path(),
                line: 0,
                message: format!("group {group} pins {have:?} but the harness needs {want:?}: {RELOCK_HINT}"),
            });
        }
        Ok(pins)
    }
}

/// Makes sure `<cache>/<group>` holds `pins` unpacked, fetching what is
/// missing; a pin the archive no longer has is replaced by its current version
/// and said so once, on stderr. Returns the tree's root. Safe to call from
/// parallel tests and parallel test binaries: the work happens under an
/// exclusive file lock.
pub fn ensure_unpacked(group: &str, pins: &[Pin]) -> Result<PathBuf> {
    let unpacked = ensure_unpacked_in(&cache_dir(), &lock_path(), group, pins)?;
    if let Some(line) = &unpacked.stale {
        loud(line);
    }
    Ok(unpacked.root)
}

/// What [`ensure_unpacked_in`] made ready.
#[derive(Clone, Debug)]
pub struct Unpacked {
    /// The unpacked tree.
    pub root: PathBuf,
    /// The line saying which pins were stale and what replaced them, if any.
    pub stale: Option<String>,
}

/// [`ensure_unpacked`] with the cache in `cache` (downloads in `cache/debs`),
/// naming `lock` in what it says, and leaving the saying to the caller.
pub fn ensure_unpacked_in(cache: &Path, lock: &Path, group: &str, pins: &[Pin]) -> Result<Unpacked> {
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| LabError::io(format!("creating {}", debs.display()), e))?;
    let _guard = lock_cache(cache)?;

    // The stamp is the pins asked for, then the stale line when some were
    // replaced: a stale lock costs apt calls once, not on every run.
    let root = cache.join(group);
    let stamp = root.join(".lvs-lab-unpacked");
    let wanted = Lock { pins: pins.to_vec() }.render();
    if let Some(rest) = fs::read_to_string(&stamp).ok().as_deref().and_then(|s| s.strip_prefix(&wanted)) {
        match rest.strip_prefix("# ") {
            None if rest.is_empty() => return Ok(Unpacked { root, stale: None }),
            Some(line) if line.contains(lvs_image::stale::MARK) => {
                return Ok(Unpacked { root, stale: Some(line.trim_end().to_string()) })
            }
            _ => {}
        }
    }

    let started = Instant::now();
    let fetched = fetch(pins, &debs)?;
    let stale = (!fetched.replaced.is_empty()).then(|| stale::line(lock, &fetched.replaced));

    // Unpack beside the final place, then rename: a half-unpacked tree is never
    // mistaken for a complete one.
    let staging = cache.join(format!("{group}.partial"));
    remove_dir_if_present(&staging)?;
    fs::create_dir_all(&staging).map_err(|e| LabError::io(format!("creating {}", staging.display()), e))?;
    for deb in &fetched.debs {
        run("unpacking a Debian package for the lab", Command::new("dpkg-deb").arg("-x").arg(deb).arg(&staging))?;
    }
    let stamped = match &stale {
        Some(line) => format!("{wanted}# {line}\n"),
        None => wanted,
    };
    fs::write(staging.join(".lvs-lab-unpacked"), stamped)
        .map_err(|e| LabError::io(format!("writing the stamp in {}", staging.display()), e))?;
    remove_dir_if_present(&root)?;
    fs::rename(&staging, &root).map_err(|e| LabError::io(format!("moving {} into place", staging.display()), e))?;
    eprintln!(
        "lab: {group}: {} Debian packages ready in {} ({:.1} s)",
        pins.len(),
        root.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Unpacked { root, stale })
}

fn lock_cache(cache: &Path) -> Result<Flock<File>> {
    let path = cache.join(".lock");
    let file = File::create(&path).map_err(|e| LabError::io(format!("opening {}", path.display()), e))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| LabError::io(format!("locking {}", path.display()), std::io::Error::from(errno)))
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(LabError::io(format!("removing {}", dir.display()), e))
        }
        _ => Ok(()),
    }
}

/// The `.deb`s `fetch` found, and the stale pins it replaced: (pinned, used).
struct Fetched {
    debs: Vec<PathBuf>,
    replaced: Vec<(Pin, Pin)>,
}

/// The `.deb` of every pin, downloading the missing ones in one apt call
/// (apt's start-up dominates: one call per package was 14 s, one for all 1 s).
/// When apt does not know a version, its lists may just be old (one
/// `apt-get update`, one retry) or the archive has moved on: then the
/// archive's current version stands in, checked against apt's index.
fn fetch(pins: &[Pin], debs: &Path) -> Result<Fetched> {
    let mut missing = Vec::new();
    for pin in pins {
        if let Some(found) = find_deb(debs, pin)? {
            if sha256_file(&found)? == pin.sha256 {
                continue;
            }
            fs::remove_file(&found).map_err(|e| LabError::io(format!("removing stale {}", found.display()), e))?;
        }
        missing.push(pin.clone());
    }
    let gone = if missing.is_empty() { Vec::new() } else { stale::download_or_gone(&missing, debs)? };
    let replaced = if gone.is_empty() { Vec::new() } else { stale::replace(&gone, debs)? };
    let debs = pins
        .iter()
        .map(|pin| match replaced.iter().find(|(was, _)| was == pin) {
            Some((_, now)) => verified_deb(now, debs),
            None => verified_deb(pin, debs),
        })
        .collect::<Result<_>>()?;
    Ok(Fetched { debs, replaced })
}

fn verified_deb(pin: &Pin, debs: &Path) -> Result<PathBuf> {
    let found = find_deb(debs, pin)?.ok_or_else(|| LabError::Package {
        package: pin.package.clone(),
        version: pin.version.clone(),
        message: format!(
            "apt-get download succeeded but no {}_{}_*.deb appeared in {}",
            pin.package,
            escaped_version(&pin.version),
            debs.display()
        ),
    })?;
    let sum = sha256_file(&found)?;
    if sum != pin.sha256 {
        return Err(LabError::Package {
            package: pin.package.clone(),
            version: pin.version.clone(),
            message: format!("{} has sha256 {sum}, the lock says {}: {RELOCK_HINT}", found.display(), pin.sha256),
        });
    }
    Ok(found)
}

pub(crate) fn apt_download(pins: &[Pin], debs: &Path) -> Result<()> {
    let mut cmd = Command::new("apt-get");
    // apt drops to the _apt user to download, which cannot write into a
    // root-owned cache: download as ourselves.
    cmd.args(["-q", "-o", "APT::Sandbox::User=root", "download"])
        .args(pins.iter().map(|p| format!("{}={}", p.package, p.version)))
        .current_dir(debs);
    run(&format!("downloading {} pinned Debian packages", pins.len()), &mut cmd).map(|_| ())
}

/// `apt-get update`, waiting up to a minute for another apt (a parallel
/// `lvs-image build`, another user) to let go of the lists' lock: apt itself
/// gives up at once.
pub(crate) fn apt_update() -> Result<()> {
    eprintln!("lab: running apt-get update once");
    let started = Instant::now();
    loop {
        match run("refreshing the package lists", Command::new("apt-get").args(["-q", "update"])) {
            Err(LabError::Command { stderr, .. })
                if stderr.contains("Could not get lock") && started.elapsed() < Duration::from_secs(60) =>
            {
                std::thread::sleep(Duration::from_millis(500));
            }
            other => return other.map(|_| ()),
        }
    }
}

/// apt writes the epoch's colon as `%3a` in file names.
fn escaped_version(version: &str) -> String {
    version.replace(':', "%3a")
}

pub(crate) fn find_deb(debs: &Path, pin: &Pin) -> Result<Option<PathBuf>> {
    let prefix = format!("{}_{}_", pin.package, escaped_version(&pin.version));
    let entries = fs::read_dir(debs).map_err(|e| LabError::io(format!("listing {}", debs.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LabError::io(format!("listing {}", debs.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".deb") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| LabError::io(format!("opening {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| LabError::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Pins what apt would install now for `package` (running `apt-get update`
/// first if apt knows no candidate), downloading it to hash it.
pub fn resolve_pin(group: &str, package: &str, updated: &mut bool) -> Result<Pin> {
    let version = match candidate_version(package)? {
        Some(v) => v,
        None if !*updated => {
            apt_update()?;
            *updated = true;
            return resolve_pin(group, package, updated);
        }
        None => {
            return Err(LabError::Package {
                package: package.to_string(),
                version: "-".into(),
                message: "apt-cache policy shows no candidate even after apt-get update".into(),
            })
        }
    };
    let debs = cache_dir().join("debs");
    fs::create_dir_all(&debs).map_err(|e| LabError::io(format!("creating {}", debs.display()), e))?;
    let mut pin = Pin { group: group.to_string(), package: package.to_string(), version, sha256: String::new() };
    if find_deb(&debs, &pin)?.is_none() {
        apt_download(std::slice::from_ref(&pin), &debs)?;
    }
    let deb = find_deb(&debs, &pin)?.ok_or_else(|| LabError::Package {
        package: pin.package.clone(),
        version: pin.version.clone(),
        message: format!("downloaded, but not found in {}", debs.display()),
    })?;
    pin.sha256 = sha256_file(&deb)?;
    Ok(pin)
}

/// The version apt would install now (`Candidate:` of `apt-cache policy`).
pub fn candidate_version(package: &str) -> Result<Option<String>> {
    let out = run(&format!("resolving {package}"), Command::new("apt-cache").args(["policy", package]))?;
    Ok(lvs_image::index::parse_candidate(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_round_trips() {
        let text = "# c\nqemu seabios 1.16.2-1 ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n";
        let lock = Lock::parse(text, Path::new("x.lock")).expect("parses");
        assert_eq!(lock.pins.len(), 1);
        assert_eq!(lock.pins[0].sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
        let again = Lock::parse(&lock.render(), Path::new("x.lock")).expect("parses");
        assert_eq!(again.pins, lock.pins);
    }

    #[test]
    fn lock_errors_name_the_line() {
        let err = Lock::parse("\nqemu seabios 1.16.2-1\n", Path::new("x.lock")).expect_err("three fields");
        assert!(err.to_string().starts_with("x.lock:2: expected"), "{err}");
    }

    #[test]
    fn group_checks_the_package_set() {
        let sum = "0".repeat(64);
        let lock = Lock::parse(&format!("qemu a 1 {sum}\nqemu b 1 {sum}\novmf ovmf 2 {sum}\n"), Path::new("x.lock"))
            .expect("parses");
        assert_eq!(lock.group("qemu", &["b", "a"]).expect("same set").len(), 2);
        let err = lock.group("qemu", &["a"]).expect_err("b is extra");
        assert!(err.to_string().contains("lab-lock"), "{err}");
    }

    #[test]
    fn epochs_are_escaped_like_apt() {
        assert_eq!(escaped_version("1:7.2+dfsg-7"), "1%3a7.2+dfsg-7");
    }
}
