//! A network namespace the lab creates for itself and deletes on Drop: every
//! VM, bridge, tap and test client lives in it, so nothing a lab test sends
//! can reach the host's network.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use super::command::{describe, run};
use super::error::{LabError, Result};

const PREFIX: &str = "lvs-lab-";
static NEXT: AtomicU32 = AtomicU32::new(0);

/// `ip netns add lvs-lab-<pid>-<n>`, with loopback up and routing multicast,
/// which the VMs' `-netdev socket,mcast=` links use.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn create() -> Result<Netns> {
        sweep_stale();
        let name = format!("{PREFIX}{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        run("creating the lab's network namespace", Command::new("ip").args(["netns", "add", &name]))?;
        // From here on Drop deletes it, also when the set-up below fails.
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        ns.ip(&["link", "set", "lo", "multicast", "on"])?;
        ns.ip(&["route", "add", "224.0.0.0/4", "dev", "lo"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bind mount `setns(2)` takes.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// `ip -n <ns> ARGS`, failing with ip's stderr.
    pub fn ip(&self, args: &[&str]) -> Result<Output> {
        let mut cmd = Command::new("ip");
        cmd.arg("-n").arg(&self.name).args(args);
        run(&format!("configuring namespace {}", self.name), &mut cmd)
    }

    /// `ip netns exec <ns> PROGRAM ARGS`: the output whatever the exit status.
    pub fn exec<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Result<Output> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]).args(args);
        cmd.output().map_err(|e| LabError::Command {
            what: format!("running a command in namespace {}", self.name),
            command: describe(&cmd),
            status: format!("could not start: {e}"),
            stderr: String::new(),
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = Command::new("ip").args(["netns", "del", &self.name]).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "lab: could not delete namespace {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => eprintln!("lab: could not delete namespace {}: {e}", self.name),
        }
    }
}

/// Deletes namespaces left by lab processes that died without unwinding
/// (SIGKILL, abort): `lvs-lab-<pid>-*` whose pid is gone.
fn sweep_stale() {
    let Ok(entries) = fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) =
            name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()).and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = Command::new("ip").args(["netns", "del", &name]).output();
        }
    }
}
