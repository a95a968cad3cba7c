//! Pins of `tests/qemu.lock` that Debian's archive no longer has. The lab must
//! not stop working the day Debian publishes a new qemu: a pinned version that
//! is gone is replaced by the archive's current one, its .deb checked against
//! the sha256 in apt's index, and one loud line says so and how to re-pin.
//! apt's index is read through `lvs_image::index`, as `lvs-image build` reads
//! it, so the lab and the image builder judge a pin alike.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lvs_image::index;
use lvs_image::lock::Pinned;
use lvs_image::stale::{self, OnStale, Replacement};

use super::{apt_download, apt_update, candidate_version, find_deb, sha256_file, Pin, RELOCK_HINT};
use crate::lab::error::{LabError, Result};

/// The command that re-pins tests/qemu.lock.
pub const RELOCK_COMMAND: &str = "make lab-lock";

/// Downloads `missing` into `debs` in as few apt calls as it takes, and
/// returns the pins the archive no longer has. A pin apt's index does not list
/// is gone when the index lists a later version of its package (Debian keeps
/// one version per suite, and `apt-get update` would not bring it back), or
/// when it is still not listed after one `apt-get update` (the lists may only
/// have been older than the lock).
pub(super) fn download_or_gone(missing: &[Pin], debs: &Path) -> Result<Vec<Pin>> {
    let mut rest = missing.to_vec();
    let mut gone = Vec::new();
    let mut updated = false;
    loop {
        let failed = match download(&rest, debs) {
            Ok(()) => return Ok(gone),
            Err(e) => e,
        };
        let unlisted = unlisted(&rest)?;
        let newly_gone: Vec<Pin> = if updated {
            unlisted
        } else {
            let mut superseded = Vec::new();
            for pin in unlisted {
                if is_superseded(&pin)? {
                    superseded.push(pin);
                }
            }
            superseded
        };
        if newly_gone.is_empty() {
            if updated {
                return Err(gone_error(&rest, failed));
            }
            eprintln!("lab: apt-get download failed, updating the lists once: {failed}");
            apt_update()?;
            updated = true;
        }
        rest.retain(|p| !newly_gone.contains(p));
        gone.extend(newly_gone);
    }
}

fn download(pins: &[Pin], debs: &Path) -> Result<()> {
    if pins.is_empty() {
        return Ok(());
    }
    apt_download(pins, debs)
}

/// The pins apt's index does not list (one apt-cache call for all).
fn unlisted(pins: &[Pin]) -> Result<Vec<Pin>> {
    let specs: Vec<String> = pins.iter().map(|p| format!("{}={}", p.package, p.version)).collect();
    let listed = index::show(&specs).map_err(|e| from_index(&pins[0], e))?;
    Ok(pins
        .iter()
        .filter(|p| !listed.iter().any(|l| l.package == p.package && l.version == p.version))
        .cloned()
        .collect())
}

fn is_superseded(pin: &Pin) -> Result<bool> {
    match candidate_version(&pin.package)? {
        Some(now) => index::newer(&now, &pin.version).map_err(|e| from_index(pin, e)),
        None => Ok(false),
    }
}

fn gone_error(pins: &[Pin], cause: LabError) -> LabError {
    LabError::Package {
        package: pins.iter().map(|p| p.package.as_str()).collect::<Vec<_>>().join(" "),
        version: "(as pinned)".into(),
        message: format!("cannot be downloaded even after `apt-get update`: {RELOCK_HINT}\n{cause}"),
    }
}

fn from_index(pin: &Pin, e: lvs_image::Error) -> LabError {
    LabError::Package { package: pin.package.clone(), version: pin.version.clone(), message: format!("{e:#}") }
}

/// What the archive has now in place of each of `gone`: the candidate
/// version, downloaded into `debs` (one apt call for all) and checked against
/// the sha256 sums apt's index lists for it. Returns (was, now) pairs.
pub(super) fn replace(gone: &[Pin], debs: &Path) -> Result<Vec<(Pin, Pin)>> {
    let mut offers = Vec::new();
    for pin in gone {
        let version = candidate_version(&pin.package)?.ok_or_else(|| LabError::Package {
            package: pin.package.clone(),
            version: pin.version.clone(),
            message: format!("is gone from Debian's archive, and apt offers no version of it: {RELOCK_HINT}"),
        })?;
        let listed = index::sha256s(&pin.package, &version).map_err(|e| from_index(pin, e))?;
        if listed.is_empty() {
            return Err(LabError::Package {
                package: pin.package.clone(),
                version,
                message: "apt's index lists no sha256 for it, so it cannot be checked".into(),
            });
        }
        let now = Pin { sha256: String::new(), version, ..pin.clone() };
        offers.push((pin.clone(), now, listed));
    }
    let mut need = Vec::new();
    for (_, now, _) in &offers {
        if find_deb(debs, now)?.is_none() {
            need.push(now.clone());
        }
    }
    download(&need, debs)?;
    offers
        .into_iter()
        .map(|(was, mut now, listed)| {
            let deb = found(debs, &now)?;
            let sum = sha256_file(&deb)?;
            if !listed.contains(&sum) {
                return Err(LabError::Package {
                    package: now.package.clone(),
                    version: now.version.clone(),
                    message: format!(
                        "{} has sha256 {sum}, but apt's index lists {}; delete it to download it again",
                        deb.display(),
                        listed.join(" or ")
                    ),
                });
            }
            now.sha256 = sum;
            Ok((was, now))
        })
        .collect()
}

fn found(debs: &Path, pin: &Pin) -> Result<PathBuf> {
    find_deb(debs, pin)?.ok_or_else(|| LabError::Package {
        package: pin.package.clone(),
        version: pin.version.clone(),
        message: format!("downloaded, but not found in {}", debs.display()),
    })
}

/// The one line that says `lock` is stale, as `lvs-image` words it.
pub(super) fn line(lock: &Path, replaced: &[(Pin, Pin)]) -> String {
    let pinned = |p: &Pin| Pinned { name: p.package.clone(), version: p.version.clone(), sha256: p.sha256.clone() };
    let replaced: Vec<Replacement> =
        replaced.iter().map(|(was, now)| Replacement { was: pinned(was), now: pinned(now) }).collect();
    let shown = lock.strip_prefix(crate::repo_root()).unwrap_or(lock);
    format!("lab: {}", stale::line(shown, &replaced, OnStale::FallBack, RELOCK_COMMAND))
}

/// Prints `line` on this process's stderr, once per process however often it
/// comes (every image of a test run may report the same stale pin). Written
/// to the stream itself, not through `eprintln!`, which the test harness
/// captures and shows only for failing tests: a stale lock must be seen on a
/// green run too.
pub fn loud(line: &str) {
    static SHOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if shown.insert(line.to_string()) {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
