//! The try folder: which config the agent should be running, the file or a
//! candidate being tried. A try (`lvs-agent try FILE --within 60s`) is a
//! folder under the run directory that the CLI writes and the agent acts on:
//!
//! - `try/candidate.ron`: the config to try;
//! - `try/deadline_ms`: Unix time in milliseconds by which it must be confirmed;
//! - `try/confirmed`: present once `lvs-agent confirm` ran.
//!
//! Unconfirmed at the deadline, the agent goes back to the config file, as
//! `commit confirmed` does on routers; confirmed, the agent writes the
//! candidate over the config file, so that it is also what the next boot runs.

use std::path::{Path, PathBuf};

pub const TRY_DIR: &str = "try";
pub const CANDIDATE: &str = "candidate.ron";
pub const DEADLINE: &str = "deadline_ms";
pub const CONFIRMED: &str = "confirmed";
/// Milliseconds since 1970 and a newline; a bigger file is no deadline.
const DEADLINE_MAX_BYTES: u64 = 64;

/// A try as found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Try {
    pub candidate: PathBuf,
    pub deadline_ms: u64,
    pub confirmed: bool,
}

/// What to do about a try now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// No try: the config file is what runs.
    None,
    /// Run the candidate until the deadline.
    Trying(Try),
    /// The deadline passed without a confirmation: back to the config file.
    Expired(Try),
    /// Confirmed: keep the candidate and make it the config file.
    Confirmed(Try),
}

pub fn step(found: Option<Try>, now_ms: u64) -> Step {
    match found {
        None => Step::None,
        Some(t) if t.confirmed => Step::Confirmed(t),
        Some(t) if now_ms >= t.deadline_ms => Step::Expired(t),
        Some(t) => Step::Trying(t),
    }
}

/// Reads `<run_dir>/try`; None when there is no try (or no candidate in it).
/// A deadline that cannot be read counts as passed: a try nobody can time
/// must not run for ever.
pub fn read(run_dir: &Path) -> Option<Try> {
    let dir = run_dir.join(TRY_DIR);
    let candidate = dir.join(CANDIDATE);
    if !candidate.exists() {
        return None;
    }
    let deadline_ms = crate::capped::read_to_string(&dir.join(DEADLINE), DEADLINE_MAX_BYTES, "try deadline")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    Some(Try { candidate, deadline_ms, confirmed: dir.join(CONFIRMED).exists() })
}

pub fn clear(run_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(run_dir.join(TRY_DIR)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(deadline_ms: u64, confirmed: bool) -> Try {
        Try { candidate: PathBuf::from("/run/lvs/try/candidate.ron"), deadline_ms, confirmed }
    }

    #[test]
    fn a_try_runs_until_its_deadline_unless_confirmed() {
        assert_eq!(step(None, 5), Step::None);
        assert_eq!(step(Some(t(10, false)), 9), Step::Trying(t(10, false)));
        assert_eq!(step(Some(t(10, false)), 10), Step::Expired(t(10, false)));
        assert_eq!(step(Some(t(10, true)), 11), Step::Confirmed(t(10, true)));
    }

    #[test]
    fn reads_the_folder_the_cli_writes_and_an_unreadable_deadline_has_passed() {
        let run = tempfile::tempdir().unwrap();
        assert_eq!(read(run.path()), None);
        let dir = run.path().join(TRY_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(CANDIDATE), "Appliance()").unwrap();
        std::fs::write(dir.join(DEADLINE), "1234\n").unwrap();
        let found = read(run.path()).unwrap();
        assert_eq!((found.deadline_ms, found.confirmed), (1234, false));
        std::fs::write(dir.join(DEADLINE), format!("{}1234\n", " ".repeat(64))).unwrap();
        assert_eq!(read(run.path()).unwrap().deadline_ms, 0, "over the cap is no deadline: passed");
        std::fs::write(dir.join(DEADLINE), "soon").unwrap();
        std::fs::write(dir.join(CONFIRMED), "").unwrap();
        let found = read(run.path()).unwrap();
        assert_eq!((found.deadline_ms, found.confirmed), (0, true));
        clear(run.path()).unwrap();
        clear(run.path()).unwrap();
        assert_eq!(read(run.path()), None);
    }
}
