//! The unified kernel image: systemd-boot's EFI stub with the kernel, the
//! initramfs, the command line and an os-release joined in as PE sections by
//! `objcopy`, at the addresses measured in LAB-NOTES (systemd 252 has no ukify).
//! Firmware boots it directly as `EFI/BOOT/BOOTX64.EFI`.

use crate::command;
use crate::error::{Error, Result};
use std::path::Path;

/// The UKI's built-in command line (docs/BOOT.md).
pub const CMDLINE: &str = "console=ttyS0 console=tty0 panic=-1 quiet";

const OSREL_VMA: u64 = 0x20000;
const CMDLINE_VMA: u64 = 0x30000;
const LINUX_VMA: u64 = 0x200_0000;
const INITRD_VMA: u64 = 0x300_0000;
/// Sections start on this boundary when one has to move.
const ALIGN: u64 = 0x10_0000;

/// The section addresses for a kernel of `linux_len` bytes: the lab's fixed ones,
/// except that .initrd moves up when a big kernel would run into it.
pub fn addresses(linux_len: u64) -> [(&'static str, u64); 4] {
    let linux_end = LINUX_VMA + linux_len;
    let initrd = if linux_end <= INITRD_VMA {
        INITRD_VMA
    } else {
        linux_end.div_ceil(ALIGN) * ALIGN
    };
    [
        (".osrel", OSREL_VMA),
        (".cmdline", CMDLINE_VMA),
        (".linux", LINUX_VMA),
        (".initrd", initrd),
    ]
}

/// The os-release the stub shows (and boot menus list).
pub fn os_release(hostname: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let pretty = match hostname {
        Some(h) => format!("LVS appliance {h}"),
        None => "LVS appliance".to_string(),
    };
    format!("NAME=\"LVS appliance\"\nID=lvs-appliance\nVERSION_ID={version}\nPRETTY_NAME=\"{pretty}\"\n")
}

/// What a UKI is made of.
pub struct Parts<'a> {
    pub stub: &'a Path,
    pub vmlinuz: &'a Path,
    pub initrd: &'a [u8],
    pub cmdline: &'a str,
    pub os_release: &'a str,
}

/// Joins the parts into `out` with `objcopy` (the program named, so tests and
/// other hosts can pass their own).
pub fn join(objcopy: &str, parts: &Parts, out: &Path) -> Result<()> {
    let work = tempfile::tempdir().map_err(Error::io("creating a temporary folder for", out))?;
    let write = |name: &str, data: &[u8]| -> Result<std::path::PathBuf> {
        let path = work.path().join(name);
        std::fs::write(&path, data).map_err(Error::io("writing", &path))?;
        Ok(path)
    };
    let osrel = write("os-release", parts.os_release.as_bytes())?;
    let cmdline = write("cmdline", parts.cmdline.as_bytes())?;
    let initrd = write("initrd", parts.initrd)?;
    let linux_len = std::fs::metadata(parts.vmlinuz)
        .map_err(Error::io("reading", parts.vmlinuz))?
        .len();
    let files = [osrel.as_path(), cmdline.as_path(), parts.vmlinuz, initrd.as_path()];

    let mut args: Vec<String> = Vec::new();
    for ((section, vma), file) in addresses(linux_len).into_iter().zip(files) {
        args.push("--add-section".into());
        args.push(format!("{section}={}", file.display()));
        args.push("--change-section-vma".into());
        args.push(format!("{section}={vma:#x}"));
    }
    args.push(parts.stub.display().to_string());
    args.push(out.display().to_string());
    command::run(objcopy, &args, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_addresses_for_a_normal_kernel() {
        let a = addresses(14_184_960);
        assert_eq!(a[2], (".linux", 0x200_0000));
        assert_eq!(a[3], (".initrd", 0x300_0000));
    }

    #[test]
    fn initrd_moves_past_a_big_kernel() {
        let a = addresses(0x100_0001);
        assert_eq!(a[3], (".initrd", 0x310_0000));
    }

    #[test]
    fn os_release_names_the_host() {
        let text = os_release(Some("ds1"));
        assert!(text.contains("ID=lvs-appliance\n"));
        assert!(text.contains("PRETTY_NAME=\"LVS appliance ds1\"\n"));
    }
}
