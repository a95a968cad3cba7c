//! From a request path to an open file under the root, never outside it:
//! `..` is refused before the file system is asked, and the kernel refuses
//! symbolic links anywhere below the root (openat2 with RESOLVE_BENEATH and
//! RESOLVE_NO_SYMLINKS), so a link cannot lead out of the root either.

use super::status::Status;
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a directory serves.
pub const INDEX: &str = "index.html";

/// The request path as a path relative to the root, or Forbidden when it
/// tries to climb out. `/` and `/dir/` become `index.html` and `dir/index.html`.
pub fn relative(path: &[u8]) -> Result<PathBuf, Status> {
    let mut rel = PathBuf::new();
    for seg in path.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => return Err(Status::Forbidden),
            s => rel.push(OsStr::from_bytes(s)),
        }
    }
    if rel.as_os_str().is_empty() || path.ends_with(b"/") {
        rel.push(INDEX);
    }
    Ok(rel)
}

/// The root directory, opened once: requests resolve below this very directory
/// even if its path is later renamed or replaced.
pub struct Root {
    path: PathBuf,
    dir: OwnedFd,
}

impl Root {
    pub fn open(path: &Path) -> std::io::Result<Root> {
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags((OFlag::O_DIRECTORY | OFlag::O_CLOEXEC).bits())
            .open(path)?;
        Ok(Root { path: path.to_path_buf(), dir: dir.into() })
    }

    /// The regular file for `rel` (for a directory, its index.html), with its
    /// length and the path it was found at.
    pub fn file(&self, rel: &Path) -> Result<(File, u64, PathBuf), Status> {
        let file = self.open_beneath(rel)?;
        let meta = file.metadata().map_err(|_| Status::InternalError)?;
        if meta.is_dir() {
            let index = rel.join(INDEX);
            let file = self.open_beneath(&index)?;
            let meta = file.metadata().map_err(|_| Status::InternalError)?;
            return if meta.is_file() { Ok((file, meta.size(), index)) } else { Err(Status::NotFound) };
        }
        // Fifos and devices are not pages (and a fifo would hang the reader).
        if meta.is_file() {
            Ok((file, meta.size(), rel.to_path_buf()))
        } else {
            Err(Status::NotFound)
        }
    }

    fn open_beneath(&self, rel: &Path) -> Result<File, Status> {
        // O_NONBLOCK: opening a fifo must not wait for a writer.
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let how = OpenHow::new().flags(flags).resolve(
            ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
        match openat2(&self.dir, rel, how) {
            Ok(fd) => Ok(File::from(fd)),
            // Kernels before 5.6, and seccomp filters that do not know openat2.
            Err(Errno::ENOSYS | Errno::EPERM) => self.open_by_walking(rel, flags),
            Err(e) => Err(status_of(e)),
        }
    }

    /// The same refusal of links without openat2: look at every component first.
    /// (Someone who can write under the root could swap in a link between the
    /// look and the open; the root is the image's, written by no one at run time.)
    fn open_by_walking(&self, rel: &Path, flags: OFlag) -> Result<File, Status> {
        let mut at = self.path.clone();
        for part in rel.components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return Err(Status::Forbidden),
                Ok(_) => {}
                Err(e) => {
                    return Err(e.raw_os_error().map_or(Status::InternalError, |n| status_of(Errno::from_raw(n))))
                }
            }
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags.bits())
            .open(&at)
            .map_err(|e| e.raw_os_error().map_or(Status::InternalError, |n| status_of(Errno::from_raw(n))))
    }
}

fn status_of(e: Errno) -> Status {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG => Status::NotFound,
        // ELOOP: a symbolic link; EXDEV: a path that would leave the root.
        Errno::ELOOP | Errno::EXDEV | Errno::EACCES | Errno::EPERM => Status::Forbidden,
        _ => Status::InternalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(path: &str) -> Result<String, Status> {
        relative(path.as_bytes()).map(|p| p.to_string_lossy().into_owned())
    }

    #[test]
    fn maps_paths_below_the_root() {
        assert_eq!(rel("/").unwrap(), "index.html");
        assert_eq!(rel("/a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(rel("//a/./b.txt").unwrap(), "a/b.txt");
        assert_eq!(rel("/docs/").unwrap(), "docs/index.html");
        assert_eq!(rel("/docs").unwrap(), "docs", "a directory is found to be one when opened");
        assert_eq!(rel("/a b/c").unwrap(), "a b/c");
    }

    #[test]
    fn refuses_to_climb() {
        for p in ["/..", "/../etc/passwd", "/a/../../b", "/a/..", "/a/b/../c"] {
            assert_eq!(rel(p), Err(Status::Forbidden), "{p}");
        }
        assert_eq!(rel("/a..b/..c").unwrap(), "a..b/..c", "dots inside a name are fine");
    }

    #[test]
    fn opens_files_and_refuses_links_and_specials() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.txt"), "hello").unwrap();
        std::fs::write(root.join("sub/index.html"), "<p>").unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("in")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("updir")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();

        let root = Root::open(&root).unwrap();
        let len = |p: &str| root.file(Path::new(p)).map(|f| f.1);
        assert_eq!(len("a.txt"), Ok(5));
        assert_eq!(len("sub"), Ok(3), "a directory serves its index");
        assert_eq!(len("sub/index.html"), Ok(3));
        assert_eq!(len("missing"), Err(Status::NotFound));
        assert_eq!(len("a.txt/x"), Err(Status::NotFound));
        assert_eq!(len("index.html"), Err(Status::NotFound));
        assert_eq!(len("fifo"), Err(Status::NotFound));
        assert_eq!(len("out"), Err(Status::Forbidden), "a link out of the root");
        assert_eq!(len("in"), Err(Status::Forbidden), "even a link inside the root");
        assert_eq!(len("updir/secret"), Err(Status::Forbidden), "a link in the middle");
        let walked = |p: &str| root.open_by_walking(Path::new(p), OFlag::O_RDONLY | OFlag::O_NONBLOCK).map(|_| ());
        assert_eq!(walked("a.txt"), Ok(()));
        assert_eq!(walked("out"), Err(Status::Forbidden));
        assert_eq!(walked("updir/secret"), Err(Status::Forbidden));
        assert_eq!(walked("nope"), Err(Status::NotFound));
    }
}
