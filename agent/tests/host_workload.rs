//! Host test: the workload supervisor with real programs (/bin/sh, /bin/sleep,
//! /usr/bin/env). Each test names its workloads uniquely and reads their lines
//! back from a logger that keeps everything logged.

use lvs_agent::workload::{self, Exit, Outcome};
use lvs_config::file::Restart;
use lvs_config::model::Workload;
use nix::sys::signal::{killpg, SigSet, Signal};
use nix::unistd::Pid;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Keep;

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LINES.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

fn capture_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_boxed_logger(Box::new(Keep)).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The output lines of workload `name` (logged as `name: line`; the logger,
/// not the message, carries the `who: T=` prefix).
fn output_of(name: &str) -> Vec<String> {
    let tag = format!("{name}: ");
    LINES.lock().unwrap().iter().filter_map(|l| l.strip_prefix(&tag).map(str::to_string)).collect()
}

/// Waits up to 5 s for workload `name` to have written `n` lines.
fn wait_for_lines(name: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now().checked_add(Duration::from_secs(5)).unwrap();
    loop {
        let lines = output_of(name);
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sh(name: &str, script: &str, restart: Restart, stop_timeout: Duration) -> Workload {
    Workload {
        name: name.into(),
        command: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        restart,
        stop_timeout,
    }
}

/// As in the run mode, where the main thread waits for these with sigwait.
fn block_stop_signals() {
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    set.thread_block().unwrap();
}

#[test]
fn a_failing_program_is_restarted_with_backoff() {
    capture_log();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let runs_arg = runs.to_string_lossy().into_owned();
    let count = || std::fs::read_to_string(&runs).unwrap_or_default().lines().count();
    let mut failing = sh("failing", r#"echo run >> "$0"; exit 1"#, Restart::Always, Duration::from_secs(1));
    failing.args.push(runs_arg.clone());
    let once = dir.path().join("once");
    let mut clean = sh("clean", r#"echo run >> "$0"; exit 0"#, Restart::OnFailure, Duration::from_secs(1));
    clean.args.push(once.to_string_lossy().into_owned());

    let handle = workload::start(vec![failing, clean]).unwrap();
    // Starts at 0 s, about 1.1 s and about 3.2 s (1 s, then 2 s, after each exit is noticed).
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(count(), 2);
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(count(), 3);
    let report = handle.stop();
    assert_eq!(report.get("failing"), Some(Outcome::NotRunning), "{report}");
    assert_eq!(report.get("clean"), Some(Outcome::EndedBefore(Some(Exit::Code(0)))), "{report}");
    assert_eq!(std::fs::read_to_string(&once).unwrap(), "run\n", "a clean exit is not restarted on failure");
}

#[test]
fn sleep_stops_on_sigterm_well_within_its_stop_timeout() {
    capture_log();
    block_stop_signals();
    let sleeper = Workload {
        name: "sleeper".into(),
        command: "/bin/sleep".into(),
        args: vec!["60".into()],
        env: vec![],
        restart: Restart::Always,
        stop_timeout: Duration::from_secs(5),
    };
    let handle = workload::start(vec![sleeper]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let report = handle.stop();
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    match report.get("sleeper") {
        Some(Outcome::Exited { exit: Exit::Signal(15), .. }) => {}
        other => panic!("expected SIGTERM to end it, got {other:?}"),
    }
    assert!(report.clean());
}

#[test]
fn a_program_ignoring_sigterm_is_killed_after_stop_timeout_with_its_children() {
    capture_log();
    let script = r#"trap "" TERM; echo "ready $$"; while :; do sleep 1; done"#;
    let stubborn = sh("stubborn", script, Restart::Always, Duration::from_millis(500));
    let handle = workload::start(vec![stubborn]).unwrap();
    let lines = wait_for_lines("stubborn", 1);
    let pgid: i32 = lines[0].strip_prefix("ready ").expect("ready line").parse().unwrap();

    let t = Instant::now();
    let report = handle.stop();
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(report.get("stubborn"), Some(Outcome::Killed { after: Duration::from_millis(500) }));
    assert!(!report.clean());
    // Its sleep (same process group) went too; reparented zombies take a moment to be reaped.
    let deadline = Instant::now() + Duration::from_secs(2);
    while killpg(Pid::from_raw(pgid), None).is_ok() {
        assert!(Instant::now() < deadline, "process group {pgid} is still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_environment_is_exactly_the_configured_one() {
    capture_log();
    let env = Workload {
        name: "envdump".into(),
        command: "/usr/bin/env".into(),
        args: vec![],
        env: vec![("LANG".into(), "C".into()), ("GREETING".into(), "hello world".into())],
        restart: Restart::Never,
        stop_timeout: Duration::from_secs(1),
    };
    let handle = workload::start(vec![env]).unwrap();
    wait_for_lines("envdump", 2);
    std::thread::sleep(Duration::from_millis(300));
    let mut lines = output_of("envdump");
    lines.sort();
    assert_eq!(lines, ["GREETING=hello world", "LANG=C"]);
    assert_eq!(handle.stop().get("envdump"), Some(Outcome::EndedBefore(Some(Exit::Code(0)))));
}

#[test]
fn a_child_starts_unblocked_with_stdin_null_in_root_and_its_stderr_logged() {
    capture_log();
    // The agent blocks these; the supervisor thread and its children inherit that mask.
    block_stop_signals();
    let script = r#"grep '^SigBlk' /proc/self/status; read line; echo "read=$?"; pwd; echo oops >&2"#;
    let probe = sh("probe", script, Restart::Never, Duration::from_secs(1));
    let handle = workload::start(vec![probe]).unwrap();
    let mut lines = wait_for_lines("probe", 4);
    lines.sort();
    assert_eq!(lines, ["/", "SigBlk:\t0000000000000000", "oops", "read=1"]);
    handle.stop();
}

#[test]
fn a_missing_program_is_logged_and_not_retried_with_never() {
    capture_log();
    let missing = Workload {
        name: "ghost".into(),
        command: "/nonexistent/ghost".into(),
        args: vec![],
        env: vec![],
        restart: Restart::Never,
        stop_timeout: Duration::from_secs(1),
    };
    let handle = workload::start(vec![missing]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(handle.stop().get("ghost"), Some(Outcome::EndedBefore(None)));
    let lines = LINES.lock().unwrap();
    assert!(lines.iter().any(|l| l.contains("workload ghost: cannot start /nonexistent/ghost")), "{lines:#?}");
}
