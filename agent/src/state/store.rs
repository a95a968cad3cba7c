//! The state file on disk, written through [`crate::record`] and so through
//! [`crate::atomic_file`]: a write never leaves a half-written file under the
//! real name.

use super::format::{decode, StateFile, KIND};
use super::{StateError, FILE_NAME};
use crate::record::{self, RecordError};
use std::path::PathBuf;

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
        let Some(bytes) = record::read(&path, &KIND)? else { return Ok(None) };
        decode(&bytes).map(Some).map_err(|source| RecordError::Decode { path, source })
    }

    pub fn save(&self, state: &StateFile) -> Result<(), StateError> {
        record::store(&self.path(), &KIND, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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

    #[test]
    fn an_empty_or_blank_file_is_damaged_not_a_state_without_rules() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        for blank in ["", "\n", "  \n\t\n", "\0"] {
            fs::write(store.path(), blank).unwrap();
            let e = store.load().unwrap_err().to_string();
            assert!(e.starts_with(&format!("{}: ", store.path().display())), "{blank:?}: {e}");
            assert!(e.contains("empty") || e.contains("cut short"), "{blank:?}: {e}");
        }
    }

    #[test]
    fn a_file_over_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        // Sparse: 17 MiB on paper.
        fs::File::create(store.path()).unwrap().set_len(17 << 20).unwrap();
        assert_eq!(
            store.load().unwrap_err().to_string(),
            format!(
                "{}: 17825792 bytes, more than a state file may be (16777216 bytes at most): damaged, or not the agent's",
                store.path().display()
            )
        );
    }

    #[test]
    fn a_wrong_body_is_placed_at_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let body = "State(\n    version: 1,\n    written_at_ms: soon,\n)";
        let text = record::frame(&KIND, body);
        fs::write(store.path(), &text).unwrap();
        let line = text.lines().position(|l| l.contains("soon")).unwrap() + 1;
        assert_eq!(line, 4, "{text}");
        // ron alone puts it on the body's line 3, at the same column.
        let alone = lvs_config::ron_options().from_str::<StateFile>(body).unwrap_err();
        assert_eq!(alone.span.start.line, 3);
        let e = store.load().unwrap_err().to_string();
        let at = format!("{line}:{}", alone.span.start.col);
        assert!(e.starts_with(&format!("{}: unreadable body: {at}", store.path().display())), "{e}\n{text}");
    }

    #[test]
    fn a_body_of_another_version_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let newer = StateFile { version: 2, ..StateFile::new(42) };
        fs::write(store.path(), record::encode(&KIND, &newer).unwrap()).unwrap();
        assert_eq!(
            store.load().unwrap_err().to_string(),
            format!("{}: format version 2 in the body; this agent reads version 1", store.path().display())
        );
    }
}
