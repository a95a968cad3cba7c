//! The lab's packages when a pin goes stale (issue 13, item 5): a copy of
//! tests/qemu.lock that pins busybox-static at a version that does not exist
//! still gives a usable busybox, the archive's current one, checked against
//! apt's index, with one line that says the lock is stale and how to re-pin.
//!
//! A host test, not a lab test: no VM, no namespace. It needs apt and Debian's
//! archive (it downloads busybox-static, 0.9 MB, into a temporary cache), as
//! the lab does; run it as root, as the lab (apt-get download runs as root).

use std::path::Path;
use std::process::Command;

use lvs_tests::lab::debs::{ensure_unpacked_in, Lock};
use lvs_tests::lab::GUEST_TOOLS_PACKAGES;

const GONE: &str = "0.0.0-does-not-exist";

fn apt_cache(args: &[&str]) -> String {
    let out = Command::new("apt-cache").args(args).output().expect("the lab needs apt-cache");
    assert!(out.status.success(), "apt-cache {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// busybox-static as the archive has it now, asked of apt directly (not
/// through the harness): (candidate version, the index's sha256).
fn busybox_in_archive() -> (String, String) {
    let policy = apt_cache(&["policy", "busybox-static"]);
    let version = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .expect("apt-cache policy busybox-static has a candidate: is Debian's archive in apt's sources?")
        .to_string();
    let show = apt_cache(&["show", &format!("busybox-static={version}")]);
    let sha256 = show.lines().find_map(|l| l.strip_prefix("SHA256: ")).expect("the index lists a SHA256").to_string();
    (version, sha256)
}

fn sha256(path: &Path) -> String {
    lvs_image::apt::sha256_file(path).unwrap()
}

fn echo_ok(busybox: &Path) -> String {
    let out = Command::new(busybox).args(["echo", "ok"]).output().unwrap();
    assert!(out.status.success(), "{} echo ok: {:?}", busybox.display(), out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_pin_the_archive_does_not_have_falls_back_to_its_current_version_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let real = Lock::load().unwrap();
    let mut stale = real.clone();
    for pin in stale.pins.iter_mut().filter(|p| p.package == "busybox-static") {
        pin.version = GONE.into();
    }
    let lock_path = dir.path().join("qemu.lock");
    std::fs::write(&lock_path, stale.render()).unwrap();
    let pins = Lock::parse(&std::fs::read_to_string(&lock_path).unwrap(), &lock_path)
        .unwrap()
        .group("guest-tools", GUEST_TOOLS_PACKAGES)
        .unwrap();
    assert_eq!(pins[0].version, GONE);

    let (version, index_sha256) = busybox_in_archive();
    let unpacked = ensure_unpacked_in(&cache, &lock_path, "guest-tools", &pins).unwrap();

    // One line: the lock is stale, what is used instead, by which sha256, what to run.
    let line = unpacked.stale.as_deref().expect("a stale pin is said");
    assert!(!line.contains('\n'), "{line}");
    for part in [
        format!("lab: STALE LOCK {}:", lock_path.display()),
        format!("busybox-static {GONE} is gone from Debian's archive"),
        format!("using busybox-static {version} (sha256 {index_sha256}, as apt's index lists it)"),
        "re-pin with `make lab-lock`".to_string(),
    ] {
        assert!(line.contains(&part), "{part:?} not in {line}");
    }
    // The file used is the one the index lists, and what it holds runs.
    let deb = std::fs::read_dir(cache.join("debs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("busybox-static_"))
        .expect("the .deb is in the cache");
    assert_eq!(sha256(&deb), index_sha256);
    assert_eq!(echo_ok(&unpacked.root.join("bin/busybox")), "ok\n");

    // Asked again (another test, another process): the same tree and the same line.
    let again = ensure_unpacked_in(&cache, &lock_path, "guest-tools", &pins).unwrap();
    assert_eq!(again.root, unpacked.root);
    assert_eq!(again.stale, unpacked.stale);

    // The real lock's pin, when it is what the archive has: no line (and no
    // download: the .deb is cached). Skipped once the archive has moved past it.
    let current = real.group("guest-tools", GUEST_TOOLS_PACKAGES).unwrap();
    if current[0].version == version {
        let fresh = ensure_unpacked_in(&cache, &lock_path, "guest-tools", &current).unwrap();
        assert_eq!(fresh.stale, None);
        assert_eq!(echo_ok(&fresh.root.join("bin/busybox")), "ok\n");
    }
}
