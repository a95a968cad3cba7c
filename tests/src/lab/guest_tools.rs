//! Programs put into test images only (never the product's): busybox, as an
//! independent peer inside the guest for what the lab tests do there
//! (signal PID 1, kill the agent, read /proc), and Debian's ipvsadm, an
//! IPVS client we did not write, to program and read the kernel's table
//! beside the agent.

use super::debs::{ensure_unpacked, Lock};
use super::error::{LabError, Result};
use std::path::{Path, PathBuf};

/// Debian's statically linked busybox: it runs in an image with no libc.
pub const GUEST_TOOLS_PACKAGES: &[&str] = &["busybox-static"];

/// ipvsadm and exactly what it links against (`apt-cache depends ipvsadm`;
/// its lsb-base/sysvinit-utils dependencies are for the init script, which
/// the guest does not use). libc6 comes from Debian too, not from the host,
/// so the image does not change with the machine it is built on.
pub const IPVSADM_PACKAGES: &[&str] = &["ipvsadm", "libnl-3-200", "libnl-genl-3-200", "libpopt0", "libc6"];

/// Shared libraries ipvsadm loads: its DT_NEEDED entries and theirs
/// (`readelf -d` on each), by soname, as they sit in the unpacked tree.
const IPVSADM_LIBRARIES: &[&str] = &["libnl-genl-3.so.200", "libnl-3.so.200", "libpopt.so.0", "libc.so.6"];

/// Where the libraries go in the image: the first directory Debian's loader
/// searches without an /etc/ld.so.cache, so the image needs no ld.so.conf.
const LIBRARY_DIR: &str = "/lib/x86_64-linux-gnu";

/// ipvsadm's PT_INTERP.
const LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// The path of a static busybox, fetched (pinned in tests/qemu.lock) if needed.
pub fn busybox() -> Result<PathBuf> {
    let pins = Lock::load()?.group("guest-tools", GUEST_TOOLS_PACKAGES)?;
    let root = ensure_unpacked("guest-tools", &pins)?;
    super::images::present(root.join("bin/busybox"), "not in the unpacked busybox-static: check tests/qemu.lock")
}

/// The files that make Debian's ipvsadm run in a test image, as (host file,
/// path in the image): `/sbin/ipvsadm`, its libraries and the dynamic
/// loader. Fetched (pinned in tests/qemu.lock, group `ipvsadm`) if needed.
///
/// The host paths are the real files, not the package's symlinks: an image
/// symlink to `libnl-3.so.200.26.0` would need that file too, and the
/// loader only asks for the soname.
pub fn ipvsadm_extras() -> Result<Vec<(PathBuf, String)>> {
    let pins = Lock::load()?.group("ipvsadm", IPVSADM_PACKAGES)?;
    let root = ensure_unpacked("ipvsadm", &pins)?;
    let mut extras = vec![(real_file(&root, &["sbin/ipvsadm", "usr/sbin/ipvsadm"])?, "/sbin/ipvsadm".to_string())];
    for lib in IPVSADM_LIBRARIES {
        let candidates = [format!("lib/x86_64-linux-gnu/{lib}"), format!("usr/lib/x86_64-linux-gnu/{lib}")];
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        extras.push((real_file(&root, &candidates)?, format!("{LIBRARY_DIR}/{lib}")));
    }
    let loader = real_file(
        &root,
        &["lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"],
    )?;
    extras.push((loader, LOADER.to_string()));
    Ok(extras)
}

/// The first of `candidates` (paths in the unpacked tree) that exists, with
/// symlinks resolved inside the tree: a package's absolute link
/// (`/lib64/ld-linux...` → `/lib/x86_64-linux-gnu/...`) must not lead to the host's file.
fn real_file(root: &Path, candidates: &[&str]) -> Result<PathBuf> {
    for candidate in candidates {
        let mut path = root.join(candidate);
        for _ in 0..16 {
            match std::fs::read_link(&path) {
                Ok(target) if target.is_absolute() => path = root.join(target.strip_prefix("/").unwrap_or(&target)),
                Ok(target) => path = path.parent().unwrap_or(root).join(target),
                Err(_) => break,
            }
        }
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(LabError::Unavailable(format!(
        "none of {candidates:?} is a file in {}: the pinned ipvsadm packages changed layout; \
         fix IPVSADM_LIBRARIES in tests/src/lab/guest_tools.rs or {}",
        root.display(),
        super::debs::RELOCK_HINT
    )))
}
