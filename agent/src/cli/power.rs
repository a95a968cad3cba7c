//! `lvs-agent reboot` and `lvs-agent poweroff` on this machine: asks PID 1 to
//! stop the agent and reboot or power off (SIGINT and SIGTERM, as
//! ctrl-alt-del and a shutdown do), but only when PID 1 is lvs-agent, the
//! appliance's init: on any other machine the signals mean something else,
//! or nothing. With `--endpoint` the appliance is asked (remote::ops::power).

use anyhow::{bail, Context, Result};
use lvs_agent::manage::Power;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub fn run(what: Power) -> Result<i32> {
    let init = Path::new("/proc/1/exe");
    let ours = Path::new("/proc/self/exe");
    if !same_program(init, ours)? {
        let program =
            std::fs::read_link(init).map_or_else(|_| "another program".to_string(), |p| p.display().to_string());
        bail!(
            "PID 1 is not lvs-agent (it is {program}): this is not an appliance; use this machine's own {}, \
             or give --endpoint to ask an appliance",
            match what {
                Power::Reboot => "reboot",
                Power::Off => "poweroff",
            }
        );
    }
    kill(Pid::from_raw(1), lvs_agent::run::remote::power::signal(what))
        .context("cannot signal PID 1 (run this as root)")?;
    println!(
        "lvs-agent: {}: PID 1 stops the agent first",
        match what {
            Power::Reboot => "rebooting",
            Power::Off => "powering off",
        }
    );
    Ok(0)
}

/// Whether two executables are the same file: PID 1 runs /init, and this
/// command may be that file under another name.
fn same_program(a: &Path, b: &Path) -> Result<bool> {
    let hint = if nix::unistd::geteuid().is_root() {
        "PID 1 is hidden from this process (a container or a sandbox?): not the appliance's init; give --endpoint to ask an appliance"
    } else {
        "run this as root"
    };
    let meta = |p: &Path| {
        std::fs::metadata(p)
            .with_context(|| format!("cannot tell whether PID 1 is lvs-agent: cannot read {} ({hint})", p.display()))
    };
    let (a, b) = (meta(a)?, meta(b)?);
    Ok((a.dev(), a.ino()) == (b.dev(), b.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_under_two_names_is_the_same_program() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&a, "x").unwrap();
        std::fs::hard_link(&a, &b).unwrap();
        std::fs::write(&c, "x").unwrap();
        assert!(same_program(&a, &b).unwrap());
        assert!(!same_program(&a, &c).unwrap());
        assert!(same_program(&a, &dir.path().join("none")).is_err());
    }
}
