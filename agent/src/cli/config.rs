//! `lvs-agent config` on this machine: the config the running agent runs, as
//! `lvs-agent config --endpoint` prints the appliance's. That is the file the
//! agent was started with (`run --config FILE`, found through its pid file
//! in the run directory), or, while a try runs, the tried config. The text
//! goes to stdout exactly; where it comes from, to stderr.

use anyhow::{bail, Context, Result};
use lvs_agent::run::try_folder::{self, Step};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn run(run_dir: &Path) -> Result<i32> {
    let pid = super::swap::agent_pid(run_dir)?;
    let file = agent_config(pid.as_raw())?;
    let (shown, note) = match try_folder::step(try_folder::read(run_dir), lvs_agent::state::now_ms()) {
        Step::Trying(t) => {
            let note = super::remote::ops::trying_note(t.deadline_ms, SystemTime::now(), &file.display().to_string());
            (t.candidate, Some(note))
        }
        _ => (file, None),
    };
    let text = lvs_agent::capped::read_config(&shown)?;
    print!("{text}");
    eprintln!("lvs-agent: {} (agent pid {pid})", shown.display());
    if let Some(note) = note {
        eprintln!("lvs-agent: {note}");
    }
    Ok(0)
}

/// The `--config` of the agent's command line, as a path from /.
fn agent_config(pid: i32) -> Result<PathBuf> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let cmdline = std::fs::read(proc.join("cmdline"))
        .with_context(|| format!("cannot read the command line of the agent (pid {pid}): is it running?"))?;
    let Some(file) = config_arg(&cmdline) else {
        bail!("the agent (pid {pid}) has no --config on its command line: is that pid the agent's?");
    };
    if file.is_absolute() {
        return Ok(file);
    }
    let cwd = std::fs::read_link(proc.join("cwd")).with_context(|| {
        format!("the agent (pid {pid}) runs {}, relative to a folder this cannot read", file.display())
    })?;
    Ok(cwd.join(file))
}

/// `--config FILE` or `--config=FILE` in a NUL-separated command line.
fn config_arg(cmdline: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    for (i, arg) in args.iter().enumerate() {
        if *arg == b"--config" {
            return args.get(i + 1).filter(|a| !a.is_empty()).map(|a| PathBuf::from(std::ffi::OsStr::from_bytes(a)));
        }
        if let Some(value) = arg.strip_prefix(b"--config=") {
            return Some(PathBuf::from(std::ffi::OsStr::from_bytes(value)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_config_on_the_agents_command_line() {
        let line = b"/init\0run\0--config\0/config/appliance.ron\0--state-dir\0/state\0";
        assert_eq!(config_arg(line), Some(PathBuf::from("/config/appliance.ron")));
        assert_eq!(config_arg(b"lvs-agent\0run\0--config=a.ron\0"), Some(PathBuf::from("a.ron")));
        assert_eq!(config_arg(b"lvs-agent\0run\0--config\0"), None);
        assert_eq!(config_arg(b"sleep\0infinity\0"), None);
    }
}
