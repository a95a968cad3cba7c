//! A kernel tree: a folder holding the kernel image and its modules, as Debian's
//! package unpacks (`boot/vmlinuz-<release>`, `lib/modules/<release>/`) or as a
//! person lays one out by hand (`vmlinuz` at the top).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct KernelTree {
    pub root: PathBuf,
    /// The bzImage.
    pub vmlinuz: PathBuf,
    /// `uname -r` of that kernel, from the modules folder's name.
    pub release: String,
    /// `lib/modules/<release>`.
    pub modules_dir: PathBuf,
    /// The build config (`boot/config-<release>`, or `config` at the top), when shipped.
    pub config: Option<PathBuf>,
}

impl KernelTree {
    pub fn open(root: &Path) -> Result<KernelTree> {
        let fail = |message: String| Error::KernelTree { dir: root.to_path_buf(), message };
        if !root.is_dir() {
            return Err(fail("not a folder".into()));
        }
        let releases = module_releases(root)?;
        let boot_images = boot_images(root)?;

        // The image: `vmlinuz` at the top, else the `boot/vmlinuz-*` whose release
        // has modules, else the only one there is.
        let top = root.join("vmlinuz");
        let (vmlinuz, image_release) = if top.is_file() {
            (top, None)
        } else {
            let matching: Vec<_> =
                boot_images.iter().filter(|(_, r)| releases.iter().any(|(rel, _)| rel == r)).collect();
            match (matching.as_slice(), boot_images.as_slice()) {
                ([(p, r)], _) | ([], [(p, r)]) => (p.clone(), Some(r.clone())),
                ([], []) => return Err(fail("has neither vmlinuz nor boot/vmlinuz-*".into())),
                _ => {
                    return Err(fail(format!(
                        "holds several kernels ({}); pass a folder with one",
                        boot_images.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>().join(", ")
                    )))
                }
            }
        };

        let (release, modules_dir) = match (image_release, releases.as_slice()) {
            (Some(r), _) if releases.iter().any(|(rel, _)| *rel == r) => {
                let dir = releases.iter().find(|(rel, _)| *rel == r).map(|(_, d)| d.clone());
                (r, dir.unwrap_or_default())
            }
            (_, [(r, d)]) => (r.clone(), d.clone()),
            (_, []) => return Err(fail("has no lib/modules/<release>/ folder".into())),
            _ => {
                return Err(fail(format!(
                    "has modules for several kernels ({}) and no way to tell which goes with {}",
                    releases.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", "),
                    vmlinuz.display()
                )))
            }
        };
        let config =
            [root.join(format!("boot/config-{release}")), root.join("config")].into_iter().find(|p| p.is_file());
        Ok(KernelTree { root: root.to_path_buf(), vmlinuz, release, modules_dir, config })
    }
}

/// `(release, folder)` for each `lib/modules/*/` (or `usr/lib/modules/*/`, merged /usr).
fn module_releases(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for base in ["lib/modules", "usr/lib/modules"] {
        let dir = root.join(base);
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(Error::io("reading", &dir))? {
            let entry = entry.map_err(Error::io("reading", &dir))?;
            if entry.path().is_dir() {
                found.push((entry.file_name().to_string_lossy().into_owned(), entry.path()));
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    found.sort();
    Ok(found)
}

/// `(path, release)` for each `boot/vmlinuz-<release>`.
fn boot_images(root: &Path) -> Result<Vec<(PathBuf, String)>> {
    let boot = root.join("boot");
    let mut found = Vec::new();
    if boot.is_dir() {
        for entry in std::fs::read_dir(&boot).map_err(Error::io("reading", &boot))? {
            let entry = entry.map_err(Error::io("reading", &boot))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(release) = name.strip_prefix("vmlinuz-") {
                found.push((entry.path(), release.to_string()));
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn debian_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("boot/vmlinuz-6.1.0-56-cloud-amd64"));
        touch(&root.join("boot/config-6.1.0-56-cloud-amd64"));
        touch(&root.join("lib/modules/6.1.0-56-cloud-amd64/kernel/fs/fat/vfat.ko"));
        let tree = KernelTree::open(root).unwrap();
        assert_eq!(tree.release, "6.1.0-56-cloud-amd64");
        assert_eq!(tree.vmlinuz, root.join("boot/vmlinuz-6.1.0-56-cloud-amd64"));
        assert_eq!(tree.modules_dir, root.join("lib/modules/6.1.0-56-cloud-amd64"));
        assert_eq!(tree.config, Some(root.join("boot/config-6.1.0-56-cloud-amd64")));
    }

    #[test]
    fn hand_made_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("vmlinuz"));
        touch(&root.join("lib/modules/6.6.0-test/kernel/x.ko"));
        let tree = KernelTree::open(root).unwrap();
        assert_eq!(tree.release, "6.6.0-test");
        assert_eq!(tree.vmlinuz, root.join("vmlinuz"));
    }

    #[test]
    fn missing_parts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = KernelTree::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("has neither vmlinuz nor boot/vmlinuz-*"), "{err}");
        touch(&dir.path().join("vmlinuz"));
        let err = KernelTree::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("has no lib/modules/<release>/ folder"), "{err}");
    }
}
