//! The supervisor's decisions against a fake clock and fake processes.

use super::fake::{FakeClock, FakeSpawner, World};
use super::*;
use lvs_config::file::Restart;
use lvs_config::model::Workload;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

fn workload(name: &str, restart: Restart) -> Workload {
    Workload {
        name: name.into(),
        command: format!("/bin/{name}").into(),
        args: vec![],
        env: vec![],
        restart,
        stop_timeout: Duration::from_secs(5),
    }
}

struct Rig {
    sup: Supervisor<FakeSpawner, FakeClock>,
    world: Rc<RefCell<World>>,
    clock: FakeClock,
}

fn rig(workloads: Vec<Workload>, setup: impl FnOnce(&mut World)) -> Rig {
    let clock = FakeClock::new();
    let world = Rc::new(RefCell::new(World::default()));
    setup(&mut world.borrow_mut());
    let spawner = FakeSpawner { world: world.clone(), clock: clock.clone() };
    Rig { sup: Supervisor::new(workloads, spawner, clock.clone()), world, clock }
}

impl Rig {
    /// Runs the supervisor as its thread does (waking at the next start, or
    /// every TICK) for `span`, calling `each` after every tick.
    fn run(&mut self, span: Duration, mut each: impl FnMut(&mut World)) {
        let end = self.clock.elapsed().saturating_add(span);
        while self.clock.elapsed() < end {
            let next = self.sup.tick();
            each(&mut self.world.borrow_mut());
            let now = self.clock.now();
            let step = next.map_or(TICK, |at| at.saturating_duration_since(now).min(TICK));
            self.clock.advance(step.max(Duration::from_millis(1)));
        }
    }

    fn starts_ms(&self, name: &str) -> Vec<u64> {
        self.world.borrow().starts.iter().filter(|s| s.0 == name).map(|s| s.2.as_millis() as u64).collect()
    }

    fn stop(&mut self) -> StopReport {
        self.sup.begin_stop();
        while !self.sup.stop_tick() {
            self.clock.advance(Duration::from_millis(10));
        }
        self.sup.report()
    }
}

/// Makes every running process of `name` exit with `exit` as soon as it is seen.
fn crash(name: &'static str, exit: Exit) -> impl FnMut(&mut World) {
    move |w: &mut World| {
        let pids: Vec<u32> = w.starts.iter().filter(|s| s.0 == name && w.alive.contains(&s.1)).map(|s| s.1).collect();
        for pid in pids {
            w.exit(pid, exit);
        }
    }
}

/// Gaps between starts, less the tick in which the exit was noticed.
fn delays_s(starts: &[u64]) -> Vec<u64> {
    starts.windows(2).map(|w| (w[1] - w[0] - TICK.as_millis() as u64) / 1000).collect()
}

#[test]
fn starts_every_workload_at_once() {
    let mut r = rig(vec![workload("a", Restart::Always), workload("b", Restart::Never)], |_| {});
    r.run(Duration::from_secs(3), |_| {});
    assert_eq!(r.starts_ms("a"), [0]);
    assert_eq!(r.starts_ms("b"), [0]);
    assert_eq!(r.world.borrow().alive.len(), 2);
}

#[test]
fn a_crashing_workload_restarts_after_1_2_4_up_to_30_seconds() {
    let mut r = rig(vec![workload("a", Restart::Always)], |_| {});
    r.run(Duration::from_secs(150), crash("a", Exit::Code(1)));
    assert_eq!(delays_s(&r.starts_ms("a")), [1, 2, 4, 8, 16, 30, 30, 30]);
}

#[test]
fn always_restarts_a_clean_exit_too() {
    let mut r = rig(vec![workload("a", Restart::Always)], |_| {});
    r.run(Duration::from_secs(4), crash("a", Exit::Code(0)));
    assert_eq!(delays_s(&r.starts_ms("a")), [1, 2]);
}

#[test]
fn on_failure_restarts_failures_and_leaves_a_clean_exit_down() {
    let mut r = rig(vec![workload("bad", Restart::OnFailure), workload("done", Restart::OnFailure)], |_| {});
    r.run(Duration::from_millis(1500), |w| {
        crash("bad", Exit::Signal(11))(w);
        crash("done", Exit::Code(0))(w);
    });
    assert_eq!(r.starts_ms("bad").len(), 2, "a segfault is a failure");
    assert_eq!(r.starts_ms("done"), [0]);
    let report = r.stop();
    assert_eq!(report.get("done"), Some(Outcome::EndedBefore(Some(Exit::Code(0)))));
    assert_eq!(report.get("bad"), Some(Outcome::NotRunning));
}

#[test]
fn never_leaves_a_failure_down() {
    let mut r = rig(vec![workload("a", Restart::Never)], |_| {});
    r.run(Duration::from_secs(60), crash("a", Exit::Code(3)));
    assert_eq!(r.starts_ms("a"), [0]);
    assert_eq!(r.stop().get("a"), Some(Outcome::EndedBefore(Some(Exit::Code(3)))));
}

#[test]
fn a_long_healthy_run_starts_the_backoff_over() {
    let mut r = rig(vec![workload("a", Restart::Always)], |_| {});
    r.run(Duration::from_secs(7), crash("a", Exit::Code(1))); // starts at 0, 1, 3, then 7 s
    r.run(Duration::from_secs(70), |_| {}); // which stays up 70 s
    r.run(Duration::from_secs(4), crash("a", Exit::Code(1)));
    // Each exit is noticed one tick (0.1 s) late; after the healthy run, 1 s then 2 s again.
    assert_eq!(r.starts_ms("a"), [0, 1100, 3200, 7300, 77000 + 100 + 1000, 78100 + 100 + 2000]);
}

#[test]
fn a_missing_program_is_retried_with_backoff_unless_never() {
    let mut r = rig(vec![workload("late", Restart::Always), workload("gone", Restart::Never)], |w| {
        w.missing.insert("late".into());
        w.missing.insert("gone".into());
    });
    // Attempts at 0, 1, 3, 7 s: the program appears at 5 s, so it starts at 7 s.
    r.run(Duration::from_secs(5), |_| {});
    r.world.borrow_mut().missing.remove("late");
    r.run(Duration::from_secs(5), |_| {});
    assert_eq!(r.starts_ms("late"), [7000]);
    assert_eq!(r.stop().get("gone"), Some(Outcome::EndedBefore(None)));
}

#[test]
fn stop_sends_sigterm_then_sigkill_after_the_stop_timeout() {
    let mut r = rig(vec![workload("polite", Restart::Always), workload("stubborn", Restart::Always)], |w| {
        w.stubborn.insert("stubborn".into());
    });
    r.run(Duration::from_secs(1), |_| {});
    let (polite, stubborn) = {
        let w = r.world.borrow();
        (w.pid_of("polite"), w.pid_of("stubborn"))
    };
    r.sup.begin_stop();
    assert!(!r.sup.stop_tick());
    r.clock.advance(Duration::from_millis(4990));
    assert!(!r.sup.stop_tick(), "SIGKILL only after the full stop_timeout");
    r.clock.advance(Duration::from_millis(10));
    r.sup.stop_tick();
    assert!(r.sup.stop_tick());
    use nix::sys::signal::Signal::{SIGKILL, SIGTERM};
    assert_eq!(r.world.borrow().signals, [(polite, SIGTERM), (stubborn, SIGTERM), (stubborn, SIGKILL)]);
    let report = r.sup.report();
    assert_eq!(report.get("polite"), Some(Outcome::Exited { exit: Exit::Signal(15), after: Duration::ZERO }));
    assert_eq!(report.get("stubborn"), Some(Outcome::Killed { after: Duration::from_secs(5) }));
    assert!(!report.clean());
    assert!(r.world.borrow().alive.is_empty());
}

#[test]
fn nothing_starts_once_stopping() {
    let mut r = rig(vec![workload("a", Restart::Always)], |_| {});
    r.run(Duration::from_millis(500), crash("a", Exit::Code(1)));
    let report = r.stop();
    r.run(Duration::from_secs(60), |_| {});
    assert_eq!(r.starts_ms("a"), [0]);
    assert_eq!(report.get("a"), Some(Outcome::NotRunning));
    assert!(report.clean());
}

#[test]
fn a_process_that_survives_sigkill_is_given_up_on() {
    let mut r = rig(vec![workload("d", Restart::Always)], |w| {
        w.stubborn.insert("d".into());
    });
    r.run(Duration::from_millis(100), |_| {});
    // Stuck in the kernel: SIGKILL does not end it either.
    let pid = r.world.borrow().pid_of("d");
    r.sup.begin_stop();
    r.clock.advance(Duration::from_secs(5));
    r.sup.stop_tick();
    r.world.borrow_mut().alive.insert(pid);
    r.world.borrow_mut().ended.clear();
    r.clock.advance(KILL_GRACE);
    assert!(r.sup.stop_tick());
    assert_eq!(r.sup.report().get("d"), Some(Outcome::Unreaped));
}

#[test]
fn the_report_reads_as_sentences() {
    let report = StopReport {
        workloads: vec![
            Stopped {
                name: "web".into(),
                outcome: Outcome::Exited { exit: Exit::Signal(15), after: Duration::from_millis(20) },
            },
            Stopped { name: "db".into(), outcome: Outcome::Killed { after: Duration::from_secs(5) } },
        ],
    };
    assert_eq!(
        report.to_string(),
        "workload web stopped (killed by SIGTERM) 0.020s after SIGTERM\nworkload db killed with SIGKILL after 5s"
    );
}
