//! A module's `.modinfo` section: NUL-separated `key=value` strings that say
//! what it needs (`depends=`), what should load around it (`softdep=`), and
//! which names modprobe also knows it by (`alias=`). Debian ships no
//! modules.dep, so this is where load order comes from.

use crate::error::{Error, Result};
use object::{Object, ObjectSection};
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// `name=` (kernels since 4.x record it; older ones leave it to the file name).
    pub name: Option<String>,
    pub depends: Vec<String>,
    /// `softdep=pre: a b` — modprobe loads these first.
    pub pre: Vec<String>,
    /// `softdep=post: c` — modprobe loads these after.
    pub post: Vec<String>,
    pub aliases: Vec<String>,
}

/// Why a module's `.modinfo` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModinfoError {
    #[error("not an ELF module: {0}")]
    NotElf(#[source] object::Error),
    #[error("has no .modinfo section")]
    NoSection,
    #[error(".modinfo: {0}")]
    Section(#[source] object::Error),
    #[error("is compressed; the appliance loads plain .ko files only")]
    Compressed,
    #[error("depends on {dep}, which is not in {}", modules_dir.display())]
    MissingDependency { dep: String, modules_dir: std::path::PathBuf },
}

/// Module names as modprobe compares them: '-' and '_' are the same.
pub fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

impl ModInfo {
    /// Reads the `.modinfo` section out of an ELF module's bytes.
    pub fn from_elf(bytes: &[u8]) -> Result<ModInfo, ModinfoError> {
        let file = object::File::parse(bytes).map_err(ModinfoError::NotElf)?;
        let section = file.section_by_name(".modinfo").ok_or(ModinfoError::NoSection)?;
        let data = section.data().map_err(ModinfoError::Section)?;
        Ok(ModInfo::parse(data))
    }

    pub fn read(path: &Path) -> Result<ModInfo> {
        let bytes = std::fs::read(path).map_err(Error::io("reading", path))?;
        ModInfo::from_elf(&bytes).map_err(|source| Error::Modinfo { path: path.to_path_buf(), source })
    }

    /// The section's strings; unknown keys (license, vermagic, parm...) are ignored.
    pub fn parse(section: &[u8]) -> ModInfo {
        let mut info = ModInfo::default();
        for entry in section.split(|b| *b == 0) {
            let entry = String::from_utf8_lossy(entry);
            let Some((key, value)) = entry.split_once('=') else {
                continue;
            };
            match key {
                "name" => info.name = Some(normalize(value.trim())),
                "depends" => {
                    info.depends.extend(value.split(',').map(str::trim).filter(|d| !d.is_empty()).map(normalize))
                }
                "softdep" => info.add_softdep(value),
                "alias" => info.aliases.push(value.trim().to_string()),
                _ => {}
            }
        }
        info
    }

    /// `pre: a b post: c` (either part may be missing, and may repeat).
    fn add_softdep(&mut self, value: &str) {
        let mut into_pre = None;
        for word in value.split_whitespace() {
            match word {
                "pre:" => into_pre = Some(true),
                "post:" => into_pre = Some(false),
                name => match into_pre {
                    Some(true) => self.pre.push(normalize(name)),
                    Some(false) => self.post.push(normalize(name)),
                    None => {}
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_matter_are_read() {
        let section = b"license=GPL\0depends=nf_conntrack,nf_defrag_ipv6,libcrc32c\0\
            softdep=pre: crc32c post: foo-bar\0alias=crypto-crc32c\0alias=crc32c\0\
            name=ip_vs\0vermagic=6.1.0 SMP mod_unload\0\0\0";
        let info = ModInfo::parse(section);
        assert_eq!(info.name.as_deref(), Some("ip_vs"));
        assert_eq!(info.depends, ["nf_conntrack", "nf_defrag_ipv6", "libcrc32c"]);
        assert_eq!(info.pre, ["crc32c"]);
        assert_eq!(info.post, ["foo_bar"]);
        assert_eq!(info.aliases, ["crypto-crc32c", "crc32c"]);
    }

    #[test]
    fn empty_depends_is_no_dependency() {
        let info = ModInfo::parse(b"depends=\0name=virtio_ring\0");
        assert!(info.depends.is_empty());
    }

    #[test]
    fn softdep_with_post_only_and_odd_spacing() {
        let info = ModInfo::parse(b"softdep=post:  a b\0softdep=pre: c\0");
        assert_eq!(info.post, ["a", "b"]);
        assert_eq!(info.pre, ["c"]);
    }

    #[test]
    fn non_elf_is_refused() {
        assert!(ModInfo::from_elf(b"not an elf").unwrap_err().to_string().contains("not an ELF"));
    }
}
