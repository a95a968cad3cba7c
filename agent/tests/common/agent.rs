//! The real `lvs-agent run`, started by a host test on a config in a temp
//! folder, and killed when the test lets go of it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const AGENT: &str = env!("CARGO_BIN_EXE_lvs-agent");

pub struct Agent {
    pub child: Child,
    log: PathBuf,
}

impl Agent {
    /// Writes `config` to `dir/appliance.ron` and runs the agent on it, with
    /// `dir/run` and `dir/state` as its folders and its output in
    /// `dir/agent.out` and `dir/agent.err`.
    pub fn start(dir: &Path, config: &str) -> Agent {
        let file = dir.join("appliance.ron");
        let run = dir.join("run");
        std::fs::write(&file, config).unwrap();
        let child = Command::new(AGENT)
            .args(["run", "--config", file.to_str().unwrap(), "--run-dir", run.to_str().unwrap()])
            .args(["--state-dir", dir.join("state").to_str().unwrap()])
            .stdout(Stdio::from(std::fs::File::create(dir.join("agent.out")).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.join("agent.err")).unwrap()))
            .spawn()
            .unwrap();
        Agent { child, log: run.join("agent.log") }
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `cond` holds, or fails with the agent's log.
    pub fn wait(&self, what: &str, limit: Duration, cond: impl Fn(&Agent) -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what}: not within {limit:?}; the agent's log:\n{}", self.log());
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
