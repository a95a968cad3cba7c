//! `lvs-image build`: kernel, modules, initramfs, UKI and disk image for one
//! appliance config, written into one output folder.

use crate::error::{Error, Result};
use crate::initramfs;
use crate::kernel::KernelTree;
use crate::modules::{self, ModuleTree};
use crate::progress::{self, note};
use crate::rootfs::{self, Extra};
use crate::{agent, command, disk, pki, uki, vmlinux};
use lvs_config::model::Appliance;
use std::path::{Path, PathBuf};

/// The compressed initramfs's size budget, which the summary checks
/// (docs/SIZE.md). The agent in it has none of its own.
pub const INITRAMFS_BUDGET: u64 = 4 << 20;

pub struct Options<'a> {
    /// The validated config, and its file as it is (copied byte for byte).
    pub appliance: &'a Appliance,
    pub config_file: &'a Path,
    pub agent: &'a Path,
    pub out: &'a Path,
    pub kernel: &'a KernelTree,
    pub stub: &'a Path,
    pub overlay: Option<&'a Path>,
    /// An `lvs-agent pki init` folder: its ca.pem, server.pem and crl.pem go
    /// on the config partition under pki/.
    pub pki: Option<&'a Path>,
    pub extras: &'a [Extra],
    pub qcow2: bool,
    pub cmdline_extra: Option<&'a str>,
    /// The objcopy to join the UKI with.
    pub objcopy: &'a str,
}

/// What a build wrote.
#[derive(Debug)]
pub struct Report {
    pub agent_size: u64,
    pub initramfs: PathBuf,
    pub initramfs_size: u64,
    pub initramfs_uncompressed: u64,
    pub modules: Vec<String>,
    pub vmlinuz: PathBuf,
    pub vmlinuz_size: u64,
    /// The ELF kernel, or why there is none.
    pub vmlinux: std::result::Result<(PathBuf, u64), vmlinux::VmlinuxError>,
    pub uki: PathBuf,
    pub uki_size: u64,
    pub disk: PathBuf,
    pub disk_size: u64,
    pub qcow2: Option<(PathBuf, u64)>,
}

fn write(path: &Path, data: &[u8]) -> Result<u64> {
    std::fs::write(path, data).map_err(Error::io("writing", path))?;
    Ok(data.len() as u64)
}

fn size_of(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).map_err(Error::io("reading", path))?.len())
}

/// The modules to ask for: the appliance's, plus what the kernel's vfat
/// defaults need; each name once.
pub fn wanted_modules(appliance: &Appliance, kernel: &KernelTree) -> Result<Vec<modules::Want>> {
    let mut wants = modules::wanted(appliance);
    if let Some(config) = &kernel.config {
        let text = std::fs::read_to_string(config).map_err(Error::io("reading", config))?;
        wants.extend(modules::fat_defaults(&text));
    }
    let mut seen = std::collections::HashSet::new();
    wants.retain(|w| seen.insert(w.name.clone()));
    Ok(wants)
}

/// The initramfs for one config: the gzipped cpio, its uncompressed size and
/// the modules in it.
pub fn initramfs(
    wants: &[modules::Want],
    config: &[u8],
    agent: &[u8],
    module_tree: &mut ModuleTree,
    overlay: Option<&Path>,
    extras: &[Extra],
) -> Result<(Vec<u8>, u64, Vec<String>)> {
    let order = module_tree.resolve(wants)?;
    for skipped in &order.skipped {
        note(format!("module skipped: {skipped}"));
    }
    let names: Vec<String> = order.modules.iter().map(|m| m.name.clone()).collect();
    note(format!("{} modules in load order: {}", names.len(), names.join(" ")));
    let (tree, notes) = rootfs::tree(&rootfs::Inputs { agent, config, modules: &order.modules, overlay, extras })?;
    for n in notes {
        note(n);
    }
    let cpio = tree.to_cpio()?;
    note(format!("compressing the initramfs ({})", progress::size(cpio.len() as u64)));
    Ok((initramfs::gzip(&cpio), cpio.len() as u64, names))
}

pub fn build(o: &Options) -> Result<Report> {
    // Read first: a missing file stops the build before it writes anything.
    let pki_files = match o.pki {
        Some(dir) => pki::files(dir)?,
        None => Vec::new(),
    };
    std::fs::create_dir_all(o.out).map_err(Error::io("creating", o.out))?;
    let config = std::fs::read(o.config_file).map_err(Error::io("reading", o.config_file))?;
    let agent_bytes = std::fs::read(o.agent).map_err(Error::io("reading", o.agent))?;
    agent::check(o.agent, &agent_bytes)?;

    note(format!("kernel {} from {}", o.kernel.release, o.kernel.root.display()));
    let mut module_tree = ModuleTree::open(&o.kernel.modules_dir)?;
    let (initrd, uncompressed, modules) = initramfs(
        &wanted_modules(o.appliance, o.kernel)?,
        &config,
        &agent_bytes,
        &mut module_tree,
        o.overlay,
        o.extras,
    )?;
    let initramfs_path = o.out.join("initramfs.cpio.gz");
    let initramfs_size = write(&initramfs_path, &initrd)?;

    let vmlinuz = o.out.join("vmlinuz");
    std::fs::copy(&o.kernel.vmlinuz, &vmlinuz).map_err(Error::io("copying the kernel to", &vmlinuz))?;
    let vmlinux_path = o.out.join("vmlinux");
    let vmlinux = match vmlinux::extract_file(&o.kernel.vmlinuz) {
        Ok(elf) => Ok((vmlinux_path.clone(), write(&vmlinux_path, &elf)?)),
        Err(Error::Vmlinux { source, .. }) => {
            note(format!("no vmlinux (PVH boots need it): {source}"));
            // A stale one from an earlier build would boot the wrong kernel.
            let _ = std::fs::remove_file(&vmlinux_path);
            Err(source)
        }
        Err(e) => return Err(e),
    };

    let cmdline = match o.cmdline_extra.map(str::trim).filter(|c| !c.is_empty()) {
        Some(extra) => format!("{} {extra}", uki::CMDLINE),
        None => uki::CMDLINE.to_string(),
    };
    let uki_path = o.out.join("BOOTX64.EFI");
    note(format!("joining the UKI (command line: {cmdline})"));
    uki::join(
        o.objcopy,
        &uki::Parts {
            stub: o.stub,
            vmlinuz: &o.kernel.vmlinuz,
            initrd: &initrd,
            cmdline: &cmdline,
            os_release: &uki::os_release(o.appliance.hostname.as_deref()),
        },
        &uki_path,
    )?;
    let uki_bytes = std::fs::read(&uki_path).map_err(Error::io("reading", &uki_path))?;

    let disk_path = o.out.join("disk.img");
    note(format!("writing {}", disk_path.display()));
    for (name, _) in &pki_files {
        note(format!("{}: {name}", disk::CONFIG));
    }
    disk::write_with(&disk_path, &uki_bytes, &config, &pki_files)?;

    let qcow2 = if o.qcow2 {
        let path = o.out.join("disk.qcow2");
        note(format!("converting to {}", path.display()));
        command::run(
            "qemu-img",
            ["convert".as_ref(), "-O".as_ref(), "qcow2".as_ref(), disk_path.as_os_str(), path.as_os_str()],
            None,
        )?;
        Some((path.clone(), size_of(&path)?))
    } else {
        None
    };

    Ok(Report {
        agent_size: agent_bytes.len() as u64,
        initramfs: initramfs_path,
        initramfs_size,
        initramfs_uncompressed: uncompressed,
        modules,
        vmlinuz_size: size_of(&vmlinuz)?,
        vmlinuz,
        vmlinux,
        uki_size: uki_bytes.len() as u64,
        uki: uki_path,
        disk_size: size_of(&disk_path)?,
        disk: disk_path,
        qcow2,
    })
}
