//! Programs put into test images only (never the product's): busybox, as an
//! independent peer inside the guest for what the lab tests do there
//! (signal PID 1, kill the agent, read /proc).

use super::debs::{ensure_unpacked, Lock};
use super::error::Result;
use std::path::PathBuf;

/// Debian's statically linked busybox: it runs in an image with no libc.
pub const GUEST_TOOLS_PACKAGES: &[&str] = &["busybox-static"];

/// The path of a static busybox, fetched (pinned in tests/qemu.lock) if needed.
pub fn busybox() -> Result<PathBuf> {
    let pins = Lock::load()?.group("guest-tools", GUEST_TOOLS_PACKAGES)?;
    let root = ensure_unpacked("guest-tools", &pins)?;
    super::images::present(root.join("bin/busybox"), "not in the unpacked busybox-static: check tests/qemu.lock")
}
