//! Re-pins tests/qemu.lock to the versions apt offers now: run it when Debian
//! has dropped a pinned version (the lab then fails with a hint to do so) or
//! after changing the package lists in src/lab/qemu.rs. Review the diff and
//! commit it.

use std::process::ExitCode;

use lvs_tests::lab::debs::{lock_path, resolve_pin, Lock};
use lvs_tests::lab::{LabError, GUEST_TOOLS_PACKAGES, IPVSADM_PACKAGES, OVMF_PACKAGES, QEMU_PACKAGES};

fn main() -> ExitCode {
    match relock() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab-lock: {e}");
            ExitCode::FAILURE
        }
    }
}

fn relock() -> Result<(), LabError> {
    let mut updated = false;
    let mut pins = Vec::new();
    for (group, packages) in [
        ("qemu", QEMU_PACKAGES),
        ("ovmf", OVMF_PACKAGES),
        ("guest-tools", GUEST_TOOLS_PACKAGES),
        ("ipvsadm", IPVSADM_PACKAGES),
    ] {
        for package in packages {
            let pin = resolve_pin(group, package, &mut updated)?;
            println!("{} {} {}", pin.group, pin.package, pin.version);
            pins.push(pin);
        }
    }
    let path = lock_path();
    std::fs::write(&path, Lock { pins }.render())
        .map_err(|e| LabError::Io { what: format!("writing {}", path.display()), source: e })?;
    println!("wrote {}", path.display());
    Ok(())
}
