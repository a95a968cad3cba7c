//! The default kernel and EFI stub: Debian's packages as pinned in
//! `image/kernel.lock`, downloaded and unpacked into the cache once.

use crate::apt::{self, Apt};
use crate::error::{Error, Result};
use crate::lock::{KernelLock, Pinned};
use crate::progress::note;
use std::path::{Path, PathBuf};

/// The meta package whose current kernel `lvs-image lock` pins.
pub const FLAVOUR: &str = "linux-image-cloud-amd64";
/// The package holding `linuxx64.efi.stub`.
pub const STUB_PACKAGE: &str = "systemd-boot-efi";
/// Where that package keeps the stub.
const STUB_PATH: &str = "usr/lib/systemd/boot/efi/linuxx64.efi.stub";

/// The cache's layout: `debs/` for downloads, `unpacked/<name>_<version>/` trees.
fn unpacked(cache: &Path, pin: &Pinned) -> PathBuf {
    cache.join("unpacked").join(format!("{}_{}", pin.name, pin.version.replace(':', "%3a")))
}

/// Downloads (when needed), verifies and unpacks a pinned package; returns its tree.
pub fn package(apt: &Apt, cache: &Path, pin: &Pinned) -> Result<PathBuf> {
    let dest = unpacked(cache, pin);
    // The unpacked tree is only trusted next to a .deb that still matches the lock.
    let deb = apt.fetch(pin)?;
    apt::unpack(&deb, &dest)?;
    Ok(dest)
}

/// The kernel tree (Debian's layout) for the lock's kernel.
pub fn kernel(apt: &Apt, cache: &Path, lock: &KernelLock) -> Result<PathBuf> {
    package(apt, cache, &lock.kernel)
}

/// `linuxx64.efi.stub` from the lock's systemd-boot-efi.
pub fn stub(apt: &Apt, cache: &Path, lock: &KernelLock) -> Result<PathBuf> {
    let tree = package(apt, cache, &lock.stub)?;
    let stub = tree.join(STUB_PATH);
    if stub.is_file() {
        Ok(stub)
    } else {
        Err(Error::Resolve {
            package: format!("{} {}", lock.stub.name, lock.stub.version),
            message: format!("has no {STUB_PATH}"),
        })
    }
}

/// Resolves today's versions with apt, downloads and hashes them: the new lock.
pub fn relock(apt: &Apt) -> Result<KernelLock> {
    apt.update()?;
    let image = apt.kernel_of(FLAVOUR)?;
    // The signed package only wraps a signed copy of the same kernel; the
    // unsigned one is the real package when the archive has it.
    let unsigned = format!("{image}-unsigned");
    let kernel = if apt.candidate(&unsigned)?.is_some() { unsigned } else { image };
    note(format!("{FLAVOUR} resolves to {kernel}"));
    Ok(KernelLock {
        flavour: FLAVOUR.to_string(),
        kernel: pin_current(apt, &kernel)?,
        stub: pin_current(apt, STUB_PACKAGE)?,
    })
}

fn pin_current(apt: &Apt, package: &str) -> Result<Pinned> {
    let version = apt.candidate(package)?.ok_or_else(|| Error::Resolve {
        package: package.to_string(),
        message: "apt knows no installable version (is it in the sources apt uses?)".into(),
    })?;
    let deb = apt.get(package, &version)?;
    let sha256 = apt::sha256_file(&deb)?;
    note(format!("pinned {package} {version} sha256 {sha256}"));
    Ok(Pinned { name: package.to_string(), version, sha256 })
}
