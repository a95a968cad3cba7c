//! Stopping everything and powering off or rebooting. Never returns.

use super::supervise::{Running, Stop};
use crate::deadline::after;
use lvs_config::model::Role;
use nix::sys::reboot::{reboot, RebootMode};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the agent gets after SIGTERM to save a director's state, beyond
/// the time a real server's workloads may take to stop.
pub const AGENT_GRACE: Duration = Duration::from_secs(4);

/// What a config that cannot be read at shutdown is assumed to give its
/// workloads: the agent runs the last valid one, whose timeouts are unknown
/// here. Only a hung agent makes PID 1 wait it out.
const UNKNOWN_STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long PID 1 waits for the agent after SIGTERM: a real server's agent
/// stops its workloads (together, each within its stop_timeout) before it
/// exits. Read from the config at shutdown, as a reload may have changed it.
pub fn agent_grace(config: Option<&Path>) -> Duration {
    let longest = match config.map(crate::capped::load_config) {
        Some(Ok(loaded)) => match &loaded.model.role {
            Role::RealServer(rs) => rs.workloads.iter().map(|w| w.stop_timeout).max().unwrap_or_default(),
            Role::Director(_) => Duration::ZERO,
        },
        Some(Err(_)) => UNKNOWN_STOP_TIMEOUT,
        None => Duration::ZERO,
    };
    grace_with(longest)
}

/// The agent's grace with its longest stop timeout on top; a timeout past
/// the clock's range gives the longest grace, not a panic in PID 1.
fn grace_with(longest: Duration) -> Duration {
    AGENT_GRACE.saturating_add(longest)
}

pub fn shutdown(running: &Running, stop: Stop) -> ! {
    for pid in [running.hook, running.agent].into_iter().flatten() {
        let _ = kill(pid, Signal::SIGTERM);
    }
    if let Some(agent) = running.agent {
        let grace = agent_grace(running.config.as_deref());
        if !wait_for(agent, grace) {
            crate::note!(warn, "agent pid={agent} did not stop within {}s: killing it", grace.as_secs());
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
    let deadline = after(Instant::now(), limit);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_gets_its_longest_workload_stop_timeout_on_top() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("appliance.ron");
        let grace = |text: &str| {
            std::fs::write(&file, text).unwrap();
            agent_grace(Some(&file))
        };
        let workloads = r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"], workloads: [
            Workload(command: "/bin/a"),
            Workload(command: "/bin/b", stop_timeout: "12s"),
        ]))"#;
        assert_eq!(grace(workloads), AGENT_GRACE + Duration::from_secs(12));
        let default_timeout = r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"], workloads: [Workload(command: "/bin/a")]))"#;
        assert_eq!(grace(default_timeout), AGENT_GRACE + Duration::from_secs(5));
        assert_eq!(grace("Appliance(role: Director(services: []))"), AGENT_GRACE);
        assert_eq!(grace("Appliance("), AGENT_GRACE + UNKNOWN_STOP_TIMEOUT);
        assert_eq!(agent_grace(None), AGENT_GRACE);
        assert_eq!(grace_with(Duration::MAX), Duration::MAX);
        let deadline = after(Instant::now(), grace_with(Duration::MAX));
        assert!(deadline > Instant::now() + Duration::from_secs(365 * 24 * 3600));
    }
}
