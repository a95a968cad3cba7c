//! `image/kernel.lock`: the exact Debian packages a build uses (name, version,
//! sha256 of the .deb), so two builds months apart boot the same kernel, and a
//! build fails clearly instead of silently taking whatever the archive has now.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One pinned .deb.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Package")]
pub struct Pinned {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// The lock file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "KernelLock")]
pub struct KernelLock {
    /// The meta package the kernel was resolved from (`linux-image-cloud-amd64`).
    pub flavour: String,
    /// The real kernel package: `linux-image-6.1.0-NN-cloud-amd64-unsigned`.
    pub kernel: Pinned,
    /// `systemd-boot-efi`, for `linuxx64.efi.stub`.
    pub stub: Pinned,
}

const HEADER: &str = "\
// The Debian packages `lvs-image build` uses, pinned by version and sha256 of the .deb.
// Written by `lvs-image lock` (which asks apt for the current versions); do not edit by hand.
";

impl KernelLock {
    pub fn parse(text: &str, path: &Path) -> Result<KernelLock> {
        ron::from_str(text).map_err(|e| Error::Lock {
            path: path.to_path_buf(),
            message: format!("{e}; run `lvs-image lock` to write it again"),
        })
    }

    pub fn read(path: &Path) -> Result<KernelLock> {
        let text = std::fs::read_to_string(path).map_err(Error::io("reading", path))?;
        KernelLock::parse(&text, path)
    }

    pub fn to_text(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new().struct_names(true).indentor("    ".to_string());
        // Plain strings in plain structs: serializing cannot fail.
        let body = ron::ser::to_string_pretty(self, pretty).unwrap_or_default();
        format!("{HEADER}{body}\n")
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_text()).map_err(Error::io("writing", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_text_round_trips() {
        let lock = KernelLock {
            flavour: "linux-image-cloud-amd64".into(),
            kernel: Pinned {
                name: "linux-image-6.1.0-56-cloud-amd64-unsigned".into(),
                version: "6.1.192-2".into(),
                sha256: "7f".repeat(32),
            },
            stub: Pinned {
                name: "systemd-boot-efi".into(),
                version: "252.39-1~deb12u2".into(),
                sha256: "ab".repeat(32),
            },
        };
        let text = lock.to_text();
        assert!(text.starts_with("// The Debian packages"));
        assert_eq!(KernelLock::parse(&text, Path::new("kernel.lock")).unwrap(), lock);
    }

    #[test]
    fn a_broken_lock_says_how_to_fix_it() {
        let err = KernelLock::parse("KernelLock(", Path::new("image/kernel.lock")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("lock file image/kernel.lock:"), "{text}");
        assert!(text.contains("lvs-image lock"), "{text}");
    }
}
