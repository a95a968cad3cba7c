//! Shared helpers for the integration tests in `tests/tests/`: where the
//! repository is, and where the built binaries are; and [`lab`], the harness
//! that boots our images as qemu VMs for the lab tests; [`roles`], the
//! seeds' setups as lab scenarios (director, two real servers, a client);
//! [`health`], the lab where real servers hang and come back;
//! [`persist`], the lab where a director saves and restores its state and
//! takes a new config file while it runs; [`manage`], the lab where the
//! host operates a director through its management API; and [`watch`], what
//! those share to watch a director while a client sends requests;
//! [`make_run`], the config `make run` boots.

use std::path::PathBuf;

pub mod health;
pub mod lab;
pub mod make_run;
pub mod manage;
pub mod persist;
pub mod roles;
pub mod watch;

/// The repository root (the workspace that holds `examples/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Writes `text` to `path`, creating its folder: the labs keep what they
/// boot (configs, served pages) in their log folders.
pub fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Every example RON file, sorted by name.
pub fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "ron")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
