//! `make run`: boots an image `lvs-image build` wrote, with the serial console
//! on this terminal (ctrl-a x quits qemu). No network: the VM is on its own.
//!
//!     lab-run DIR          the kernel and initramfs (PVH, fast)
//!     lab-run DIR --disk   DIR/disk.img under OVMF, as real hardware boots it

use lvs_tests::lab::{Ovmf, Qemu};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: lab-run DIR [--disk]");
        return ExitCode::from(2);
    };
    let disk = args.iter().any(|a| a == "--disk");
    let qemu = match Qemu::locate() {
        Ok(q) => q,
        Err(e) => {
            eprintln!("lab-run: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut cmd = qemu.command();
    cmd.args(["-accel", "tcg", "-m", "256", "-nodefaults", "-no-user-config", "-nographic"]);
    cmd.args(["-serial", "mon:stdio", "-no-reboot"]);
    if disk {
        let ovmf = match Ovmf::locate() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("lab-run: {e}");
                return ExitCode::FAILURE;
            }
        };
        let vars = match ovmf.vars_copy(&dir.join("OVMF_VARS.run.fd")) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("lab-run: {e}");
                return ExitCode::FAILURE;
            }
        };
        cmd.arg("-drive").arg(format!("if=pflash,format=raw,unit=0,readonly=on,file={}", ovmf.code.display()));
        cmd.arg("-drive").arg(format!("if=pflash,format=raw,unit=1,file={}", vars.display()));
        // snapshot: running the demo must not change the image on disk.
        cmd.arg("-drive").arg(format!("if=virtio,format=raw,snapshot=on,file={}", dir.join("disk.img").display()));
    } else {
        cmd.arg("-kernel").arg(dir.join("vmlinux"));
        cmd.arg("-initrd").arg(dir.join("initramfs.cpio.gz"));
        cmd.args(["-append", "console=ttyS0 panic=-1 quiet"]);
    }
    eprintln!("lab-run: booting {} (ctrl-a x quits)", dir.display());
    let e = cmd.exec();
    eprintln!("lab-run: cannot start qemu: {e}");
    ExitCode::FAILURE
}
