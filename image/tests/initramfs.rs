//! The initramfs: the layout docs/BOOT.md gives, read back with the cpio crate's
//! reader, and byte-identical output for identical inputs.

mod common;

use common::{appliance, fake_agent, kernel_tree, DEBIAN_LIKE, DIRECTOR, RELEASE};
use lvs_image::build;
use lvs_image::modules::ModuleTree;
use lvs_image::rootfs::Extra;
use std::io::Read;
use std::path::Path;

struct Entry {
    name: String,
    ino: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: u32,
    data: Vec<u8>,
}

/// Every entry of a gzipped newc archive, trailer excluded.
fn list(gz: &[u8]) -> Vec<Entry> {
    let mut cpio = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut cpio).unwrap();
    let mut rest: &[u8] = &cpio;
    let mut entries = Vec::new();
    loop {
        let mut reader = cpio::NewcReader::new(rest).unwrap();
        let e = reader.entry();
        if e.is_trailer() {
            break;
        }
        let (name, ino, mode, uid, gid, mtime) = (e.name().to_string(), e.ino(), e.mode(), e.uid(), e.gid(), e.mtime());
        let mut data = Vec::new();
        reader.read_to_end(&mut data).unwrap();
        entries.push(Entry { name, ino, mode, uid, gid, mtime, data });
        rest = reader.finish().unwrap();
    }
    entries
}

/// Builds an initramfs for the director fixture with an overlay and an extra.
fn build_once(root: &Path) -> Vec<u8> {
    let kernel = root.join("kernel");
    if !kernel.exists() {
        kernel_tree(&kernel, DEBIAN_LIKE);
        let overlay = root.join("overlay");
        std::fs::create_dir_all(overlay.join("etc/ssl")).unwrap();
        std::fs::write(overlay.join("README.md"), "not copied").unwrap();
        std::fs::write(overlay.join("etc/ssl/ca.pem"), "CA").unwrap();
        std::fs::write(overlay.join("etc/motd"), "hello").unwrap();
        std::fs::write(root.join("extra.txt"), "extra").unwrap();
    }
    let mut modules = ModuleTree::open(&kernel.join("lib/modules").join(RELEASE)).unwrap();
    let extras: Vec<Extra> = vec![format!("{}:/opt/extra.txt", root.join("extra.txt").display()).parse().unwrap()];
    let (gz, _, _) = build::initramfs(
        &lvs_image::modules::wanted(&appliance(common::DIRECTOR)),
        DIRECTOR.as_bytes(),
        &fake_agent(),
        &mut modules,
        Some(&root.join("overlay")),
        &extras,
    )
    .unwrap();
    gz
}

#[test]
fn two_builds_are_byte_identical() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = build_once(a.path());
    // A second tree made elsewhere: other paths, mtimes and host inode numbers.
    let second = build_once(b.path());
    assert!(first == second, "initramfs differs between two builds of the same inputs");
    // gzip header: magic, deflate, no flags (no file name), mtime 0.
    assert_eq!(&first[..4], &[0x1f, 0x8b, 8, 0]);
    assert_eq!(&first[4..8], &[0, 0, 0, 0]);
}

#[test]
fn layout_follows_boot_md() {
    let dir = tempfile::tempdir().unwrap();
    let entries = list(&build_once(dir.path()));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();

    // Sorted by path with parents first, inodes counted 1, 2, 3...
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.split('/').cmp(b.split('/')));
    assert_eq!(names, sorted);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.ino, i as u32 + 1, "{}", e.name);
        assert_eq!((e.uid, e.gid, e.mtime), (0, 0, 0), "{}", e.name);
    }

    let get =
        |name: &str| entries.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name} missing from {names:?}"));
    assert_eq!(get("init").mode, 0o100755);
    assert_eq!(get("init").data, fake_agent());
    assert_eq!(get("etc/lvs/appliance.ron").data, DIRECTOR.as_bytes());
    for dir in ["dev", "proc", "sys", "run", "tmp", "config", "state"] {
        assert_eq!(get(dir).mode, 0o040755, "{dir}");
    }

    // The module list: absolute paths, each a file in the archive, dependencies first.
    let list = String::from_utf8(get("etc/lvs/modules").data.clone()).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines.len() > 20, "{list}");
    for line in &lines {
        let name = line.strip_prefix('/').unwrap();
        assert!(line.starts_with("/lib/modules/") && line.ends_with(".ko"), "{line}");
        assert_eq!(get(name).mode, 0o100644, "{name}");
        assert!(get(name).data.starts_with(b"\x7fELF"), "{name}");
    }
    let pos = |m: &str| lines.iter().position(|l| *l == format!("/lib/modules/{m}.ko")).unwrap();
    assert!(pos("nf_conntrack") < pos("ip_vs") && pos("ip_vs") < pos("ip_vs_wrr"));
    assert!(pos("nls_iso8859_1") < lines.len());

    // The overlay without its README, then the extra.
    assert_eq!(get("etc/ssl/ca.pem").data, b"CA");
    assert_eq!(get("etc/motd").mode, 0o100644);
    assert!(!names.contains(&"README.md"));
    assert_eq!(get("opt/extra.txt").data, b"extra");
}
