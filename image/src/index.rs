//! What apt's index says now: the Packages files `apt-get update` fetched and
//! checked against the archive's signed Release file. Which versions of a
//! package it lists, with the sha256 of each .deb; which one apt would pick;
//! what a kernel meta package points at; how two Debian versions compare.
//! Read with apt-cache and dpkg, Debian's own clients; nothing here downloads.
//!
//! The lab harness (lvs-tests) asks the same questions through this module, so
//! a lock's pins are judged the same way wherever they are fetched.

use crate::command;
use crate::error::{Error, Result};
use std::process::Command;

/// One version of a package as the archive's index lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub package: String,
    pub version: String,
    /// Lower-case hex sha256 of the .deb, from the index.
    pub sha256: String,
}

/// The stanzas of `apt-cache show` output that the archive lists. A stanza
/// without `SHA256:` (dpkg's record of an installed package, which no mirror
/// serves) is left out: there is nothing to check a download against.
pub fn parse_show(text: &str) -> Vec<Listed> {
    text.split("\n\n")
        .filter_map(|stanza| {
            // Continuation lines start with a space, so only real fields match.
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
                    .map(|v| v.trim().to_string())
            };
            Some(Listed {
                package: field("Package")?,
                version: field("Version")?,
                sha256: field("SHA256")?.to_ascii_lowercase(),
            })
        })
        .collect()
}

/// What the index lists for each `package=version` (or `package`) in `specs`.
/// A version the index does not know is simply absent (apt-cache says nothing
/// of it), and so is a package it does not know at all.
pub fn show(specs: &[String]) -> Result<Vec<Listed>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    match command::run("apt-cache", std::iter::once("show").chain(specs.iter().map(String::as_str)), None) {
        Ok(out) => Ok(parse_show(&out.stdout)),
        // apt-cache fails only when it found none of them.
        Err(Error::Command { stderr, .. }) if stderr.contains("No packages found") => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The sha256 sums the index lists for `package` at exactly `version` (usually
/// one; the same version in two suites is the same file).
pub fn sha256s(package: &str, version: &str) -> Result<Vec<String>> {
    let mut sums: Vec<String> = show(&[format!("{package}={version}")])?
        .into_iter()
        .filter(|l| l.package == package && l.version == version)
        .map(|l| l.sha256)
        .collect();
    sums.sort();
    sums.dedup();
    Ok(sums)
}

/// Whether the index lists `package` at exactly `version`.
pub fn lists(package: &str, version: &str) -> Result<bool> {
    Ok(!sha256s(package, version)?.is_empty())
}

/// `Candidate:` of `apt-cache policy` output; None for `(none)`.
pub fn parse_candidate(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "(none)")
        .map(str::to_string)
}

/// The version apt would install now (`apt-cache policy`'s candidate), if any.
pub fn candidate(package: &str) -> Result<Option<String>> {
    Ok(parse_candidate(&command::run("apt-cache", ["policy", package], None)?.stdout))
}

/// The `linux-image-*` package an `apt-cache depends` output names first.
pub fn parse_kernel_dependency(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-"))
        .map(str::to_string)
}

/// The package a kernel meta package points at: `linux-image-cloud-amd64`
/// depends on `linux-image-6.1.0-NN-cloud-amd64`.
pub fn kernel_of(meta: &str) -> Result<String> {
    let out = command::run("apt-cache", ["depends", meta], None)?;
    parse_kernel_dependency(&out.stdout).ok_or_else(|| Error::Resolve {
        package: meta.to_string(),
        message: format!("`apt-cache depends {meta}` names no linux-image-* package"),
    })
}

/// Whether Debian version `a` is later than `b` (`dpkg --compare-versions a gt b`).
pub fn newer(a: &str, b: &str) -> Result<bool> {
    let output = Command::new("dpkg")
        .args(["--compare-versions", a, "gt", b])
        .output()
        .map_err(|source| Error::Spawn { program: "dpkg".into(), source })?;
    match output.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(Error::Command {
            command: format!("dpkg --compare-versions {a} gt {b}"),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `apt-cache show systemd-boot-efi` on this project's build machine,
    /// shortened, plus an installed-only stanza as dpkg's status file gives it.
    const SHOW: &str = "\
Package: systemd-boot-efi
Source: systemd
Version: 252.39-1~deb12u2
Installed-Size: 292
Filename: pool/main/s/systemd/systemd-boot-efi_252.39-1~deb12u2_amd64.deb
Size: 113136
SHA256: 8F2B81BDCFAFC466882A0CAE460272DBF10D8D97C6A3C1C6EA33038C155A2F5E
Description: simple UEFI boot manager - EFI binaries
 Package: not a field, a line of the description

Package: systemd-boot-efi
Version: 252.38-1~deb12u1
SHA256: 099343ccb3ad569ee1f0c838423f83267f65b8555fbcc8114167621a3350f245

Package: systemd-boot-efi
Status: install ok installed
Version: 252.30-1~deb12u2
";

    #[test]
    fn show_lists_archive_stanzas_only() {
        let listed = parse_show(SHOW);
        assert_eq!(
            listed,
            vec![
                Listed {
                    package: "systemd-boot-efi".into(),
                    version: "252.39-1~deb12u2".into(),
                    sha256: "8f2b81bdcfafc466882a0cae460272dbf10d8d97c6a3c1c6ea33038c155a2f5e".into(),
                },
                Listed {
                    package: "systemd-boot-efi".into(),
                    version: "252.38-1~deb12u1".into(),
                    sha256: "099343ccb3ad569ee1f0c838423f83267f65b8555fbcc8114167621a3350f245".into(),
                },
            ]
        );
        assert_eq!(parse_show(""), vec![]);
    }

    #[test]
    fn policy_candidate() {
        let policy = "busybox-static:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+deb12u1+b1\n  Version table:\n";
        assert_eq!(parse_candidate(policy).as_deref(), Some("1:1.35.0-4+deb12u1+b1"));
        assert_eq!(parse_candidate("x:\n  Installed: (none)\n  Candidate: (none)\n"), None);
        assert_eq!(parse_candidate(""), None);
    }

    #[test]
    fn meta_package_dependency() {
        let depends = "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-57-cloud-amd64\n";
        assert_eq!(parse_kernel_dependency(depends).as_deref(), Some("linux-image-6.1.0-57-cloud-amd64"));
        assert_eq!(parse_kernel_dependency("x\n  Depends: libc6\n"), None);
    }
}
