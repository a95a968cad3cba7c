//! `lvs-agent weight SERVICE REALSERVER N|clear`: an operator's weight for one
//! real server of the running director, as `ipvsadm -e ... -w N` would set it,
//! but kept: health still decides (a server that is down stays at 0 until it
//! is up), and the weight survives restarts until it is cleared. The request
//! goes through the run directory (lvs_agent::run::weight_requests says how);
//! the agent answers beside it, and this prints the answer: what changed, or
//! why not.

use super::{EXIT_FAILED, EXIT_INVALID};
use anyhow::{Context, Result};
use lvs_agent::run::weight_requests::{self, Verdict};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longer than the agent waits for its IPVS thread (30 s): the agent answers
/// even when that thread does not.
const ANSWER_WAIT: Duration = Duration::from_secs(40);

pub fn run(service: &str, real_server: &str, weight: &str, run_dir: &Path) -> Result<i32> {
    let request = match weight_requests::parse(service, real_server, weight) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lvs-agent: {e}");
            return Ok(EXIT_INVALID);
        }
    };
    let pid = super::swap::agent_pid(run_dir)?;
    // One request per process: its pid names it.
    let file = weight_requests::request_path(run_dir, std::process::id());
    let answer = weight_requests::answer_path(&file);
    let _ = std::fs::remove_file(&answer);
    lvs_agent::atomic_file::write(&file, weight_requests::to_text(&request).as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    super::swap::wake(pid, Signal::SIGUSR1)?;
    let asked = Instant::now();
    let text = loop {
        match lvs_agent::capped::read_to_string(&answer, weight_requests::ANSWER_MAX_BYTES, "weight answer") {
            Ok(text) => break text,
            Err(e) if !e.is_not_found() => {
                let _ = std::fs::remove_file(&file);
                return Err(e.into());
            }
            Err(_) if asked.elapsed() < ANSWER_WAIT => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => {
                let _ = std::fs::remove_file(&file);
                anyhow::bail!(
                    "the agent (pid {pid}) did not answer within {ANSWER_WAIT:?}; see its log ({}/agent.log)",
                    run_dir.display()
                );
            }
        }
    };
    let _ = std::fs::remove_file(&answer);
    let Some((verdict, what)) = weight_requests::read_answer(&text) else {
        anyhow::bail!("the agent's answer in {} is not one: {text:?}", answer.display());
    };
    match verdict {
        Verdict::Applied => {
            println!("lvs-agent: {what}");
            Ok(0)
        }
        Verdict::Refused => {
            eprintln!("lvs-agent: refused: {what}");
            Ok(EXIT_INVALID)
        }
        Verdict::Failed => {
            eprintln!("lvs-agent: failed: {what}");
            Ok(EXIT_FAILED)
        }
    }
}
