//! Fixtures shared by the image tests: tiny ELF modules with a `.modinfo`
//! section, a fake kernel tree, a fake bzImage, a fake static agent.
#![allow(dead_code)] // each test file uses its own part of this

use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness, SectionKind};
use std::path::{Path, PathBuf};

/// A relocatable x86_64 ELF with one `.modinfo` section holding `entries`
/// (`"depends=a,b"`, `"softdep=pre: c"`...), NUL-separated as the kernel writes them.
pub fn module_elf(name: &str, entries: &[&str]) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let section = obj.add_section(Vec::new(), b".modinfo".to_vec(), SectionKind::ReadOnlyData);
    let mut data = Vec::new();
    for e in entries.iter().copied().chain([format!("name={}", name.replace('-', "_")).as_str()]) {
        data.extend_from_slice(e.as_bytes());
        data.push(0);
    }
    obj.append_section_data(section, &data, 1);
    obj.write().expect("write a fixture ELF")
}

/// An x86_64 ELF without a program interpreter: passes the "static agent" check.
pub fn fake_agent() -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let section = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
    obj.append_section_data(section, &[0xc3; 64], 16);
    obj.write().expect("write a fixture ELF")
}

/// A bzImage-shaped file whose payload is `elf` in LZ4 legacy frames, as
/// Debian's cloud kernel has it.
pub fn fake_bzimage(elf: &[u8]) -> Vec<u8> {
    let mut payload = 0x184C_2102u32.to_le_bytes().to_vec();
    for chunk in elf.chunks(8 << 20) {
        let block = lz4_flex::block::compress(chunk);
        payload.extend_from_slice(&(block.len() as u32).to_le_bytes());
        payload.extend_from_slice(&block);
    }
    payload.extend_from_slice(&(elf.len() as u32).to_le_bytes());
    let setup_sects = 3usize;
    let pm = (setup_sects + 1) * 512;
    let mut bz = vec![0u8; pm + 0x100];
    bz[0x1f1] = setup_sects as u8;
    bz[0x202..0x206].copy_from_slice(b"HdrS");
    bz[0x248..0x24c].copy_from_slice(&0x100u32.to_le_bytes());
    bz[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    bz.extend_from_slice(&payload);
    bz
}

/// The fake vmlinux inside [`fake_bzimage`] in [`kernel_tree`].
pub fn fake_vmlinux() -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend((0..20_000u32).map(|i| (i % 7) as u8));
    elf
}

pub const RELEASE: &str = "6.1.0-99-test-amd64";

/// One module of a fake kernel: its folder under kernel/, file name, modinfo.
pub struct Ko<'a>(pub &'a str, pub &'a str, pub &'a [&'a str]);

/// The modules the IPVS and virtio paths of Debian's 6.1 cloud kernel have,
/// with the dependencies their .modinfo really declares (crc32c_generic is
/// built in there, so `crc32c` resolves to crc32c-intel by its alias).
pub const DEBIAN_LIKE: &[Ko<'static>] = &[
    Ko("drivers/virtio", "virtio_ring", &["depends="]),
    Ko("drivers/virtio", "virtio", &["depends="]),
    Ko("drivers/virtio", "virtio_pci_modern_dev", &["depends="]),
    Ko("drivers/virtio", "virtio_pci_legacy_dev", &["depends="]),
    Ko("drivers/virtio", "virtio_pci", &["depends=virtio_pci_modern_dev,virtio_pci_legacy_dev,virtio_ring,virtio"]),
    Ko("drivers/block", "virtio_blk", &["depends=virtio,virtio_ring"]),
    Ko("net/core", "failover", &["depends="]),
    Ko("drivers/net", "net_failover", &["depends=failover"]),
    Ko("drivers/net", "virtio_net", &["depends=net_failover,virtio,virtio_ring"]),
    Ko("fs/fat", "fat", &["depends="]),
    Ko("fs/fat", "vfat", &["depends=fat"]),
    Ko("fs/nls", "nls_cp437", &["depends="]),
    Ko("fs/nls", "nls_utf8", &["depends="]),
    Ko("fs/nls", "nls_iso8859-1", &["depends="]),
    Ko("fs/nls", "nls_ascii", &["depends="]),
    Ko("arch/x86/crypto", "crc32c-intel", &["alias=crypto-crc32c", "alias=crc32c", "depends="]),
    Ko("lib", "libcrc32c", &["softdep=pre: crc32c", "depends="]),
    Ko("net/ipv4/netfilter", "nf_defrag_ipv4", &["depends="]),
    Ko("net/ipv6/netfilter", "nf_defrag_ipv6", &["depends="]),
    Ko("net/netfilter", "nf_conntrack", &["depends=nf_defrag_ipv6,nf_defrag_ipv4,libcrc32c"]),
    Ko("net/netfilter/ipvs", "ip_vs", &["depends=nf_conntrack,nf_defrag_ipv6,libcrc32c"]),
    Ko("net/netfilter/ipvs", "ip_vs_rr", &["depends=ip_vs"]),
    Ko("net/netfilter/ipvs", "ip_vs_wrr", &["depends=ip_vs"]),
    Ko("net/netfilter/ipvs", "ip_vs_pe_sip", &["depends=ip_vs,nf_conntrack"]),
    Ko("net/ipv4", "tunnel4", &["depends="]),
    Ko("net/ipv4", "ip_tunnel", &["depends="]),
    Ko("net/ipv4", "ipip", &["depends=ip_tunnel,tunnel4", "alias=tunl0"]),
];

/// A kernel tree in Debian's layout under `root`, with `modules`.
pub fn kernel_tree(root: &Path, modules: &[Ko]) -> PathBuf {
    let boot = root.join("boot");
    std::fs::create_dir_all(&boot).unwrap();
    std::fs::write(boot.join(format!("vmlinuz-{RELEASE}")), fake_bzimage(&fake_vmlinux())).unwrap();
    std::fs::write(
        boot.join(format!("config-{RELEASE}")),
        "CONFIG_FAT_DEFAULT_CODEPAGE=437\nCONFIG_FAT_DEFAULT_IOCHARSET=\"ascii\"\n",
    )
    .unwrap();
    let mods = root.join("lib/modules").join(RELEASE);
    for Ko(dir, name, info) in modules {
        let folder = mods.join("kernel").join(dir);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{name}.ko")), module_elf(name, info)).unwrap();
    }
    std::fs::write(mods.join("modules.builtin"), "kernel/crypto/crc32c_generic.ko\nkernel/fs/nls/nls_base.ko\n")
        .unwrap();
    root.to_path_buf()
}

/// Parses RON config text as lvs-agent does.
pub fn appliance(text: &str) -> lvs_config::model::Appliance {
    lvs_config::parse(text, Path::new("test.ron")).unwrap_or_else(|e| panic!("fixture config is invalid: {e:?}")).model
}

pub const DIRECTOR: &str = r#"Appliance(
    hostname: "ds1",
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.10/24"])],
    role: Director(
        vips: [Vip(address: "192.0.2.100", interface: "eth0")],
        services: [
            Service(
                address: "192.0.2.100:80",
                protocol: Tcp,
                scheduler: Wrr,
                forwarding: DirectRouting,
                real_servers: [RealServer(address: "192.0.2.21:80", weight: 1)],
            ),
        ],
    ),
)
"#;

pub const TUN_REAL_SERVER: &str = r#"Appliance(
    hostname: "r1",
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.21/24"])],
    role: RealServer(mode: Tunnel, vips: ["192.0.2.100"], rp_filter: 0),
)
"#;

/// The workspace's root (tests run in image/).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An objcopy stand-in: writes the stub followed by every added section's file,
/// and records its arguments, so the test sees what the UKI was made of.
pub const FAKE_OBJCOPY: &str = r#"#!/bin/sh
echo "$@" > "$(dirname "$0")/objcopy.args"
stub=""; out=""; files=""
while [ $# -gt 0 ]; do
  case "$1" in
    --add-section) files="$files ${2#*=}"; shift 2 ;;
    --change-section-vma) shift 2 ;;
    *) if [ -z "$stub" ]; then stub=$1; else out=$1; fi; shift ;;
  esac
done
cat "$stub" $files > "$out"
"#;

/// Writes [`FAKE_OBJCOPY`] to `path`, executable.
pub fn fake_objcopy(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, FAKE_OBJCOPY).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A folder with what `lvs-image build` needs but the kernel's packages: a
/// fake kernel tree, agent, config, overlay and objcopy.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        kernel_tree(&root.join("kernel"), DEBIAN_LIKE);
        std::fs::write(root.join("agent"), fake_agent()).unwrap();
        std::fs::write(root.join("director.ron"), DIRECTOR).unwrap();
        std::fs::create_dir(root.join("overlay")).unwrap();
        fake_objcopy(&root.join("objcopy"));
        Workspace { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `lvs-image build` of the director into `out`, with the folder's
    /// agent, overlay and objcopy; the caller adds the kernel and the stub.
    pub fn build_command(&self, out: &str) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lvs-image"));
        command.arg("build").arg("--config").arg(self.path("director.ron"));
        command.arg("--agent").arg(self.path("agent")).arg("--out").arg(self.path(out));
        command.arg("--overlay").arg(self.path("overlay")).arg("--objcopy").arg(self.path("objcopy"));
        command
    }
}
