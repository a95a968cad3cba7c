//! Commands for children of a process that blocks its signals.
//!
//! PID 1 blocks its signals to read them from a signalfd, and the agent blocks
//! its stop signals to wait for them with `sigwait`. A child inherits the mask
//! across exec, and std's Command does not reset it: a shell started with
//! SIGCHLD blocked waits forever in `wait`, and one with SIGTERM blocked cannot
//! be stopped at shutdown.

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use std::process::Command;

/// Makes `command`'s process start with no signal blocked.
pub fn unblock_signals(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only calls
    // sigprocmask, which is async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).map_err(std::io::Error::from)
        });
    }
    command
}
