//! PID 1's loop: start the agent, reap every zombie, restart the agent with
//! backoff when it dies, run the test hook, and return when asked to stop.

use super::backoff::Backoff;
use crate::deadline::after;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    PowerOff,
    Reboot,
}

pub struct Supervisor {
    /// The agent's program and arguments.
    pub agent: Vec<String>,
    /// `lvs.run=`: run once the agent is ready, then power off.
    pub run: Option<Vec<String>>,
    /// The file the agent creates when it is ready.
    pub ready_file: PathBuf,
    /// Where the agent's pid is written, for people and test scripts.
    pub pid_file: PathBuf,
}

/// The signals PID 1 takes through its signalfd rather than by handlers.
pub fn signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGPWR, Signal::SIGHUP] {
        set.add(s);
    }
    set
}

/// A command for a child of PID 1 that starts with no signal blocked (see `init::child`).
fn child(program: &str, args: &[String]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    super::child::unblock_signals(&mut command);
    command
}

/// The running agent's pid, if any; shared with shutdown.
pub struct Running {
    pub agent: Option<Pid>,
    pub hook: Option<Pid>,
    /// The agent's config, read again at shutdown for its workloads' stop timeouts.
    pub config: Option<PathBuf>,
}

impl Supervisor {
    /// Runs until a stop signal or the end of the test hook. Errors only when
    /// the signalfd cannot be made (then the caller falls back to reaping).
    pub fn run(&self, running: &mut Running) -> nix::Result<Stop> {
        let set = signals();
        set.thread_block()?;
        let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        let mut backoff = Backoff::default();
        let mut started_at = Instant::now();
        let mut restart_at: Option<Instant> = Some(Instant::now());
        let mut hook_pending = self.run.is_some();

        loop {
            if restart_at.is_some_and(|t| Instant::now() >= t) {
                restart_at = None;
                started_at = Instant::now();
                running.agent = self.start_agent();
                if running.agent.is_none() {
                    restart_at = Some(after(Instant::now(), backoff.after_exit(Duration::ZERO)));
                }
            }
            if hook_pending && self.ready_file.exists() {
                hook_pending = false;
                running.hook = self.start_hook();
                if running.hook.is_none() {
                    return Ok(Stop::PowerOff);
                }
            }

            // Wake for the next restart, or every 100 ms while the hook waits for readiness.
            let mut wait = restart_at.map(|t| t.saturating_duration_since(Instant::now()));
            if hook_pending {
                wait = Some(wait.map_or(Duration::from_millis(100), |w| w.min(Duration::from_millis(100))));
            }
            let timeout = match wait {
                Some(w) => PollTimeout::try_from(w).unwrap_or(PollTimeout::MAX),
                None => PollTimeout::NONE,
            };
            let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    crate::note!(error, "poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }

            while let Ok(Some(info)) = sfd.read_signal() {
                let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else { continue };
                match sig {
                    Signal::SIGCHLD => {}
                    Signal::SIGTERM | Signal::SIGPWR => {
                        crate::note!(info, "received {sig}: stopping, then powering off");
                        return Ok(Stop::PowerOff);
                    }
                    Signal::SIGINT => {
                        crate::note!(info, "received {sig} (ctrl-alt-del): stopping, then rebooting");
                        return Ok(Stop::Reboot);
                    }
                    Signal::SIGHUP => {
                        if let Some(pid) = running.agent {
                            crate::note!(info, "received SIGHUP: passing it to the agent");
                            let _ = kill(pid, Signal::SIGHUP);
                        }
                    }
                    _ => {}
                }
            }

            // Reap everything: orphans re-parented to us as well as our own children.
            loop {
                match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) | Err(_) => break,
                    Ok(status) => {
                        let Some(pid) = status.pid() else { continue };
                        if Some(pid) == running.agent {
                            running.agent = None;
                            // A killed agent cannot remove it; a stale one would lie to readers.
                            let _ = std::fs::remove_file(&self.ready_file);
                            let delay = backoff.after_exit(started_at.elapsed());
                            crate::note!(
                                warn,
                                "agent exited ({}); restarting in {}s",
                                describe(&status),
                                delay.as_secs()
                            );
                            restart_at = Some(after(Instant::now(), delay));
                        } else if Some(pid) == running.hook {
                            running.hook = None;
                            let code = match status {
                                WaitStatus::Exited(_, code) => code,
                                WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
                                _ => -1,
                            };
                            crate::note!(info, "run exited status={code}");
                            return Ok(Stop::PowerOff);
                        }
                    }
                }
            }
        }
    }

    fn start_agent(&self) -> Option<Pid> {
        let (program, args) = self.agent.split_first()?;
        match child(program, args).spawn() {
            Ok(child) => {
                let pid = Pid::from_raw(child.id() as i32);
                let _ = std::fs::write(&self.pid_file, format!("{pid}\n"));
                crate::note!(info, "agent started pid={pid}");
                Some(pid)
            }
            Err(e) => {
                crate::note!(error, "cannot start the agent {program}: {e}");
                None
            }
        }
    }

    fn start_hook(&self) -> Option<Pid> {
        let (program, args) = self.run.as_ref()?.split_first()?;
        match child(program, args).spawn() {
            Ok(child) => {
                crate::note!(info, "run started: {}", self.run.as_ref()?.join(" "));
                Some(Pid::from_raw(child.id() as i32))
            }
            Err(e) => {
                crate::note!(error, "cannot run {program}: {e}");
                crate::note!(info, "run exited status=127");
                None
            }
        }
    }
}

fn describe(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("status {code}"),
        WaitStatus::Signaled(_, sig, core) => format!("killed by {sig}{}", if *core { ", core dumped" } else { "" }),
        other => format!("{other:?}"),
    }
}
