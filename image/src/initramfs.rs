//! The initramfs as a tree of entries, written as a newc cpio and gzipped so
//! that the same tree always gives the same bytes: entries sorted by path
//! (parents before children), uid/gid 0, mtime 0, inode numbers counted in that
//! order, and a gzip header with mtime 0 and no file name.

use crate::error::{Error, Result};
use cpio::newc::{Builder, ModeFileType};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    File { data: Vec<u8>, mode: u32 },
    Symlink(String),
}

/// The image's files by path; a path is its components, so the map's order is
/// "sorted by path" with every folder before what it holds.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    entries: BTreeMap<Vec<String>, Node>,
}

/// Splits an image path (`/etc/lvs/modules` or `etc/lvs/modules`) into components.
fn components(path: &str) -> Result<Vec<String>> {
    let parts: Vec<String> = path.split('/').filter(|p| !p.is_empty()).map(str::to_string).collect();
    let bad = |message: &str| Error::Initramfs { name: path.to_string(), message: message.to_string() };
    if parts.is_empty() {
        return Err(bad("is the root; name a path inside the image"));
    }
    if parts.iter().any(|p| p == "." || p == "..") {
        return Err(bad("has a `.` or `..` component; write the path from the image root"));
    }
    Ok(parts)
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A folder (0755), with its parents.
    pub fn dir(&mut self, path: &str) -> Result<()> {
        let parts = components(path)?;
        self.parents(&parts)?;
        match self.entries.get(&parts) {
            None | Some(Node::Dir) => {
                self.entries.insert(parts, Node::Dir);
                Ok(())
            }
            Some(_) => Err(Error::Initramfs {
                name: path.to_string(),
                message: "is a file already; cannot make it a folder".into(),
            }),
        }
    }

    /// A file with permission bits `mode` (0755, 0644), with its parents. A file
    /// of the same path is replaced (the overlay and --extra win); `true` when so.
    pub fn file(&mut self, path: &str, data: Vec<u8>, mode: u32) -> Result<bool> {
        self.put(path, Node::File { data, mode: mode & 0o7777 })
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> Result<bool> {
        self.put(path, Node::Symlink(target.to_string()))
    }

    fn put(&mut self, path: &str, node: Node) -> Result<bool> {
        let parts = components(path)?;
        self.parents(&parts)?;
        if self.entries.get(&parts) == Some(&Node::Dir) {
            return Err(Error::Initramfs {
                name: path.to_string(),
                message: "is a folder already; cannot put a file there".into(),
            });
        }
        Ok(self.entries.insert(parts, node).is_some())
    }

    fn parents(&mut self, parts: &[String]) -> Result<()> {
        for n in 1..parts.len() {
            let parent = parts[..n].to_vec();
            match self.entries.get(&parent) {
                None => {
                    self.entries.insert(parent, Node::Dir);
                }
                Some(Node::Dir) => {}
                Some(_) => {
                    return Err(Error::Initramfs {
                        name: parts.join("/"),
                        message: format!("its parent {} is a file, not a folder", parent.join("/")),
                    })
                }
            }
        }
        Ok(())
    }

    /// Copies a host folder into the image under `dest` ("" for the root).
    /// Modes are normalized (0755 for anything executable and for folders, else
    /// 0644) so a checkout's umask does not change the image. `skip` names
    /// top-level entries left out (the overlay's README.md).
    pub fn add_folder(&mut self, src: &Path, dest: &str, skip: &[&str]) -> Result<Vec<String>> {
        let mut replaced = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(src)
            .map_err(Error::io("reading", src))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()
            .map_err(Error::io("reading", src))?;
        names.sort();
        for name in names {
            let name_text = name.to_string_lossy().into_owned();
            if skip.contains(&name_text.as_str()) {
                continue;
            }
            let host = src.join(&name);
            let image = format!("{dest}/{name_text}");
            replaced.extend(self.add_path(&host, &image)?);
        }
        Ok(replaced)
    }

    /// Copies one host file, symlink or folder to `dest` in the image; returns
    /// the image paths it replaced.
    pub fn add_path(&mut self, host: &Path, dest: &str) -> Result<Vec<String>> {
        let meta = std::fs::symlink_metadata(host).map_err(Error::io("reading", host))?;
        let file_type = meta.file_type();
        if file_type.is_symlink() {
            let target = std::fs::read_link(host).map_err(Error::io("reading", host))?;
            let replaced = self.symlink(dest, &target.to_string_lossy())?;
            Ok(replaced.then(|| dest.to_string()).into_iter().collect())
        } else if file_type.is_dir() {
            self.dir(dest)?;
            self.add_folder(host, dest, &[])
        } else if file_type.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let data = std::fs::read(host).map_err(Error::io("reading", host))?;
            let mode = if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
            let replaced = self.file(dest, data, mode)?;
            Ok(replaced.then(|| dest.to_string()).into_iter().collect())
        } else {
            Err(Error::Initramfs {
                name: dest.to_string(),
                message: format!("{} is neither a file, a folder nor a symlink", host.display()),
            })
        }
    }

    /// `(path, node)` in archive order.
    pub fn entries(&self) -> impl Iterator<Item = (String, &Node)> {
        self.entries.iter().map(|(k, v)| (k.join("/"), v))
    }

    /// The newc cpio archive of the tree.
    pub fn to_cpio(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for (index, (name, node)) in self.entries().enumerate() {
            let (file_type, perms, nlink, data): (_, u32, u32, &[u8]) = match node {
                Node::Dir => (ModeFileType::Directory, 0o755, 2, &[]),
                Node::File { data, mode } => (ModeFileType::Regular, *mode, 1, data),
                Node::Symlink(target) => (ModeFileType::Symlink, 0o777, 1, target.as_bytes()),
            };
            let size = u32::try_from(data.len()).map_err(|_| Error::Initramfs {
                name: name.clone(),
                message: "is larger than newc's 4 GiB limit".into(),
            })?;
            let io_err = |e: std::io::Error| Error::Initramfs { name: name.clone(), message: e.to_string() };
            // Inodes count from 1 in archive order; 0 is the trailer's.
            let mut writer = Builder::new(&name)
                .ino(index as u32 + 1)
                .mode(perms)
                .set_mode_file_type(file_type)
                .uid(0)
                .gid(0)
                .mtime(0)
                .nlink(nlink)
                .write(&mut out, size);
            writer.write_all(data).map_err(io_err)?;
            writer.finish().map_err(io_err)?;
        }
        cpio::newc::trailer(&mut out)
            .map_err(|e| Error::Initramfs { name: "TRAILER!!!".into(), message: e.to_string() })?;
        Ok(out)
    }
}

/// gzip at the best level, with a header that holds no time and no name.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::GzBuilder::new().mtime(0).write(Vec::with_capacity(data.len() / 2), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    encoder.write_all(data).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}
