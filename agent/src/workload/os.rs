//! Real workloads: processes started with exactly their configured
//! environment, each in a process group of its own.

use super::exit::Exit;
use super::output;
use super::seams::{Process, Spawner};
use lvs_config::model::Workload;
use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};

pub struct OsSpawner;

impl Spawner for OsSpawner {
    type Process = OsProcess;

    fn spawn(&mut self, workload: &Workload) -> io::Result<OsProcess> {
        let mut command = Command::new(&workload.command);
        command
            .args(&workload.args)
            .env_clear()
            .envs(workload.env.iter().map(|(k, v)| (k, v)))
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, so that stopping it also stops what it started
            // (a shell's children, a server's workers).
            .process_group(0);
        crate::init::child::unblock_signals(&mut command);
        die_with_supervisor(&mut command);
        let mut child = command.spawn()?;
        if let Some(out) = child.stdout.take() {
            output::forward(&workload.name, out);
        }
        if let Some(err) = child.stderr.take() {
            output::forward(&workload.name, err);
        }
        Ok(OsProcess { child })
    }
}

/// If the agent dies without stopping its workloads (a crash, SIGKILL), PID 1
/// restarts it and it starts them again: the old ones must not stay behind
/// holding their ports. The signal goes when the thread that forked the child
/// ends, which is the supervisor's thread: it ends only after stopping them.
fn die_with_supervisor(command: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec; prctl and
    // getppid are async-signal-safe syscalls, and nothing is allocated
    // (Errno converts to io::Error without allocating).
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The parent may have died before prctl: then no signal would come.
            if nix::unistd::getppid() != parent {
                return Err(Errno::ESRCH.into());
            }
            Ok(())
        });
    }
}

pub struct OsProcess {
    child: Child,
}

impl OsProcess {
    fn group(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }
}

impl Process for OsProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn try_wait(&mut self) -> io::Result<Option<Exit>> {
        // Look without reaping: while the leader is a zombie its pid (the group's
        // id) cannot be reused, so what is left of its group can be killed
        // without hitting a stranger. A group without its leader is unsupervised.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.group()), flags) {
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) => {
                let _ = killpg(self.group(), Signal::SIGKILL);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(self.child.try_wait()?.map(exit))
    }

    fn signal(&mut self, signal: Signal) -> io::Result<()> {
        match killpg(self.group(), signal) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn exit(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        // try_wait only reports processes that ended, which is one of the two.
        (None, None) => Exit::Code(-1),
    }
}
