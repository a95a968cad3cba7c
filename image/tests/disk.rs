//! disk.img: the GPT table and FAT partitions docs/BOOT.md gives, read back
//! with the gpt and fatfs crates directly; and `set-config` on it.

mod common;

use lvs_image::disk;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

const MIB: u64 = 1 << 20;

/// One partition's bytes and GPT entry, by GPT name.
fn partition(image: &Path, name: &str) -> (gpt::partition::Partition, Vec<u8>) {
    let disk = gpt::GptConfig::new().writable(false).open(image).unwrap();
    let p =
        disk.partitions().values().find(|p| p.name == name).unwrap_or_else(|| panic!("no partition {name}")).clone();
    let lb = gpt::disk::LogicalBlockSize::Lb512;
    let mut file = std::fs::File::open(image).unwrap();
    file.seek(SeekFrom::Start(p.bytes_start(lb).unwrap())).unwrap();
    let mut data = vec![0u8; p.bytes_len(lb).unwrap() as usize];
    file.read_exact(&mut data).unwrap();
    (p, data)
}

fn fat_file(fat: Vec<u8>, path: &str) -> Vec<u8> {
    let fs = fatfs::FileSystem::new(Cursor::new(fat), fatfs::FsOptions::new()).unwrap();
    let mut data = Vec::new();
    fs.root_dir().open_file(path).unwrap().read_to_end(&mut data).unwrap();
    data
}

fn fake_uki() -> Vec<u8> {
    let mut uki = b"MZ fake UKI ".to_vec();
    uki.extend((0..3_000_000u32).map(|i| (i * 7 % 256) as u8));
    uki
}

#[test]
fn gpt_names_types_sizes_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let uki = fake_uki();
    disk::write(&image, &uki, common::DIRECTOR.as_bytes()).unwrap();
    assert_eq!(std::fs::metadata(&image).unwrap().len(), disk::image_size());

    let table = gpt::GptConfig::new().writable(false).open(&image).unwrap();
    let parts: Vec<_> = table.partitions().iter().map(|(n, p)| (*n, p.name.clone())).collect();
    assert_eq!(parts, [(1, "ESP".to_string()), (2, "lvs-config".into()), (3, "lvs-state".into())]);

    let (esp, esp_fat) = partition(&image, "ESP");
    assert_eq!(esp.part_type_guid, gpt::partition_types::EFI);
    assert_eq!(esp.first_lba, 2048, "1 MiB aligned");
    assert_eq!(esp.bytes_len(gpt::disk::LogicalBlockSize::Lb512).unwrap(), 64 * MIB);
    {
        let fs = fatfs::FileSystem::new(Cursor::new(esp_fat.clone()), fatfs::FsOptions::new()).unwrap();
        assert_eq!(fs.fat_type(), fatfs::FatType::Fat32);
    }
    assert!(fat_file(esp_fat, "EFI/BOOT/BOOTX64.EFI") == uki);

    let (config, config_fat) = partition(&image, "lvs-config");
    assert_eq!(config.part_type_guid, gpt::partition_types::LINUX_FS);
    assert_eq!(config.bytes_len(gpt::disk::LogicalBlockSize::Lb512).unwrap(), 8 * MIB);
    assert_eq!(fat_file(config_fat, "appliance.ron"), common::DIRECTOR.as_bytes());

    let (state, state_fat) = partition(&image, "lvs-state");
    assert_eq!(state.bytes_len(gpt::disk::LogicalBlockSize::Lb512).unwrap(), 32 * MIB);
    let fs = fatfs::FileSystem::new(Cursor::new(state_fat), fatfs::FsOptions::new()).unwrap();
    assert_eq!(fs.root_dir().iter().count(), 0, "the state partition starts empty");

    // Our own reader agrees.
    assert_eq!(disk::read_file(&image, "lvs-config", "appliance.ron").unwrap(), common::DIRECTOR.as_bytes());
}

#[test]
fn same_inputs_same_image() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    disk::write(&a, &fake_uki(), b"x").unwrap();
    disk::write(&b, &fake_uki(), b"x").unwrap();
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
}

fn set_config(image: &Path, config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lvs-image")).arg("set-config").arg(image).arg(config).output().unwrap()
}

#[test]
fn set_config_replaces_the_file_and_refuses_an_invalid_one() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    disk::write(&image, &fake_uki(), common::DIRECTOR.as_bytes()).unwrap();

    let examples = common::repo_root().join("examples");
    let new = examples.join("002-dr-rr-director.ron");
    let out = set_config(&image, &new);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(disk::read_file(&image, "lvs-config", "appliance.ron").unwrap(), std::fs::read(&new).unwrap());
    // A shorter file replaces a longer one whole.
    let short = dir.path().join("short.ron");
    std::fs::write(&short, common::TUN_REAL_SERVER).unwrap();
    assert!(set_config(&image, &short).status.success());
    assert_eq!(disk::read_file(&image, "lvs-config", "appliance.ron").unwrap(), common::TUN_REAL_SERVER.as_bytes());
    // The boot partition is untouched.
    assert!(fat_file(partition(&image, "ESP").1, "EFI/BOOT/BOOTX64.EFI") == fake_uki());

    let before = std::fs::read(&image).unwrap();
    let refused = examples.join("001-dr-portmap-8099-refused.ron");
    let out = set_config(&image, &refused);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("001-dr-portmap-8099-refused.ron:") && stderr.contains("error:"), "{stderr}");
    assert!(stderr.contains("left as it was"), "{stderr}");
    assert!(std::fs::read(&image).unwrap() == before, "an invalid config changed the disk");
}

#[test]
fn set_config_on_something_that_is_no_image_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("disk.img");
    std::fs::write(&not_image, vec![0u8; 1 << 20]).unwrap();
    let out = set_config(&not_image, &common::repo_root().join("examples/002-dr-rr-director.ron"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has no readable GPT"), "{stderr}");
}
