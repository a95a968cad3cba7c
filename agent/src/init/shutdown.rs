//! Stopping everything and powering off or rebooting. Never returns.

use super::supervise::{Running, Stop};
use nix::sys::reboot::{reboot, RebootMode};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// How long the agent gets to save its state after SIGTERM.
pub const AGENT_GRACE: Duration = Duration::from_secs(4);

pub fn shutdown(running: &Running, stop: Stop) -> ! {
    for pid in [running.hook, running.agent].into_iter().flatten() {
        let _ = kill(pid, Signal::SIGTERM);
    }
    if let Some(agent) = running.agent {
        if !wait_for(agent, AGENT_GRACE) {
            crate::note!(warn, "agent pid={agent} did not stop within {}s: killing it", AGENT_GRACE.as_secs());
            let _ = kill(agent, Signal::SIGKILL);
            wait_for(agent, Duration::from_secs(1));
        }
    }
    // Whatever else runs (workloads, the hook) gets the same treatment, briefly.
    let _ = kill(Pid::from_raw(-1), Signal::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
    reap_all();

    nix::unistd::sync();
    for target in ["/state", "/config"] {
        let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
    }
    nix::unistd::sync();

    let mode = match stop {
        Stop::PowerOff => {
            crate::note!(info, "powering off");
            RebootMode::RB_POWER_OFF
        }
        Stop::Reboot => {
            crate::note!(info, "rebooting");
            RebootMode::RB_AUTOBOOT
        }
    };
    let Err(e) = reboot(mode);
    crate::note!(error, "reboot system call failed: {e}; halting here");
    // PID 1 must not exit: that would panic the kernel.
    loop {
        reap_all();
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Waits for `pid` to exit, reaping others meanwhile. True if it exited.
fn wait_for(pid: Pid, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(20)),
            Ok(status) if status.pid() == Some(pid) => return true,
            Ok(_) => {}
            // ECHILD: nothing left to wait for.
            Err(_) => return true,
        }
    }
    false
}

pub fn reap_all() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}
