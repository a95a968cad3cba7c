//! The default kernel and EFI stub: Debian's packages as pinned in
//! `image/kernel.lock`, downloaded and unpacked into the cache once. A pin the
//! archive no longer has is refused, or replaced by the archive's current
//! version, as the caller's [`OnStale`] says.

use crate::apt::{self, Apt};
use crate::error::{Error, Result};
use crate::index;
use crate::lock::{KernelLock, Pinned};
use crate::progress::note;
use crate::stale::{OnStale, Replacement};
use std::path::{Path, PathBuf};

/// The meta package whose current kernel `lvs-image lock` pins.
pub const FLAVOUR: &str = "linux-image-cloud-amd64";
/// The package holding `linuxx64.efi.stub`.
pub const STUB_PACKAGE: &str = "systemd-boot-efi";
/// Where that package keeps the stub.
const STUB_PATH: &str = "usr/lib/systemd/boot/efi/linuxx64.efi.stub";

/// Something fetched for a build, and the stale pin it replaced, if any.
#[derive(Clone, Debug)]
pub struct Fetched<T> {
    pub value: T,
    pub replaced: Option<Replacement>,
}

/// What a pin stands for, which says what takes its place once the archive
/// has moved on: the same package's newer version, or (for a kernel, whose
/// package name carries its ABI) whatever the flavour's meta package points at.
#[derive(Clone, Copy, Debug)]
enum Lineage<'a> {
    Package,
    Flavour(&'a str),
}

/// The cache's layout: `debs/` for downloads, `unpacked/<name>_<version>/` trees.
fn unpacked(cache: &Path, pin: &Pinned) -> PathBuf {
    cache.join("unpacked").join(format!("{}_{}", pin.name, pin.version.replace(':', "%3a")))
}

/// The kernel tree (Debian's layout) for the lock's kernel.
pub fn kernel(apt: &Apt, cache: &Path, lock: &KernelLock, on_stale: OnStale) -> Result<Fetched<PathBuf>> {
    package(apt, cache, &lock.kernel, Lineage::Flavour(&lock.flavour), on_stale)
}

/// `linuxx64.efi.stub` from the lock's systemd-boot-efi.
pub fn stub(apt: &Apt, cache: &Path, lock: &KernelLock, on_stale: OnStale) -> Result<Fetched<PathBuf>> {
    let tree = package(apt, cache, &lock.stub, Lineage::Package, on_stale)?;
    let used = tree.replaced.as_ref().map_or(&lock.stub, |r| &r.now);
    let stub = tree.value.join(STUB_PATH);
    if stub.is_file() {
        Ok(Fetched { value: stub, replaced: tree.replaced })
    } else {
        Err(Error::Resolve {
            package: format!("{} {}", used.name, used.version),
            message: format!("has no {STUB_PATH}"),
        })
    }
}

/// Downloads (when needed), verifies and unpacks a pinned package, or what
/// replaces it when it is stale and `on_stale` allows; returns its tree.
fn package(apt: &Apt, cache: &Path, pin: &Pinned, lineage: Lineage, on_stale: OnStale) -> Result<Fetched<PathBuf>> {
    // The unpacked tree is only trusted next to a .deb that still matches the lock
    // (or, for a replacement, apt's index).
    if on_stale != OnStale::Refuse {
        if let Some((now, deb)) = recorded(apt, pin)? {
            let dest = unpacked(cache, &now);
            apt::unpack(&deb, &dest)?;
            return Ok(Fetched { value: dest, replaced: Some(Replacement { was: pin.clone(), now }) });
        }
    }
    let (deb, used, replaced) = match locked(apt, pin, lineage)? {
        Locked::Deb(deb) => (deb, pin.clone(), None),
        Locked::Gone { why, .. } if on_stale == OnStale::Refuse => {
            return Err(Error::PackageGone { package: pin.name.clone(), version: pin.version.clone(), detail: why })
        }
        Locked::Gone { why, offer: known } => {
            let offered = match known {
                Some(offer) => Some(offer),
                None => offer(pin, lineage)?,
            };
            let (name, version) = offered.ok_or_else(|| Error::Resolve {
                package: format!("{} {}", pin.name, pin.version),
                message: format!("is gone from Debian's archive ({why}) and apt offers nothing in its place"),
            })?;
            let (now, deb) = apt.from_index(&name, &version)?;
            record(apt, pin, &now)?;
            (deb, now.clone(), Some(Replacement { was: pin.clone(), now }))
        }
    };
    let dest = unpacked(cache, &used);
    apt::unpack(&deb, &dest)?;
    Ok(Fetched { value: dest, replaced })
}

/// Where a build that replaced a stale pin notes what it used, so that later
/// builds on this cache (the lab builds dozens of images) take the same file
/// without asking apt again: `debs/<name>_<version>.stale` beside the .debs,
/// holding the replacement's pin, whose sha256 was checked against apt's index.
fn record_path(apt: &Apt, pin: &Pinned) -> PathBuf {
    apt.debs().join(format!("{}_{}.stale", pin.name, pin.version.replace(':', "%3a")))
}

fn record(apt: &Apt, pin: &Pinned, now: &Pinned) -> Result<()> {
    let path = record_path(apt, pin);
    // Plain strings in a plain struct: serializing cannot fail.
    let text = ron::to_string(now).unwrap_or_default();
    std::fs::write(&path, text).map_err(Error::io("writing", &path))
}

/// The replacement an earlier build recorded for `pin`, with its cached .deb
/// checked against the recorded sha256; None when the pinned .deb itself is
/// cached, or nothing (or nothing readable, or no file) was recorded.
fn recorded(apt: &Apt, pin: &Pinned) -> Result<Option<(Pinned, PathBuf)>> {
    if apt.cached(&pin.name, &pin.version)?.is_some() {
        return Ok(None);
    }
    let Ok(text) = std::fs::read_to_string(record_path(apt, pin)) else { return Ok(None) };
    let Ok(now) = ron::from_str::<Pinned>(&text) else { return Ok(None) };
    match apt.cached(&now.name, &now.version)? {
        Some(deb) => Ok(Some((now.clone(), apt.verify(&now, deb)?))),
        None => Ok(None),
    }
}

/// A pin's .deb, or why the archive no longer has it (and what it offers
/// instead, when that was already asked).
enum Locked {
    Deb(PathBuf),
    Gone { why: String, offer: Option<(String, String)> },
}

/// The pinned .deb, from the cache or downloaded, checked against the lock; or
/// Gone when the archive no longer has that version. A version apt's index does
/// not list is gone when the index lists a later one in the pin's place (Debian
/// keeps one version per suite, so `apt-get update` would not bring it back),
/// or when it is still not listed after `apt-get update` (the lists may only
/// have been older than the lock).
fn locked(apt: &Apt, pin: &Pinned, lineage: Lineage) -> Result<Locked> {
    if let Some(deb) = apt.cached(&pin.name, &pin.version)? {
        return apt.verify(pin, deb).map(Locked::Deb);
    }
    let first = match apt.download_once(&pin.name, &pin.version) {
        Ok(deb) => return apt.verify(pin, deb).map(Locked::Deb),
        Err(e) => e,
    };
    if let Error::PackageGone { .. } = first {
        // What the archive offers only decides whether an update is worth
        // running: a meta package the lists do not know yet is no reason to stop.
        if let Some((name, version)) = offer(pin, lineage).ok().flatten() {
            if index::newer(&version, &pin.version)? {
                let why = format!("apt's index lists {name} {version} in its place");
                return Ok(Locked::Gone { why, offer: Some((name, version)) });
            }
        }
    }
    if !apt.updated() {
        apt.update()?;
        return match apt.download_once(&pin.name, &pin.version) {
            Ok(deb) => apt.verify(pin, deb).map(Locked::Deb),
            Err(Error::PackageGone { detail, .. }) => Ok(Locked::Gone { why: detail, offer: None }),
            Err(e) => Err(e),
        };
    }
    match first {
        Error::PackageGone { detail, .. } => Ok(Locked::Gone { why: detail, offer: None }),
        e => Err(e),
    }
}

/// What the archive offers now in `pin`'s place: (package, version).
fn offer(pin: &Pinned, lineage: Lineage) -> Result<Option<(String, String)>> {
    let name = match lineage {
        Lineage::Package => pin.name.clone(),
        Lineage::Flavour(flavour) => kernel_package(flavour)?,
    };
    Ok(index::candidate(&name)?.map(|version| (name, version)))
}

/// The real package behind a kernel flavour today. The signed package only
/// wraps a signed copy of the same kernel; the unsigned one is the real
/// package when the archive has it.
pub fn kernel_package(flavour: &str) -> Result<String> {
    let image = index::kernel_of(flavour)?;
    let unsigned = format!("{image}-unsigned");
    Ok(if index::candidate(&unsigned)?.is_some() { unsigned } else { image })
}

/// Resolves today's versions with apt, downloads and hashes them: the new lock.
pub fn relock(apt: &Apt) -> Result<KernelLock> {
    apt.update()?;
    let kernel = kernel_package(FLAVOUR)?;
    note(format!("{FLAVOUR} resolves to {kernel}"));
    Ok(KernelLock {
        flavour: FLAVOUR.to_string(),
        kernel: pin_current(apt, &kernel)?,
        stub: pin_current(apt, STUB_PACKAGE)?,
    })
}

fn pin_current(apt: &Apt, package: &str) -> Result<Pinned> {
    let version = index::candidate(package)?.ok_or_else(|| Error::Resolve {
        package: package.to_string(),
        message: "apt knows no installable version (is it in the sources apt uses?)".into(),
    })?;
    let (pin, _) = apt.from_index(package, &version)?;
    note(format!("pinned {package} {version} sha256 {}", pin.sha256));
    Ok(pin)
}
