//! A lock that names a version the archive does not have (issue 13, item 5):
//! `lvs-image build` refuses it, `--stale-fallback` builds with the archive's
//! current version checked against apt's index and leaves the lock alone, and
//! `--repin` builds with it and writes it into the lock.
//!
//! The stale pin is the EFI stub's (systemd-boot-efi, 110 KiB), not the
//! kernel's: the kernel is a fake tree given with --kernel. These tests ask
//! apt's index (apt-cache, the lists on this machine) and download the stub
//! with apt-get from Debian's archive; no root is needed when the lists are
//! current (a pin older than what they list needs no `apt-get update`).

mod common;

use lvs_image::lock::{KernelLock, Pinned};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GONE: &str = "0.0.0-does-not-exist";

struct Fixture(common::Workspace);

impl Fixture {
    /// The repository's lock with the stub pinned at a version that does not
    /// exist, a fake kernel tree, agent and objcopy, and an empty cache.
    fn new() -> Fixture {
        let w = common::Workspace::new();
        let mut lock = KernelLock::read(&common::repo_root().join("image/kernel.lock")).unwrap();
        lock.stub.version = GONE.into();
        lock.write(&w.path("kernel.lock")).unwrap();
        Fixture(w)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path(name)
    }

    /// `lvs-image build` with the fake kernel: only the stub comes from the lock.
    fn build(&self, more: &[&str]) -> Output {
        let kernel = self.path("kernel");
        self.build_taking(&["--kernel", kernel.to_str().unwrap()], more)
    }

    /// `lvs-image build` taking `given` (--kernel or --stub) instead of the lock's.
    fn build_taking(&self, given: &[&str], more: &[&str]) -> Output {
        self.0
            .build_command("out")
            .args(given)
            .arg("--lock")
            .arg(self.path("kernel.lock"))
            .arg("--cache")
            .arg(self.path("cache"))
            .args(more)
            .output()
            .unwrap()
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.path("kernel.lock")).unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn apt_cache(args: &[&str]) -> String {
    let out = Command::new("apt-cache").args(args).output().expect("these tests need apt-cache");
    assert!(out.status.success(), "apt-cache {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// systemd-boot-efi as the archive has it now, asked of apt directly (not
/// through lvs-image's code): its candidate version and the index's sha256.
fn stub_in_archive() -> Pinned {
    let policy = apt_cache(&["policy", "systemd-boot-efi"]);
    let version = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .expect("apt-cache policy systemd-boot-efi has a candidate: is Debian's archive in apt's sources?")
        .to_string();
    let show = apt_cache(&["show", &format!("systemd-boot-efi={version}")]);
    let sha256 = show.lines().find_map(|l| l.strip_prefix("SHA256: ")).expect("the index lists a SHA256").to_string();
    Pinned { name: "systemd-boot-efi".into(), version, sha256 }
}

fn sha256(path: &Path) -> String {
    lvs_image::apt::sha256_file(path).unwrap()
}

fn stale_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.contains("STALE LOCK")).collect()
}

#[test]
fn a_plain_build_refuses_a_stale_pin_naming_the_package_the_version_and_the_command() {
    let f = Fixture::new();
    let before = f.lock();
    let out = f.build(&[]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("systemd-boot-efi {GONE} can no longer be downloaded")), "{text}");
    assert!(text.contains("`make image-lock`") && text.contains("--repin"), "{text}");
    assert!(stale_lines(&text).is_empty(), "a refusal is an error, not a fallback: {text}");
    assert_eq!(f.lock(), before, "the lock is left alone");
    assert!(!f.path("out/disk.img").exists());
}

#[test]
fn a_stale_kernel_is_judged_by_what_the_flavour_points_at_now() {
    // The kernel's package name carries its ABI (-56, -57...): what stands in
    // its place is what linux-image-cloud-amd64 depends on today, not a later
    // version of the same name. Refused here, so nothing is downloaded.
    let f = Fixture::new();
    let mut lock = KernelLock::read(&f.path("kernel.lock")).unwrap();
    lock.kernel.version = GONE.into();
    lock.write(&f.path("kernel.lock")).unwrap();
    std::fs::write(f.path("stub.efi"), b"MZ fake stub\n").unwrap();
    let depends = apt_cache(&["depends", &lock.flavour]);
    let image = depends
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").filter(|p| p.starts_with("linux-image-")))
        .expect("the flavour depends on a kernel package");
    let stub = f.path("stub.efi");
    let out = f.build_taking(&["--stub", stub.to_str().unwrap()], &[]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("{} {GONE} can no longer be downloaded", lock.kernel.name)), "{text}");
    assert!(text.contains(&format!("apt's index lists {image}")) && text.contains(" in its place"), "{text}");
}

#[test]
fn stale_fallback_builds_with_the_archives_version_checked_against_the_index_and_leaves_the_lock() {
    let f = Fixture::new();
    let before = f.lock();
    let now = stub_in_archive();
    let out = f.build(&["--stale-fallback"]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");

    let lines = stale_lines(&text);
    assert_eq!(lines.len(), 1, "one loud line: {text}");
    let line = lines[0];
    let lock = f.path("kernel.lock");
    for part in [
        format!("STALE LOCK {}:", lock.display()),
        format!("systemd-boot-efi {GONE} is gone from Debian's archive"),
        format!("using systemd-boot-efi {} (sha256 {}, as apt's index lists it)", now.version, now.sha256),
        format!("re-pin with `lvs-image lock --lock {}`", lock.display()),
    ] {
        assert!(line.contains(&part), "{part:?} not in {line}");
    }
    assert_eq!(f.lock(), before, "the lock is left alone");

    // The .deb used is the index's file, and its stub is what the UKI was made from.
    let deb = std::fs::read_dir(f.path("cache/debs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("systemd-boot-efi_"))
        .expect("the stub's .deb is in the cache");
    assert_eq!(sha256(&deb), now.sha256);
    let stub = std::fs::read(
        f.path("cache/unpacked")
            .join(format!("systemd-boot-efi_{}", now.version.replace(':', "%3a")))
            .join("usr/lib/systemd/boot/efi/linuxx64.efi.stub"),
    )
    .unwrap();
    assert!(stub.starts_with(b"MZ"), "a PE file");
    let args = std::fs::read_to_string(f.path("objcopy.args")).unwrap();
    let unpacked = f.path("cache/unpacked").join(format!("systemd-boot-efi_{}", now.version.replace(':', "%3a")));
    assert!(args.contains(&format!("{}/usr/lib/systemd/boot/efi/linuxx64.efi.stub", unpacked.display())), "{args}");
    // The build zeroes the PE header's time stamp and checksum; the DOS header is the stub's.
    let uki = std::fs::read(f.path("out/BOOTX64.EFI")).unwrap();
    assert!(uki[..0x40] == stub[..0x40], "the UKI is built on the archive's stub");
    let on_esp = lvs_image::disk::read_file(&f.path("out/disk.img"), lvs_image::disk::ESP, lvs_image::disk::BOOT_FILE);
    assert!(on_esp.unwrap() == uki);

    // The next build on this cache (the lab builds dozens) takes the same file
    // from what the first one recorded, without asking apt, and says the same line.
    std::fs::remove_dir_all(f.path("out")).unwrap();
    let again = f.build(&["--stale-fallback"]);
    let again_text = stderr(&again);
    assert!(again.status.success(), "{again_text}");
    assert_eq!(stale_lines(&again_text), lines, "{again_text}");
    assert!(!again_text.contains("downloading"), "{again_text}");
    assert!(std::fs::read(f.path("out/BOOTX64.EFI")).unwrap() == uki);
    assert_eq!(f.lock(), before);
}

#[test]
fn stale_fallback_refuses_a_file_that_does_not_match_the_index() {
    let f = Fixture::new();
    let now = stub_in_archive();
    // What a corrupt download or a tampered cache would leave where apt-get puts the file.
    let debs = f.path("cache/debs");
    std::fs::create_dir_all(&debs).unwrap();
    let bad = debs.join(format!("systemd-boot-efi_{}_amd64.deb", now.version.replace(':', "%3a")));
    std::fs::write(&bad, b"not the archive's file").unwrap();
    let out = f.build(&["--stale-fallback"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("but apt's index lists {}", now.sha256)), "{text}");
    assert!(text.contains(&bad.display().to_string()), "{text}");
    assert!(!f.path("out/disk.img").exists());
}

#[test]
fn repin_builds_with_the_archives_version_and_writes_it_into_the_lock() {
    let f = Fixture::new();
    let before = KernelLock::read(&f.path("kernel.lock")).unwrap();
    let now = stub_in_archive();
    let out = f.build(&["--repin"]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(stale_lines(&text).len(), 1, "{text}");
    assert!(text.contains("--repin: the new pins go into"), "{text}");
    assert!(text.contains("re-pinned "), "{text}");

    let after = KernelLock::read(&f.path("kernel.lock")).unwrap();
    assert_eq!(after.stub, now, "the stub is pinned at the archive's version, by the index's sha256");
    assert_eq!(after.kernel, before.kernel, "a pin the build did not fetch stays");
    assert_eq!(after.flavour, before.flavour);
    assert!(f.path("out/disk.img").is_file());

    // The re-pinned lock now builds without any flag, and says nothing stale.
    let again = f.build(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stale_lines(&stderr(&again)).is_empty(), "{}", stderr(&again));
}

#[test]
fn repin_and_stale_fallback_exclude_each_other() {
    let f = Fixture::new();
    let out = f.build(&["--repin", "--stale-fallback"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));
}
