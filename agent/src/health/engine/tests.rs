//! The engine's thread sleeps while it has nothing to do.

use super::*;
use crate::health::target::Check;
use nix::unistd::{gettid, Pid};
use std::sync::mpsc::SyncSender;

/// Tells the test which thread hands the outcomes over: the engine's.
struct EngineThread(SyncSender<Pid>);

impl Sink for EngineThread {
    fn outcomes(&self, _: Vec<Outcome>) -> usize {
        let _ = self.0.try_send(gettid());
        0
    }

    fn tick(&self, _: Instant) -> bool {
        true
    }
}

/// How often the thread has gone to sleep and been woken since it started.
fn sleeps(tid: Pid) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:")).unwrap();
    line.trim().parse().unwrap()
}

#[test]
fn an_idle_engine_sleeps_between_rounds() {
    // Connects complete into the listen backlog: the probe passes at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = Target {
        addr: listener.local_addr().unwrap(),
        check: Check::Tcp,
        interval: Duration::from_secs(60),
        timeout: Duration::from_secs(1),
    };
    let (sender, threads) = sync_channel(4);
    let engine = start_with(vec![target], Options::default(), Box::new(EngineThread(sender))).unwrap();
    let tid = threads.recv_timeout(Duration::from_secs(5)).expect("the first round's batch");
    // The first CPU sample is due 1 s after the start, the next probe 60 s:
    // until then there is nothing to wake for, least of all every BATCH_WAIT.
    let before = sleeps(tid);
    std::thread::sleep(Duration::from_millis(500));
    let woken = sleeps(tid) - before;
    assert!(woken <= 1, "the idle engine woke {woken} times in 500 ms");
    assert_eq!(engine.stop().probes, 1);
}
