//! The system calls behind a config write, so that tests can cut the
//! sequence anywhere, as a power cut would.

use nix::errno::Errno;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;

pub trait Disk {
    /// Remounts the file system at `mount_point` read-only or read-write,
    /// keeping its other flags.
    fn remount(&mut self, mount_point: &Path, read_only: bool) -> Result<(), Errno>;
    /// The file's bytes, at most `cap + 1` of them; None when it does not exist.
    fn read(&mut self, path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>>;
    /// Creates or truncates the file and writes `bytes` to it.
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// fsync of the file.
    fn sync(&mut self, path: &Path) -> io::Result<()>;
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// fsync of the folder, so that the renames in it last.
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()>;
}

/// The real kernel.
pub struct Linux;

impl Disk for Linux {
    fn remount(&mut self, mount_point: &Path, read_only: bool) -> Result<(), Errno> {
        use nix::mount::MsFlags;
        use nix::sys::statvfs::{statvfs, FsFlags};
        // MS_REMOUNT sets every per-mount flag anew: keep the ones it has.
        // (relatime needs no flag: it is what a remount without an atime flag
        // gets, and nix has no ST_RELATIME for musl.)
        let now = statvfs(mount_point)?.flags();
        let mut flags = MsFlags::MS_REMOUNT;
        for (has, keep) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        ] {
            if now.contains(has) {
                flags |= keep;
            }
        }
        if read_only {
            flags |= MsFlags::MS_RDONLY;
        }
        nix::mount::mount(None::<&str>, mount_point, None::<&str>, flags, None::<&str>)
    }

    fn read(&mut self, path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        File::create(path)?.write_all(bytes)
    }

    fn sync(&mut self, path: &Path) -> io::Result<()> {
        // fsync flushes the file, whichever descriptor asks.
        File::open(path)?.sync_all()
    }

    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}
