//! The pseudo file systems, and the config and state partitions found by GPT name.

use super::system::{MountFlags, System};
use crate::deadline::after;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Mounted first, in this order; a failure is logged and the next one tried.
pub const PSEUDO: [(&str, &str, &str, &str); 5] = [
    ("proc", "/proc", "proc", ""),
    ("sysfs", "/sys", "sysfs", ""),
    ("devtmpfs", "/dev", "devtmpfs", "mode=0755"),
    ("tmpfs", "/run", "tmpfs", "mode=0755"),
    ("tmpfs", "/tmp", "tmpfs", "mode=1777"),
];

pub const CONFIG_LABEL: &str = "lvs-config";
pub const STATE_LABEL: &str = "lvs-state";

pub fn mount_pseudo(sys: &mut dyn System) {
    for (source, target, fstype, data) in PSEUDO {
        let flags = MountFlags { read_only: false, no_exec: fstype != "tmpfs" };
        if let Err(e) = sys.mount(source, Path::new(target), fstype, flags, data) {
            crate::note!(error, "cannot mount {fstype} on {target}: {e}");
        }
    }
}

/// The device name (`vda2`) of the partition whose GPT name is `label`, from
/// the `PARTNAME=` line the kernel puts in each block device's uevent file.
pub fn find_partition(sysfs: &Path, label: &str) -> Option<String> {
    let entries = std::fs::read_dir(sysfs.join("class/block")).ok()?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    names.into_iter().find_map(|dev| {
        let uevent = std::fs::read_to_string(dev.join("uevent")).ok()?;
        let named = uevent.lines().any(|l| l.strip_prefix("PARTNAME=") == Some(label));
        let devname = uevent.lines().find_map(|l| l.strip_prefix("DEVNAME="))?;
        named.then(|| devname.to_string())
    })
}

/// Whether any disk (not a ram or loop device) exists, so that waiting for a
/// partition to appear makes sense.
fn has_disk(sysfs: &Path) -> bool {
    std::fs::read_dir(sysfs.join("class/block"))
        .map(|d| {
            d.filter_map(|e| e.ok()).any(|e| {
                !e.file_name().to_string_lossy().starts_with("ram")
                    && !e.file_name().to_string_lossy().starts_with("loop")
            })
        })
        .unwrap_or(false)
}

/// Finds and mounts a partition by label. Disks are probed asynchronously after
/// their driver loads, so this waits up to `patience` for the label to appear.
/// Returns whether it was mounted.
pub fn mount_by_label(
    sys: &mut dyn System,
    sysfs: &Path,
    dev: &Path,
    label: &str,
    target: &Path,
    read_only: bool,
    patience: Duration,
) -> bool {
    let deadline = after(Instant::now(), patience);
    let name = loop {
        if let Some(name) = find_partition(sysfs, label) {
            break name;
        }
        if Instant::now() >= deadline || !has_disk(sysfs) {
            crate::note!(info, "no partition named {label}: {} stays in the initramfs", target.display());
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let device = dev.join(&name);
    let flags = MountFlags { read_only, no_exec: true };
    match sys.mount(&device.to_string_lossy(), target, "vfat", flags, "") {
        Ok(()) => {
            crate::note!(info, "mounted {label} ({}) on {}", device.display(), target.display());
            true
        }
        Err(e) => {
            crate::note!(error, "cannot mount {label} ({}) on {}: {e}", device.display(), target.display());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_sysfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let block = dir.path().join("class/block");
        for (name, uevent) in [
            ("vda", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n"),
            ("vda1", "MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\nPARTN=1\nPARTNAME=ESP\n"),
            ("vda2", "MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nPARTN=2\nPARTNAME=lvs-config\n"),
        ] {
            std::fs::create_dir_all(block.join(name)).unwrap();
            std::fs::write(block.join(name).join("uevent"), uevent).unwrap();
        }
        dir
    }

    #[test]
    fn partitions_are_found_by_gpt_name() {
        let sysfs = fake_sysfs();
        assert_eq!(find_partition(sysfs.path(), "lvs-config").as_deref(), Some("vda2"));
        assert_eq!(find_partition(sysfs.path(), "ESP").as_deref(), Some("vda1"));
        assert_eq!(find_partition(sysfs.path(), "lvs-state"), None);
        assert_eq!(find_partition(Path::new("/nonexistent"), "lvs-config"), None);
    }

    struct Mounts(Vec<String>);

    impl System for Mounts {
        fn mount(&mut self, source: &str, _: &Path, _: &str, _: MountFlags, _: &str) -> Result<(), nix::errno::Errno> {
            self.0.push(source.to_string());
            Ok(())
        }
        fn load_module(&mut self, _: &Path) -> Result<(), nix::errno::Errno> {
            Ok(())
        }
        fn set_hostname(&mut self, _: &str) -> Result<(), nix::errno::Errno> {
            Ok(())
        }
    }

    #[test]
    fn a_patience_past_the_clocks_range_is_no_panic() {
        let sysfs = fake_sysfs();
        let mut sys = Mounts(Vec::new());
        let target = Path::new("/config");
        assert!(mount_by_label(&mut sys, sysfs.path(), Path::new("/dev"), "lvs-config", target, true, Duration::MAX));
        assert_eq!(sys.0, ["/dev/vda2"]);
        let no_disk = tempfile::tempdir().unwrap();
        assert!(!mount_by_label(
            &mut sys,
            no_disk.path(),
            Path::new("/dev"),
            "lvs-config",
            target,
            true,
            Duration::MAX
        ));
    }
}
