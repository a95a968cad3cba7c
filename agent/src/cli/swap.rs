//! `lvs-agent try` and `lvs-agent confirm`: run a new config for a while and
//! keep it only when confirmed. The CLI writes the try folder the running agent
//! reads (lvs_agent::run::try_folder says what is in it) and wakes the agent with
//! SIGHUP; the agent does the rest and logs it.

use super::{EXIT_FAILED, EXIT_INVALID};
use anyhow::{bail, Context, Result};
use lvs_agent::capped::read_config;
use lvs_agent::run::try_folder::{CANDIDATE, CONFIRMED, DEADLINE, TRY_DIR};
use lvs_config::ConfigError;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest `--within`: a try is meant for minutes, and a day covers any
/// change window; a longer one is a typo (or `500000000000y`, which would
/// overflow the clock).
pub const MAX_WITHIN: Duration = Duration::from_secs(24 * 3600);

/// `--within` as clap reads it: a duration of more than 0 and at most [`MAX_WITHIN`].
/// A wrong one is clap's usage error, exit status 2.
pub fn parse_within(text: &str) -> Result<Duration> {
    let within = humantime::parse_duration(text)?;
    if within.is_zero() {
        bail!("a try of 0s would be over before the agent saw it; give it a minute or more, e.g. 5m");
    }
    if within > MAX_WITHIN {
        bail!(
            "at most {}h (a try is meant for minutes); confirm it and try again if you need longer",
            MAX_WITHIN.as_secs() / 3600
        );
    }
    Ok(within)
}

pub fn try_config(file: &Path, within: Duration, run_dir: &Path) -> Result<i32> {
    // Read once: what is handed over is exactly what was validated.
    let text = match read_config(file).and_then(|text| Ok((lvs_config::parse(&text, file)?, text))) {
        Ok((loaded, text)) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            text
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("lvs-agent: nothing tried: the running config stays");
            return Ok(match e {
                ConfigError::Read { .. } => EXIT_FAILED,
                _ => EXIT_INVALID,
            });
        }
    };
    let pid = agent_pid(run_dir)?;
    let dir = run_dir.join(TRY_DIR);
    let _ = std::fs::remove_file(dir.join(CONFIRMED));
    let deadline = SystemTime::now()
        .checked_add(within)
        .with_context(|| format!("the clock cannot say when {} from now is", humantime::format_duration(within)))?;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    // The deadline first: the agent starts a try when it sees the candidate.
    lvs_agent::atomic_file::write(&dir.join(DEADLINE), format!("{deadline_ms}\n").as_bytes())
        .with_context(|| format!("cannot write {}", dir.join(DEADLINE).display()))?;
    lvs_agent::atomic_file::write(&dir.join(CANDIDATE), text.as_bytes())
        .with_context(|| format!("cannot write {}", dir.join(CANDIDATE).display()))?;
    wake(pid, Signal::SIGHUP)?;
    println!(
        "lvs-agent: trying {} for {}; run `lvs-agent confirm` before then to keep it, or the agent goes back to its config file",
        file.display(),
        humantime::format_duration(within)
    );
    Ok(0)
}

pub fn confirm(run_dir: &Path) -> Result<i32> {
    let dir = run_dir.join(TRY_DIR);
    if !dir.join(CANDIDATE).exists() {
        bail!("no try is running (nothing in {})", dir.display());
    }
    let pid = agent_pid(run_dir)?;
    std::fs::write(dir.join(CONFIRMED), b"")
        .with_context(|| format!("cannot write {}", dir.join(CONFIRMED).display()))?;
    wake(pid, Signal::SIGHUP)?;
    println!("lvs-agent: confirmed; the agent writes the tried config over its config file (see its log)");
    Ok(0)
}

/// A pid and a newline.
const PID_FILE_MAX_BYTES: u64 = 64;

pub fn agent_pid(run_dir: &Path) -> Result<Pid> {
    let file = run_dir.join("agent.pid");
    let text = lvs_agent::capped::read_to_string(&file, PID_FILE_MAX_BYTES, "pid file").context("no running agent")?;
    let pid: i32 = text.trim().parse().with_context(|| format!("{} does not hold a pid", file.display()))?;
    Ok(Pid::from_raw(pid))
}

pub fn wake(pid: Pid, signal: Signal) -> Result<()> {
    kill(pid, signal).with_context(|| format!("cannot signal the agent (pid {pid})"))
}
