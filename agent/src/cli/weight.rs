//! `lvs-agent weight SERVICE REALSERVER N|clear`: an operator's weight for one
//! real server of the running director, as `ipvsadm -e ... -w N` would set it,
//! but kept: health still decides (a server that is down stays at 0 until it
//! is up), and the weight survives restarts until it is cleared. The request
//! goes through the run directory (lvs_agent::run::weight says how) and the
//! agent's answer is printed.

use super::EXIT_INVALID;
use anyhow::{Context, Result};
use lvs_agent::run::weight::{read_answer, Request, WEIGHT_DIR};
use nix::sys::signal::{kill, Signal};
use std::path::Path;
use std::time::{Duration, Instant};

/// The agent answers within a poll of a second once it has the request; more
/// than this means it is not running or is stuck.
const WAIT: Duration = Duration::from_secs(10);

pub fn run(service: &str, real_server: &str, weight: &str, run_dir: &Path) -> Result<i32> {
    let request = match Request::parse(service, real_server, weight) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lvs-agent: {e}");
            return Ok(EXIT_INVALID);
        }
    };
    let pid = super::swap::agent_pid(run_dir)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let id = format!("{stamp:020}-{}", std::process::id());
    let dir = run_dir.join(WEIGHT_DIR);
    let (file, answer) = (dir.join(format!("{id}.req")), dir.join(format!("{id}.ans")));
    lvs_agent::state::store::write_atomically(&file, request.to_text().as_bytes())?;
    kill(pid, Signal::SIGUSR1).with_context(|| format!("cannot signal the agent (pid {pid}); its request stays in {}", file.display()))?;
    let started = Instant::now();
    while !answer.exists() {
        if started.elapsed() > WAIT {
            anyhow::bail!(
                "the agent (pid {pid}) has not answered within {WAIT:?}; the request stays in {} and is applied when the agent reads it (see its log)",
                file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&answer).with_context(|| format!("cannot read the answer {}", answer.display()))?;
    let _ = std::fs::remove_file(&answer);
    match read_answer(&text) {
        Ok(what) => {
            println!("{what}");
            Ok(0)
        }
        Err(why) => {
            eprintln!("lvs-agent: {why}");
            Ok(EXIT_INVALID)
        }
    }
}
