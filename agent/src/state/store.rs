//! The state file on disk. A write never leaves a half-written file under the
//! real name: the new content goes to a temp file, is synced, and is renamed
//! over the old one, and the folder is synced so that the rename itself
//! survives a power cut (on vfat as on ext4).

use super::format::{decode, encode, StateFile};
use super::{StateError, FILE_NAME};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// None when there is no state file yet.
    pub fn load(&self) -> Result<Option<StateFile>, StateError> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => decode(&bytes).map(Some).map_err(|problem| StateError::Damaged { path, problem }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Read { path, source }),
        }
    }

    pub fn save(&self, state: &StateFile) -> Result<(), StateError> {
        write_atomically(&self.path(), encode(state).as_bytes())
    }
}

/// Temp file, fsync, rename, fsync of the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let fail = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StateError::Write { path: p, source }
    };
    fs::create_dir_all(dir).map_err(fail(dir))?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = dir.join(name);
    let mut file = File::create(&tmp).map_err(fail(&tmp))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(fail(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(fail(path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(fail(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("state"));
        assert!(store.load().unwrap().is_none());
        let state = StateFile::new(42);
        store.save(&state).unwrap();
        store.save(&state).unwrap();
        assert_eq!(store.load().unwrap(), Some(state));
        let names: Vec<_> = fs::read_dir(dir.path().join("state")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["state.ron"]);
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        fs::write(store.path(), b"lvs-agent-state 1 10 00").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.starts_with(&store.path().display().to_string()), "{e}");
        assert!(e.contains("cut short"), "{e}");
    }
}
