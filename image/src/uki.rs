//! The unified kernel image: systemd-boot's EFI stub with the kernel, the
//! initramfs, the command line and an os-release joined in as PE sections by
//! `objcopy`, at the addresses measured in LAB-NOTES (systemd 252 has no ukify).
//! Firmware boots it directly as `EFI/BOOT/BOOTX64.EFI`.

use crate::command;
use crate::error::{Error, Result};
use std::path::Path;

/// The UKI's built-in command line (docs/BOOT.md).
pub const CMDLINE: &str = "console=tty0 console=ttyS0 panic=-1 quiet";

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
    let initrd = if linux_end <= INITRD_VMA { INITRD_VMA } else { linux_end.div_ceil(ALIGN) * ALIGN };
    [(".osrel", OSREL_VMA), (".cmdline", CMDLINE_VMA), (".linux", LINUX_VMA), (".initrd", initrd)]
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
    let linux_len = std::fs::metadata(parts.vmlinuz).map_err(Error::io("reading", parts.vmlinuz))?.len();
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

    // objcopy stamps the PE header with the current time; clear it so the same
    // inputs give the same UKI (and so the same disk.img).
    let mut uki = std::fs::read(out).map_err(Error::io("reading", out))?;
    if clear_pe_timestamp(&mut uki) {
        std::fs::write(out, &uki).map_err(Error::io("writing", out))?;
    }
    Ok(())
}

/// Sets a PE file's COFF TimeDateStamp to 0 and recomputes its checksum the way
/// objcopy computed it. False (and nothing changed) when `pe` is no PE file,
/// as a stand-in objcopy's output is not.
pub fn clear_pe_timestamp(pe: &mut [u8]) -> bool {
    let Some(header) = pe.get(0x3c..0x40) else { return false };
    let header = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    // The optional header's CheckSum sits 64 bytes in, for PE32 and PE32+ alike.
    let stamp = header + 8;
    let checksum = header + 24 + 64;
    if !pe.starts_with(b"MZ") || pe.get(header..header + 4) != Some(b"PE\0\0") || pe.len() < checksum + 4 {
        return false;
    }
    pe[stamp..stamp + 4].fill(0);
    let sum = pe_checksum(pe, checksum);
    pe[checksum..checksum + 4].copy_from_slice(&sum.to_le_bytes());
    true
}

/// The PE image checksum: 16-bit one's-complement-style sum of the file (the
/// checksum field itself left out), folded, plus the file's length.
fn pe_checksum(pe: &[u8], field: usize) -> u32 {
    let mut sum: u64 = 0;
    for (i, pair) in pe.chunks(2).enumerate() {
        let at = i * 2;
        if at == field || at == field + 2 {
            continue;
        }
        let word = u64::from(pair[0]) | pair.get(1).map_or(0, |b| u64::from(*b) << 8);
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32).wrapping_add(pe.len() as u32)
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

    /// A minimal PE-shaped buffer: MZ, the header offset, "PE\0\0", a stamp.
    fn pe_like(stamp: u32) -> Vec<u8> {
        let mut pe = vec![0u8; 0x200];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x88..0x8c].copy_from_slice(&stamp.to_le_bytes());
        for (i, b) in pe.iter_mut().enumerate().skip(0x100) {
            *b = (i * 31 % 251) as u8;
        }
        pe
    }

    #[test]
    fn pe_timestamps_are_cleared_and_the_checksum_follows() {
        let (mut a, mut b) = (pe_like(0x6543_2100), pe_like(0x6543_2199));
        assert!(clear_pe_timestamp(&mut a) && clear_pe_timestamp(&mut b));
        assert_eq!(a, b);
        assert_eq!(&a[0x88..0x8c], &[0, 0, 0, 0]);
        // The checksum field holds the sum of everything else plus the length.
        let stored = u32::from_le_bytes(a[0xd8..0xdc].try_into().unwrap());
        assert_eq!(stored, pe_checksum(&a, 0xd8));
        assert_ne!(stored, 0);
        // Not a PE file: left alone.
        let mut text = b"MZ fake stub".to_vec();
        assert!(!clear_pe_timestamp(&mut text));
        assert_eq!(text, b"MZ fake stub");
    }

    #[test]
    fn os_release_names_the_host() {
        let text = os_release(Some("ds1"));
        assert!(text.contains("ID=lvs-appliance\n"));
        assert!(text.contains("PRETTY_NAME=\"LVS appliance ds1\"\n"));
    }
}
