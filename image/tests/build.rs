//! `lvs-image build` end to end on a fake kernel tree, with a stand-in objcopy
//! (the real one needs a real EFI stub; the network test below uses both).

mod common;

use lvs_image::disk;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Fixture(common::Workspace);

impl Fixture {
    fn new() -> Fixture {
        let w = common::Workspace::new();
        std::fs::write(w.path("stub.efi"), b"MZ fake stub\n").unwrap();
        Fixture(w)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path(name)
    }

    fn build(&self, out: &str, more: &[&str]) -> Output {
        self.0
            .build_command(out)
            .arg("--kernel")
            .arg(self.path("kernel"))
            .arg("--stub")
            .arg(self.path("stub.efi"))
            .args(more)
            .output()
            .unwrap()
    }
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "build failed: {stderr}");
    format!("{}{stderr}", String::from_utf8_lossy(&out.stdout))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn build_writes_every_output() {
    let f = Fixture::new();
    let text = ok(&f.build("out", &["--cmdline", "lvs.loglevel=debug"]));
    let out = f.path("out");
    assert_eq!(read(&out.join("vmlinuz")), read(&f.path("kernel/boot/vmlinuz-6.1.0-99-test-amd64")));
    assert_eq!(read(&out.join("vmlinux")), common::fake_vmlinux());
    let uki = read(&out.join("BOOTX64.EFI"));
    assert!(uki.starts_with(b"MZ fake stub\n"));
    let initrd = read(&out.join("initramfs.cpio.gz"));
    assert!(uki.ends_with(&initrd), "the initramfs is the UKI's last section");
    // The UKI on the ESP is the one in the folder; the config is on its partition.
    let image = out.join("disk.img");
    assert!(disk::read_file(&image, disk::ESP, disk::BOOT_FILE).unwrap() == uki);
    assert_eq!(disk::read_file(&image, disk::CONFIG, disk::CONFIG_FILE).unwrap(), common::DIRECTOR.as_bytes());

    let args = String::from_utf8(read(&f.path("objcopy.args"))).unwrap();
    for section in [".osrel=", ".cmdline=", ".linux=", ".initrd="] {
        assert!(args.contains(section), "{args}");
    }
    assert!(args.contains(".linux=0x2000000") && args.contains(".initrd=0x3000000"), "{args}");
    assert!(
        String::from_utf8_lossy(&uki).contains("console=tty0 console=ttyS0 panic=-1 quiet lvs.loglevel=debug"),
        "the command line is in the UKI"
    );

    // The summary: sizes, and the initramfs's budget (the agent has none).
    for line in ["agent", "initramfs", "vmlinuz", "vmlinux", "disk.img", "under 4.00 MiB (budget ok)"] {
        assert!(text.contains(line), "summary lacks {line:?}:\n{text}");
    }
    assert!(text.contains("module skipped: ip_vs_twos"), "{text}");
    // vfat's default charset from the kernel's config.
    assert!(text.contains(" nls_ascii"), "{text}");
}

#[test]
fn two_builds_give_the_same_bytes() {
    let f = Fixture::new();
    ok(&f.build("a", &[]));
    ok(&f.build("b", &[]));
    for file in ["initramfs.cpio.gz", "BOOTX64.EFI", "disk.img", "vmlinux"] {
        assert!(read(&f.path("a").join(file)) == read(&f.path("b").join(file)), "{file} differs");
    }
}

#[test]
fn an_invalid_config_stops_the_build_with_status_2() {
    let f = Fixture::new();
    std::fs::write(f.path("director.ron"), "Appliance(role: Director(services: [Service(address: \"x\")]))").unwrap();
    let out = f.build("out", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!f.path("out").exists());
}

#[test]
fn a_dynamic_agent_is_refused() {
    let f = Fixture::new();
    // This test binary is a dynamically linked program on a glibc host.
    let me = std::env::current_exe().unwrap();
    if std::fs::read(&me).unwrap().windows(16).any(|w| w == b"/lib64/ld-linux-") {
        std::fs::copy(&me, f.path("agent")).unwrap();
        let out = f.build("out", &[]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is dynamically linked") && stderr.contains("make static"), "{stderr}");
    }
}

/// The names in a folder of the config partition ("" for its root), sorted.
fn config_listing(image: &Path, dir: &str) -> Vec<String> {
    let p = disk::partitions(image).unwrap().into_iter().find(|p| p.name == disk::CONFIG).unwrap();
    let mut file = std::fs::File::open(image).unwrap();
    file.seek(SeekFrom::Start(p.start)).unwrap();
    let mut fat = vec![0u8; p.len as usize];
    file.read_exact(&mut fat).unwrap();
    let fs = fatfs::FileSystem::new(Cursor::new(fat), fatfs::FsOptions::new()).unwrap();
    let folder = if dir.is_empty() { fs.root_dir() } else { fs.root_dir().open_dir(dir).unwrap() };
    let mut names: Vec<String> =
        folder.iter().map(|e| e.unwrap().file_name()).filter(|n| n != "." && n != "..").collect();
    names.sort();
    names
}

/// A folder as `lvs-agent pki init` leaves it, and more: only the public
/// files and the appliance's own identity may go on the disk.
fn pki_folder(f: &Fixture, with_crl: bool) -> PathBuf {
    let dir = f.path("pki");
    std::fs::create_dir_all(&dir).unwrap();
    let pem = |kind: &str, body: &str| format!("-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n");
    std::fs::write(dir.join("ca.pem"), pem("CERTIFICATE", "Y2E=")).unwrap();
    std::fs::write(dir.join("ca.key"), pem("PRIVATE KEY", "Y2Eua2V5")).unwrap();
    let server = format!("{}{}", pem("CERTIFICATE", "c2VydmVy"), pem("PRIVATE KEY", "c2VydmVyLmtleQ=="));
    std::fs::write(dir.join("server.pem"), server).unwrap();
    for client in ["admin.pem", "alice.pem"] {
        std::fs::write(dir.join(client), pem("PRIVATE KEY", "Y2xpZW50")).unwrap();
    }
    if with_crl {
        std::fs::write(dir.join("crl.pem"), pem("X509 CRL", "Y3Js")).unwrap();
    }
    dir
}

#[test]
fn pki_puts_only_the_appliance_files_on_the_config_partition() {
    let f = Fixture::new();
    let dir = pki_folder(&f, true);
    ok(&f.build("out", &["--pki", dir.to_str().unwrap()]));
    let image = f.path("out/disk.img");
    assert_eq!(config_listing(&image, ""), ["appliance.ron", "pki"]);
    assert_eq!(config_listing(&image, "pki"), ["ca.pem", "crl.pem", "server.pem"]);
    for file in ["ca.pem", "crl.pem", "server.pem"] {
        let on_disk = disk::read_file(&image, disk::CONFIG, &format!("pki/{file}")).unwrap();
        assert_eq!(on_disk, read(&dir.join(file)), "{file}");
    }
    assert_eq!(disk::read_file(&image, disk::CONFIG, disk::CONFIG_FILE).unwrap(), common::DIRECTOR.as_bytes());

    // Without a revocation list, the two others; without --pki, no folder.
    std::fs::remove_file(dir.join("crl.pem")).unwrap();
    ok(&f.build("two", &["--pki", dir.to_str().unwrap()]));
    assert_eq!(config_listing(&f.path("two/disk.img"), "pki"), ["ca.pem", "server.pem"]);
    ok(&f.build("none", &[]));
    assert_eq!(config_listing(&f.path("none/disk.img"), ""), ["appliance.ron"]);
}

#[test]
fn pki_without_its_files_or_with_a_key_in_ca_pem_fails_naming_the_file() {
    let f = Fixture::new();
    let dir = pki_folder(&f, false);
    for (file, change, says) in [
        ("server.pem", None, "missing; `lvs-agent pki init"),
        ("ca.pem", None, "missing; `lvs-agent pki init"),
        ("ca.pem", Some("-----BEGIN EC PRIVATE KEY-----\n"), "holds a private key"),
    ] {
        let kept = read(&dir.join(file));
        match change {
            Some(text) => std::fs::write(dir.join(file), text).unwrap(),
            None => std::fs::remove_file(dir.join(file)).unwrap(),
        }
        let out = f.build("out", &["--pki", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{}: {says}", dir.join(file).display())), "{stderr}");
        assert!(!f.path("out").exists(), "{file}: the output folder was made");
        std::fs::write(dir.join(file), kept).unwrap();
    }
}

#[test]
fn qcow2_when_asked() {
    if Command::new("qemu-img").arg("--version").output().is_err() {
        eprintln!("qemu-img not installed: skipped");
        return;
    }
    let f = Fixture::new();
    let text = ok(&f.build("out", &["--format", "qcow2"]));
    let qcow2 = read(&f.path("out/disk.qcow2"));
    assert!(qcow2.starts_with(b"QFI\xfb"), "not a qcow2 file");
    assert!(text.contains("disk.qcow2"), "{text}");
}

/// The real thing: Debian's kernel and stub from the lock, the real objcopy,
/// the static agent. Needs the package archive; run with LVS_IMAGE_NET_TESTS=1
/// (and LVS_IMAGE_AGENT=path, default out/lvs-agent from `make static`).
#[test]
fn real_debian_build() {
    if std::env::var("LVS_IMAGE_NET_TESTS").as_deref() != Ok("1") {
        eprintln!("set LVS_IMAGE_NET_TESTS=1 to build with the real Debian kernel");
        return;
    }
    let root = common::repo_root();
    let agent = std::env::var("LVS_IMAGE_AGENT").map(PathBuf::from).unwrap_or_else(|_| root.join("out/lvs-agent"));
    let real_build = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_lvs-image"))
            .current_dir(&root)
            .args(["build", "--config", "examples/001-dr-wrr-director.ron", "--agent"])
            .arg(&agent)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let out = tempfile::tempdir().unwrap();
    let text = ok(&real_build(out.path()));
    // Reproducible with the real objcopy too (it stamps the time; we clear it).
    let again = tempfile::tempdir().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(&real_build(again.path()));
    for file in ["initramfs.cpio.gz", "BOOTX64.EFI", "disk.img"] {
        assert!(read(&out.path().join(file)) == read(&again.path().join(file)), "{file} differs");
    }
    assert!(read(&out.path().join("vmlinux")).starts_with(b"\x7fELF"));
    let config = disk::read_file(&out.path().join("disk.img"), disk::CONFIG, disk::CONFIG_FILE).unwrap();
    assert_eq!(config, read(&root.join("examples/001-dr-wrr-director.ron")));
    for m in ["nf_conntrack ip_vs ip_vs_rr", "virtio_pci", "vfat"] {
        assert!(text.contains(m), "{m}: {text}");
    }
    assert!(text.contains("under 4.00 MiB (budget ok)"), "{text}");
    // The UKI has the four sections at the lab's addresses.
    let uki = read(&out.path().join("BOOTX64.EFI"));
    let pe = object::File::parse(&*uki).unwrap();
    use object::{Object, ObjectSection};
    for (name, addr) in [(".osrel", 0x20000u64), (".cmdline", 0x30000), (".linux", 0x2000000), (".initrd", 0x3000000)] {
        let section = pe.section_by_name(name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(section.address() - pe.relative_address_base(), addr, "{name}");
    }
}
