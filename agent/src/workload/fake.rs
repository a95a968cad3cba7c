//! A clock moved by hand and processes that end when the test says so.

use super::exit::Exit;
use super::seams::{Clock, Process, Spawner};
use crate::deadline::after;
use lvs_config::model::Workload;
use nix::sys::signal::Signal;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct FakeClock {
    base: Instant,
    offset: Rc<RefCell<Duration>>,
}

impl FakeClock {
    pub fn new() -> Self {
        FakeClock { base: Instant::now(), offset: Rc::default() }
    }
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.borrow_mut();
        *offset = offset.saturating_add(by);
    }
    pub fn elapsed(&self) -> Duration {
        *self.offset.borrow()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        after(self.base, self.elapsed())
    }
}

#[derive(Default)]
pub struct World {
    /// (workload, pid, clock offset) of every start.
    pub starts: Vec<(String, u32, Duration)>,
    /// Processes that have not ended, by pid.
    pub alive: BTreeSet<u32>,
    /// Processes that ended and are not reaped yet.
    pub ended: Vec<(u32, Exit)>,
    /// Signals sent, in order.
    pub signals: Vec<(u32, Signal)>,
    /// Workloads whose program cannot be started.
    pub missing: BTreeSet<String>,
    /// Workloads that ignore SIGTERM.
    pub stubborn: BTreeSet<String>,
    next_pid: u32,
}

impl World {
    pub fn exit(&mut self, pid: u32, exit: Exit) {
        assert!(self.alive.remove(&pid), "pid {pid} is not running");
        self.ended.push((pid, exit));
    }
    pub fn pid_of(&self, name: &str) -> u32 {
        self.starts.iter().rev().find(|s| s.0 == name).expect("started").1
    }
}

#[derive(Clone)]
pub struct FakeSpawner {
    pub world: Rc<RefCell<World>>,
    pub clock: FakeClock,
}

pub struct FakeProcess {
    pid: u32,
    stubborn: bool,
    world: Rc<RefCell<World>>,
}

impl Spawner for FakeSpawner {
    type Process = FakeProcess;

    fn spawn(&mut self, workload: &Workload) -> io::Result<FakeProcess> {
        let mut w = self.world.borrow_mut();
        if w.missing.contains(&workload.name) {
            return Err(io::ErrorKind::NotFound.into());
        }
        w.next_pid += 1;
        let pid = w.next_pid + 100;
        w.alive.insert(pid);
        w.starts.push((workload.name.clone(), pid, self.clock.elapsed()));
        let stubborn = w.stubborn.contains(&workload.name);
        Ok(FakeProcess { pid, stubborn, world: self.world.clone() })
    }
}

impl Process for FakeProcess {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn try_wait(&mut self) -> io::Result<Option<Exit>> {
        let mut w = self.world.borrow_mut();
        let Some(i) = w.ended.iter().position(|e| e.0 == self.pid) else { return Ok(None) };
        Ok(Some(w.ended.remove(i).1))
    }

    fn signal(&mut self, signal: Signal) -> io::Result<()> {
        let mut w = self.world.borrow_mut();
        w.signals.push((self.pid, signal));
        let dies = signal == Signal::SIGKILL || (signal == Signal::SIGTERM && !self.stubborn);
        if dies && w.alive.contains(&self.pid) {
            w.exit(self.pid, Exit::Signal(signal as i32));
        }
        Ok(())
    }
}
