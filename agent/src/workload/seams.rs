//! What the supervisor needs from the world: the time, and programs to start,
//! wait for and signal. The real ones are in `os`; the tests use fakes.

use super::exit::Exit;
use lvs_config::model::Workload;
use nix::sys::signal::Signal;
use std::io;
use std::time::Instant;

pub trait Clock {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

pub trait Spawner {
    type Process: Process;
    fn spawn(&mut self, workload: &Workload) -> io::Result<Self::Process>;
}

/// One started workload, until it has been reaped.
pub trait Process {
    fn pid(&self) -> u32;
    /// Its exit, once it has ended (and then it is reaped); never blocks.
    fn try_wait(&mut self) -> io::Result<Option<Exit>>;
    /// Sends `signal` to the workload and whatever it started.
    fn signal(&mut self, signal: Signal) -> io::Result<()>;
}
