//! The CLI as an operator runs it against the appliance: the agent binary
//! (the static one `make static` builds runs on the host too) with
//! `--endpoint`, `--identity` and `--ca`, inside the lab's namespace, where
//! the director's addresses are (`ip netns exec`), bounded in time.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any answer the API gives (a weight waits up to 40 s for the
/// agent's IPVS thread); a CLI still running then is killed and reported.
pub const CLI_LIMIT: Duration = Duration::from_secs(60);

/// One CLI run: how it ended and what it printed.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub command: String,
    /// The exit code; None if killed (by the limit or a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Outcome {
    /// The outcome as a failure message quotes it.
    pub fn describe(&self) -> String {
        format!(
            "`{}` ended with {} after {:.2}s\n  stdout: {:?}\n  stderr: {:?}",
            self.command,
            self.code.map(|c| format!("exit {c}")).unwrap_or_else(|| "no exit code (killed)".into()),
            self.took.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }

    /// stdout, if it exited 0; else the outcome described.
    pub fn ok(self) -> Result<String, String> {
        if self.code == Some(0) {
            Ok(self.stdout)
        } else {
            Err(self.describe())
        }
    }
}

/// The operator's side: the binary, the identity and CA, and the namespace.
#[derive(Clone, Debug)]
pub struct Cli {
    pub agent: PathBuf,
    pub identity: PathBuf,
    pub ca: PathBuf,
    /// The lab's namespace name (`ip netns exec`).
    pub netns: String,
}

impl Cli {
    /// `lvs-agent ARGS --endpoint ENDPOINT --identity .. --ca ..`.
    pub fn run(&self, endpoint: SocketAddr, args: &[&str]) -> Outcome {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns]).arg(&self.agent).args(args);
        cmd.arg("--endpoint").arg(endpoint.to_string());
        cmd.arg("--identity").arg(&self.identity).arg("--ca").arg(&self.ca);
        // Only the flags say where and who: no LVS_* from the test's environment.
        for var in ["LVS_ENDPOINT", "LVS_IDENTITY", "LVS_CA"] {
            cmd.env_remove(var);
        }
        run_bounded(cmd, CLI_LIMIT)
    }

    /// `lvs-agent status` through `endpoint`, read as a table.
    pub fn status(&self, endpoint: SocketAddr) -> Result<crate::persist::Rules, String> {
        crate::persist::Rules::parse(&self.run(endpoint, &["status"]).ok()?)
    }
}

/// Runs `cmd`, killing it after `limit`; stdout and stderr read on threads
/// so a full pipe cannot stall it.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Outcome {
    let command = crate::lab::describe_command(&cmd);
    let started = Instant::now();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                command,
                code: None,
                stdout: String::new(),
                stderr: format!("cannot start: {e}"),
                took: Duration::ZERO,
            }
        }
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                killed = true;
                let _ = child.kill();
                break child.wait().ok();
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    if killed {
        stderr.push_str(&format!("\n[lab] killed: still running after {limit:?}"));
    }
    Outcome { command, code: status.and_then(|s| s.code()), stdout, stderr, took: started.elapsed() }
}

/// The files an operator's side is made of, in `dir` (made by `lvs-agent pki init`).
pub fn operator(dir: &Path, agent: PathBuf, netns: &str) -> Cli {
    Cli { agent, identity: dir.join("admin.pem"), ca: dir.join("ca.pem"), netns: netns.to_string() }
}
