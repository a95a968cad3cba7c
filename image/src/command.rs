//! Running the few outside tools the build needs (apt-get, apt-cache, dpkg-deb,
//! objcopy, qemu-img), with their stderr kept for the error message.

use crate::error::{Error, Result};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// What a finished command printed.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args...` in `dir` (or here), and fails with its stderr when it fails.
pub fn run<I, S>(program: &str, args: I, dir: Option<&Path>) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    let mut command = Command::new(program);
    command.args(&args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().map_err(|source| Error::Spawn { program: program.to_string(), source })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(Output { stdout, stderr })
    } else {
        let shown: Vec<String> =
            std::iter::once(program.to_string()).chain(args.iter().map(|a| a.to_string_lossy().into_owned())).collect();
        Err(Error::Command {
            command: shown.join(" "),
            status: output.status.to_string(),
            // Some tools (apt-get download) say why on stdout.
            stderr: if stderr.trim().is_empty() { stdout } else { stderr },
        })
    }
}
