//! The one error type of the image builder. Every variant names what it was
//! working on (a file, a package, a module), so a message alone tells a person
//! where to look. Underlying errors are sources, not repeated in the message:
//! print with the chain (`{:#}` through anyhow) to see them.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {}", path.display())]
    Io {
        /// What we were doing: "reading", "writing", "creating", ...
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot run `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{command}` failed ({status}){}", indent_output(stderr))]
    Command { command: String, status: String, stderr: String },

    #[error(
        "{package} {version} can no longer be downloaded (the archive moved on); \
         run `lvs-image lock` (`make image-lock`) to pin the current version and commit the lock, \
         or build with --repin to take the archive's current version and write it into the lock{}",
        indent_output(detail)
    )]
    PackageGone { package: String, version: String, detail: String },

    #[error(
        "{} ({package} {version}) has sha256 {actual}, but apt's index lists {}; \
         delete the file to download it again",
        file.display(),
        listed.join(" or ")
    )]
    IndexChecksum { package: String, version: String, file: PathBuf, listed: Vec<String>, actual: String },

    #[error(
        "{} ({package} {version}) has sha256 {actual}, but the lock says {expected}; \
         delete the file to download it again, or run `lvs-image lock` if the archive really changed",
        file.display()
    )]
    Checksum { package: String, version: String, file: PathBuf, expected: String, actual: String },

    #[error("could not resolve {package} with apt: {message}")]
    Resolve { package: String, message: String },

    #[error("lock file {}: {message}", path.display())]
    Lock { path: PathBuf, message: String },

    #[error("kernel tree {}: {message}", dir.display())]
    KernelTree { dir: PathBuf, message: String },

    #[error("{}: {source}", path.display())]
    Vmlinux { path: PathBuf, source: crate::vmlinux::VmlinuxError },

    #[error("module {}: {source}", path.display())]
    Modinfo { path: PathBuf, source: crate::modinfo::ModinfoError },

    #[error("the kernel in {} has no module {name}; {why}", modules_dir.display())]
    MissingModule { name: String, modules_dir: PathBuf, why: &'static str },

    #[error("{}: {message}", path.display())]
    Agent { path: PathBuf, message: String },

    #[error("--extra {spec}: {message}")]
    Extra { spec: String, message: String },

    #[error("initramfs entry {name}: {message}")]
    Initramfs { name: String, message: String },

    #[error("--pki: {}: {message}", path.display())]
    Pki { path: PathBuf, message: String },

    #[error("disk image {}: {message}", path.display())]
    Disk { path: PathBuf, message: String },

    #[error("disk image {}, partition {partition}", path.display())]
    Fat {
        path: PathBuf,
        partition: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A closure for `map_err` on std::io results about one path.
    pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

/// A command's own output, indented under our message; nothing when it said nothing.
fn indent_output(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = text.lines().map(|l| format!("\n  | {l}")).collect();
    format!(":{}", lines.concat())
}
