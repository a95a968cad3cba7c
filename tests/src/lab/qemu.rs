//! Finding `qemu-system-x86_64` and OVMF: the host's if it has them, else
//! Debian's packages unpacked into `<repo>/.cache/qemu` (see `debs.rs`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::command::{on_path, run};
use super::debs::{ensure_unpacked, Lock};
use super::error::{LabError, Result};

/// What qemu-system-x86_64 7.2 needs beyond the base image of our machines,
/// found by running it and reading the loader's "cannot open shared object"
/// errors until there were none. The other libraries LAB-NOTES lists (spice,
/// brlapi, usbredir, audio...) belong to qemu modules we never load.
pub const QEMU_PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "qemu-system-common", // accel-tcg-x86_64.so: TCG itself is a module in Debian's 7.2
    "qemu-system-data",   // linuxboot_dma.bin for -kernel, keymaps
    "seabios",
    "ipxe-qemu", // option ROMs; our NICs set romfile= but other devices may ask
    "libcapstone4",
    "libfdt1",
    "libpmem1",
    "libndctl6",  // for libpmem1
    "libdaxctl1", // for libpmem1
    "librdmacm1",
    "libibverbs1",
    "libnl-3-200",       // for libibverbs1
    "libnl-route-3-200", // for libibverbs1
    "libslirp0",
    "libvdeplug2",
];

/// UEFI firmware for booting the GPT disk image.
pub const OVMF_PACKAGES: &[&str] = &["ovmf"];

/// A runnable qemu-system-x86_64.
#[derive(Clone, Debug)]
pub struct Qemu {
    binary: PathBuf,
    /// The unpacked tree when the binary is ours rather than the host's.
    root: Option<PathBuf>,
    version: String,
}

static QEMU: Mutex<Option<Qemu>> = Mutex::new(None);

impl Qemu {
    /// The host's qemu when it is on PATH, else the pinned Debian one, fetched
    /// and unpacked on first use. Found once per test process.
    pub fn locate() -> Result<Qemu> {
        let mut cached = QEMU.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(q) = cached.as_ref() {
            return Ok(q.clone());
        }
        let q = match on_path("qemu-system-x86_64") {
            Some(binary) => Qemu::probe(binary, None)?,
            None => {
                let pins = Lock::load()?.group("qemu", QEMU_PACKAGES)?;
                let root = ensure_unpacked("qemu", &pins)?;
                Qemu::probe(root.join("usr/bin/qemu-system-x86_64"), Some(root))?
            }
        };
        *cached = Some(q.clone());
        Ok(q)
    }

    fn probe(binary: PathBuf, root: Option<PathBuf>) -> Result<Qemu> {
        let mut q = Qemu { binary, root, version: String::new() };
        let out = run("checking that qemu runs (a missing library shows here)", q.command().arg("--version"))?;
        q.version = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string();
        Ok(q)
    }

    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The first line of `--version`, e.g. `QEMU emulator version 7.2.22 (Debian ...)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether this is the unpacked Debian qemu rather than the host's.
    pub fn is_fetched(&self) -> bool {
        self.root.is_some()
    }

    /// A command for qemu with the library path, module dir and firmware
    /// search dirs an unpacked tree needs. Add the VM's arguments.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        if let Some(root) = &self.root {
            let mut libs = OsString::new();
            libs.push(root.join("usr/lib/x86_64-linux-gnu"));
            libs.push(":");
            libs.push(root.join("lib/x86_64-linux-gnu"));
            cmd.env("LD_LIBRARY_PATH", libs);
            // Compiled-in module dir is /usr/lib/x86_64-linux-gnu/qemu, absent here.
            cmd.env("QEMU_MODULE_DIR", root.join("usr/lib/x86_64-linux-gnu/qemu"));
            // Debian's /usr/share/qemu links firmware into these by absolute path.
            for dir in ["usr/share/qemu", "usr/share/seabios", "usr/lib/ipxe/qemu"] {
                cmd.arg("-L").arg(root.join(dir));
            }
        }
        cmd
    }
}

/// OVMF firmware: CODE is read-only and shared, VARS is written by the guest,
/// so each VM gets its own copy ([`Ovmf::vars_copy`]).
#[derive(Clone, Debug)]
pub struct Ovmf {
    pub code: PathBuf,
    pub vars: PathBuf,
}

static OVMF: Mutex<Option<Ovmf>> = Mutex::new(None);

impl Ovmf {
    /// The host's `/usr/share/OVMF` 4M pair when present, else the pinned
    /// Debian `ovmf` package unpacked into the cache.
    pub fn locate() -> Result<Ovmf> {
        let mut cached = OVMF.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(o) = cached.as_ref() {
            return Ok(o.clone());
        }
        let host = Ovmf::in_dir(Path::new("/usr/share/OVMF"));
        let o = if host.code.is_file() && host.vars.is_file() {
            host
        } else {
            let pins = Lock::load()?.group("ovmf", OVMF_PACKAGES)?;
            let root = ensure_unpacked("ovmf", &pins)?;
            let o = Ovmf::in_dir(&root.join("usr/share/OVMF"));
            if !o.code.is_file() || !o.vars.is_file() {
                return Err(LabError::Package {
                    package: "ovmf".into(),
                    version: pins.first().map(|p| p.version.clone()).unwrap_or_default(),
                    message: format!("unpacked, but {} or {} is missing", o.code.display(), o.vars.display()),
                });
            }
            o
        };
        *cached = Some(o.clone());
        Ok(o)
    }

    fn in_dir(dir: &Path) -> Ovmf {
        Ovmf { code: dir.join("OVMF_CODE_4M.fd"), vars: dir.join("OVMF_VARS_4M.fd") }
    }

    /// A private, writable copy of the VARS store at `dest`.
    pub fn vars_copy(&self, dest: &Path) -> Result<PathBuf> {
        std::fs::copy(&self.vars, dest)
            .map_err(|e| LabError::io(format!("copying {} to {}", self.vars.display(), dest.display()), e))?;
        Ok(dest.to_path_buf())
    }
}
