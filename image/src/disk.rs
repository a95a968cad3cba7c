//! `disk.img`: a GPT disk laid out as docs/BOOT.md's table says, written as a
//! plain file (no root, no loop devices): the gpt crate writes the partition
//! table, the fatfs crate formats each partition in memory, and we place the
//! bytes. Ids (disk and partition GUIDs, FAT volume ids) are derived from the
//! content, so the same inputs give the same image.

use crate::error::{Error, Result};
use fatfs::{FatType, FileSystem, FormatVolumeOptions, FsOptions};
use gpt::disk::LogicalBlockSize;
use gpt::partition::Partition;
use gpt::partition_types::{self, Type};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

const MIB: u64 = 1 << 20;
const SECTOR: u64 = 512;

/// The GPT name of each partition PID 1 looks for.
pub const ESP: &str = "ESP";
pub const CONFIG: &str = "lvs-config";
pub const STATE: &str = "lvs-state";
/// Where the UKI sits on the ESP: the fallback path every UEFI firmware boots.
pub const BOOT_FILE: &str = "EFI/BOOT/BOOTX64.EFI";
/// The config file on the config partition.
pub const CONFIG_FILE: &str = "appliance.ron";

struct Layout {
    name: &'static str,
    part_type: Type,
    size: u64,
    label: &'static [u8; 11],
    /// The ESP is FAT32 as UEFI asks of system partitions; the small data
    /// partitions take what fits (FAT12/16), which Linux's vfat reads alike.
    fat32: bool,
}

const LAYOUT: [Layout; 3] = [
    Layout { name: ESP, part_type: partition_types::EFI, size: 64 * MIB, label: b"ESP        ", fat32: true },
    Layout { name: CONFIG, part_type: partition_types::LINUX_FS, size: 8 * MIB, label: b"LVS-CONFIG ", fat32: false },
    Layout { name: STATE, part_type: partition_types::LINUX_FS, size: 32 * MIB, label: b"LVS-STATE  ", fat32: false },
];

/// Partitions start on 1 MiB boundaries; the last MiB holds the backup GPT.
const FIRST: u64 = MIB;

/// The image's size: the partitions plus a MiB before and after.
pub fn image_size() -> u64 {
    FIRST + LAYOUT.iter().map(|p| p.size).sum::<u64>() + MIB
}

fn disk_err(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Disk { path: path.to_path_buf(), message: message.to_string() }
}

/// 16 bytes derived from the image's content and a name.
fn derived(seed: &[u8], name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(name.as_bytes());
    h.finalize().into()
}

fn derived_uuid(seed: &[u8], name: &str) -> uuid::Uuid {
    let bytes = derived(seed, name);
    let mut first = [0u8; 16];
    first.copy_from_slice(&bytes[..16]);
    uuid::Builder::from_random_bytes(first).into_uuid()
}

/// Writes a new disk image at `path` holding `boot_efi` as the ESP's
/// `EFI/BOOT/BOOTX64.EFI` and `config` as the config partition's `appliance.ron`.
pub fn write(path: &Path, boot_efi: &[u8], config: &[u8]) -> Result<()> {
    write_with(path, boot_efi, config, &[])
}

/// As [`write`], with more files on the config partition: (path there, bytes).
pub fn write_with(path: &Path, boot_efi: &[u8], config: &[u8], config_extra: &[(String, Vec<u8>)]) -> Result<()> {
    let seed: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(boot_efi);
        h.update(config);
        // Names and lengths too, so that moving bytes between files changes the ids.
        for (name, data) in config_extra {
            h.update(name.as_bytes());
            h.update((data.len() as u64).to_le_bytes());
            h.update(data);
        }
        h.finalize().into()
    };
    let layout: Vec<&Layout> = LAYOUT.iter().collect();
    let mut files = vec![(ESP, BOOT_FILE, boot_efi), (CONFIG, CONFIG_FILE, config)];
    files.extend(config_extra.iter().map(|(name, data)| (CONFIG, name.as_str(), data.as_slice())));
    write_layout(path, &seed, &layout, &files)
}

/// Writes a new disk image at `path` with one partition, an empty `lvs-state`
/// (FAT, the size it has in a full image), and nothing else: the disk of a
/// machine that boots its kernel and initramfs some other way (PXE, qemu's
/// `-kernel`) and keeps its state on a disk, which PID 1 finds by GPT name.
/// Ids are derived from the layout, so every such image is the same bytes.
pub fn write_state_only(path: &Path) -> Result<()> {
    let seed: [u8; 32] = Sha256::digest(b"lvs-state only").into();
    let layout: Vec<&Layout> = LAYOUT.iter().filter(|p| p.name == STATE).collect();
    write_layout(path, &seed, &layout, &[])
}

/// Writes the partitions of `layout`, in order from 1 MiB, each a fresh FAT
/// volume; `files` are (partition name, path, bytes) to put in them.
fn write_layout(path: &Path, seed: &[u8], layout: &[&Layout], files: &[(&str, &str, &[u8])]) -> Result<()> {
    let total = FIRST + layout.iter().map(|p| p.size).sum::<u64>() + MIB;
    // Read and write: the gpt crate reads back what it lays out.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(Error::io("creating", path))?;
    // A sparse file: the unwritten parts read as zeros and take no space.
    file.set_len(total).map_err(Error::io("sizing", path))?;

    let sectors = u32::try_from(total / SECTOR - 1).unwrap_or(u32::MAX);
    gpt::mbr::ProtectiveMBR::with_lb_size(sectors)
        .overwrite_lba0(&mut file)
        .map_err(|e| disk_err(path, format!("writing the protective MBR: {e}")))?;
    let mut disk = gpt::GptConfig::new()
        .writable(true)
        .logical_block_size(LogicalBlockSize::Lb512)
        .create_from_device(&mut file, Some(derived_uuid(seed, "disk")))
        .map_err(|e| disk_err(path, format!("creating the GPT: {e}")))?;
    let mut partitions = BTreeMap::new();
    let mut start = FIRST;
    for (n, p) in layout.iter().enumerate() {
        partitions.insert(
            n as u32 + 1,
            Partition {
                part_type_guid: p.part_type.clone(),
                part_guid: derived_uuid(seed, p.name),
                first_lba: start / SECTOR,
                last_lba: (start + p.size) / SECTOR - 1,
                flags: 0,
                name: p.name.to_string(),
            },
        );
        start += p.size;
    }
    disk.update_partitions(partitions).map_err(|e| disk_err(path, format!("laying out partitions: {e}")))?;
    disk.write().map_err(|e| disk_err(path, format!("writing the GPT: {e}")))?;

    let mut start = FIRST;
    for p in layout {
        let mut fat = vec![0u8; p.size as usize];
        let volume_id = {
            let d = derived(seed, &format!("fat:{}", p.name));
            u32::from_le_bytes([d[0], d[1], d[2], d[3]])
        };
        let mut options = FormatVolumeOptions::new().volume_id(volume_id).volume_label(*p.label);
        if p.fat32 {
            options = options.fat_type(FatType::Fat32).bytes_per_cluster(512);
        }
        let fat_err = |source| Error::Fat { path: path.to_path_buf(), partition: p.name.to_string(), source };
        fatfs::format_volume(Cursor::new(&mut fat), options).map_err(fat_err)?;
        for (_, file_path, data) in files.iter().filter(|(name, _, _)| *name == p.name) {
            put_file(&mut fat, file_path, data).map_err(fat_err)?;
        }
        write_sparse(&mut file, start, &fat).map_err(Error::io("writing", path))?;
        start += p.size;
    }
    file.sync_all().map_err(Error::io("writing", path))?;
    Ok(())
}

/// Writes `data` at `offset`, skipping all-zero chunks (the file is new and
/// sparse, so they read as zeros already).
fn write_sparse(file: &mut File, offset: u64, data: &[u8]) -> std::io::Result<()> {
    const CHUNK: usize = 64 * 1024;
    for (n, chunk) in data.chunks(CHUNK).enumerate() {
        if chunk.iter().any(|b| *b != 0) {
            file.seek(SeekFrom::Start(offset + (n * CHUNK) as u64))?;
            file.write_all(chunk)?;
        }
    }
    Ok(())
}

/// Creates or replaces `path` (folders made as needed) in a FAT image in memory.
fn put_file(fat: &mut Vec<u8>, path: &str, data: &[u8]) -> std::io::Result<()> {
    let fs = FileSystem::new(Cursor::new(fat), FsOptions::new())?;
    {
        let mut dir = fs.root_dir();
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or(path);
        for part in parts {
            dir = match dir.open_dir(part) {
                Ok(d) => d,
                Err(_) => dir.create_dir(part)?,
            };
        }
        let mut file = dir.create_file(name)?;
        file.truncate()?;
        file.write_all(data)?;
        file.flush()?;
    }
    fs.unmount()
}

/// Reads `path` out of a FAT image in memory.
fn get_file(fat: &mut Vec<u8>, path: &str) -> std::io::Result<Vec<u8>> {
    let fs = FileSystem::new(Cursor::new(fat), FsOptions::new())?;
    let mut data = Vec::new();
    fs.root_dir().open_file(path)?.read_to_end(&mut data)?;
    Ok(data)
}

/// A partition as the GPT records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    pub number: u32,
    pub name: String,
    pub type_guid: String,
    pub start: u64,
    pub len: u64,
}

/// The partitions of an existing image.
pub fn partitions(path: &Path) -> Result<Vec<PartitionInfo>> {
    let file = File::open(path).map_err(Error::io("opening", path))?;
    let disk = gpt::GptConfig::new()
        .writable(false)
        .logical_block_size(LogicalBlockSize::Lb512)
        .open_from_device(file)
        .map_err(|e| disk_err(path, format!("has no readable GPT: {e}")))?;
    let lb = *disk.logical_block_size();
    disk.partitions()
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(n, p)| {
            Ok(PartitionInfo {
                number: *n,
                name: p.name.clone(),
                type_guid: p.part_type_guid.guid.to_string(),
                start: p.bytes_start(lb).map_err(|e| disk_err(path, e))?,
                len: p.bytes_len(lb).map_err(|e| disk_err(path, e))?,
            })
        })
        .collect()
}

fn find(path: &Path, name: &str) -> Result<PartitionInfo> {
    partitions(path)?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| disk_err(path, format!("has no partition named {name}")))
}

fn read_partition(file: &mut File, p: &PartitionInfo) -> std::io::Result<Vec<u8>> {
    let mut data = vec![0u8; p.len as usize];
    file.seek(SeekFrom::Start(p.start))?;
    file.read_exact(&mut data)?;
    Ok(data)
}

/// A file out of a FAT partition of an image, by the partition's GPT name.
pub fn read_file(path: &Path, partition: &str, file_path: &str) -> Result<Vec<u8>> {
    let p = find(path, partition)?;
    let mut file = File::open(path).map_err(Error::io("opening", path))?;
    let mut fat = read_partition(&mut file, &p).map_err(Error::io("reading", path))?;
    get_file(&mut fat, file_path).map_err(|source| Error::Fat {
        path: path.to_path_buf(),
        partition: format!("{partition} ({file_path})"),
        source,
    })
}

/// Replaces (or creates) a file in a FAT partition of an existing image, offline.
pub fn replace_file(path: &Path, partition: &str, file_path: &str, data: &[u8]) -> Result<()> {
    let p = find(path, partition)?;
    let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(Error::io("opening", path))?;
    let mut fat = read_partition(&mut file, &p).map_err(Error::io("reading", path))?;
    put_file(&mut fat, file_path, data).map_err(|source| Error::Fat {
        path: path.to_path_buf(),
        partition: format!("{partition} ({file_path})"),
        source,
    })?;
    file.seek(SeekFrom::Start(p.start))
        .and_then(|_| file.write_all(&fat))
        .and_then(|_| file.sync_all())
        .map_err(Error::io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_only_disk_has_one_empty_state_partition_that_takes_files() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("state.img");
        write_state_only(&image).unwrap();
        let parts = partitions(&image).unwrap();
        assert_eq!(parts.len(), 1, "{parts:?}");
        assert_eq!((parts[0].number, parts[0].name.as_str(), parts[0].start, parts[0].len), (1, STATE, MIB, 32 * MIB));
        assert_eq!(std::fs::metadata(&image).unwrap().len(), 34 * MIB);
        assert!(read_file(&image, STATE, "state.ron").is_err());
        replace_file(&image, STATE, "state.ron", b"one").unwrap();
        replace_file(&image, STATE, "state.ron", b"").unwrap();
        assert_eq!(read_file(&image, STATE, "state.ron").unwrap(), b"");
        // The same bytes every time.
        let again = dir.path().join("again.img");
        write_state_only(&again).unwrap();
        write_state_only(&image).unwrap();
        assert!(std::fs::read(&image).unwrap() == std::fs::read(&again).unwrap());
    }
}
