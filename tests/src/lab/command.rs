//! Running host tools (`ip`, `apt-get`, `dpkg-deb`) with errors that quote the
//! command line and its stderr.

use std::process::{Command, Output};

use super::error::{LabError, Result};

/// The command line as a person would type it, for error messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` to completion; a spawn failure or a non-zero exit is an error
/// that says `what` we were doing.
pub(crate) fn run(what: &str, cmd: &mut Command) -> Result<Output> {
    let output = cmd.output().map_err(|e| LabError::Command {
        what: what.to_string(),
        command: describe(cmd),
        status: format!("could not start: {e}"),
        stderr: String::new(),
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(LabError::Command {
            what: what.to_string(),
            command: describe(cmd),
            status: format!("failed ({})", output.status),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// Whether `program` is an executable file on PATH.
pub(crate) fn on_path(program: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}
