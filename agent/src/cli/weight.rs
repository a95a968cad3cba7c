//! `lvs-agent weight SERVICE REALSERVER N|clear`: an operator's weight for one
//! real server of the running director, as `ipvsadm -e ... -w N` would set it,
//! but kept: health still decides (a server that is down stays at 0 until it
//! is up), and the weight survives restarts until it is cleared. The request
//! goes through the run directory (lvs_agent::run::weight says how); the
//! agent's log says what it did, as for `try`.

use super::EXIT_INVALID;
use anyhow::Result;
use lvs_agent::run::weight::{Request, WEIGHT_DIR};
use nix::sys::signal::Signal;
use std::path::Path;

pub fn run(service: &str, real_server: &str, weight: &str, run_dir: &Path) -> Result<i32> {
    let request = match Request::parse(service, real_server, weight) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lvs-agent: {e}");
            return Ok(EXIT_INVALID);
        }
    };
    let pid = super::swap::agent_pid(run_dir)?;
    // One request per process: its pid names it.
    let file = run_dir.join(WEIGHT_DIR).join(format!("{}.req", std::process::id()));
    lvs_agent::state::store::write_atomically(&file, request.to_text().as_bytes())?;
    super::swap::wake(pid, Signal::SIGUSR1)?;
    println!("lvs-agent: sent; see the agent's log");
    Ok(0)
}
