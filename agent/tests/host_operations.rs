//! Host test: the management API's operations (`run::remote`) against the
//! agent's real main loop, as root in a network namespace of its own. The
//! agent runs on a thread of this process (`run::run_with`), so that the
//! test holds the same `Operations` the management server is given, without
//! TLS in between (the server has tests of its own). A real server (no IPVS
//! on the host) serves its body on 127.0.0.1:8080, and each operation shows
//! in what it serves, in its config file and in its log.

use lvs_agent::manage::api::{StatusQuery, WeightAsk};
use lvs_agent::manage::{OpError, Operations, Power};
use lvs_agent::run::remote::Remote;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;
use common::host::served;
use common::netns::in_netns;

fn config(body: &str) -> String {
    format!("Appliance(role: RealServer(mode: DirectRouting, vips: [\"192.0.2.80\"], http: StaticHttp(port: 8080, body: \"{body}\")))\n")
}

/// The agent on a thread, and the operations the management server would get.
struct Running {
    ops: Arc<Remote>,
    thread: Option<JoinHandle<i32>>,
    file: PathBuf,
    run: PathBuf,
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Running {
    /// One agent at a time: the logger (and its file) is the process's.
    fn start(dir: &Path, text: &str) -> Running {
        let (file, run) = (dir.join("appliance.ron"), dir.join("run"));
        std::fs::write(&file, text).unwrap();
        let opts = lvs_agent::run::Options {
            config: file.clone(),
            state_dir: Some(dir.join("state")),
            log_level: None,
            run_dir: run.clone(),
            config_mount: None,
            under_init: false,
        };
        let (queue, ops) = lvs_agent::run::remote::channel(false).unwrap();
        let remote = ops.clone();
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let thread = std::thread::spawn(move || lvs_agent::run::run_with(&opts, Ok((queue, remote))));
        let running = Running { ops, thread: Some(thread), file, run, _serial: serial };
        running.wait("ready", |r| r.run.join("ready").exists());
        running
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.run.join("agent.log")).unwrap_or_default()
    }

    fn wait(&self, what: &str, cond: impl Fn(&Running) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what}: not within 10 s; the agent's log:\n{}", self.log());
    }

    fn serves(&self, body: &str) {
        self.wait(&format!("serving {body:?}"), |_| served().as_deref() == Some(body));
    }

    fn stop(mut self) -> i32 {
        self.ops.stop_agent().unwrap();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.ops.stop_agent();
            let _ = thread.join();
        }
    }
}

#[test]
fn the_operations_read_try_and_refuse_through_the_main_loop() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let agent = Running::start(dir.path(), &config("one"));
        let ops = agent.ops.clone();
        agent.serves("one");

        let running = ops.config().unwrap();
        assert_eq!(
            (running.path.as_str(), running.text.as_str()),
            (agent.file.to_str().unwrap(), config("one").as_str())
        );
        assert_eq!(running.hash, format!("{:016x}", lvs_agent::state::format::fnv1a64(config("one").as_bytes())));
        assert_eq!(running.trying, None);

        // Validation changes nothing and points into the candidate.
        let bad =
            ops.validate("Appliance(role: RealServer(mode: DirectRouting,\n    vips: [\"192.0.2.80\"], bogus: 1))\n");
        assert!(!bad.valid && bad.errors.as_deref().unwrap().contains("candidate.ron:2:"), "{bad:?}");
        assert!(ops.validate(&config("two")).valid);
        let e = ops.apply("Appliance(").unwrap_err();
        assert!(matches!(&e, OpError::Refused(m) if m.contains("candidate.ron:1:")), "{e:?}");
        assert_eq!(served().as_deref(), Some("one"));

        // This host's kernel has no IPVS table to show.
        let e = ops.status(&StatusQuery::default()).unwrap_err();
        assert!(matches!(&e, OpError::Failed(m) if m.contains("cannot read the kernel's IPVS table")), "{e:?}");

        // A try runs at once, blocks an apply, and goes back at its deadline.
        let done = ops.try_config(&config("two"), Duration::from_secs(3)).unwrap();
        assert!(done.message.starts_with("trying the candidate for 3s; run `lvs-agent confirm`"), "{}", done.message);
        assert!(done.message.contains("config: applied "), "{}", done.message);
        assert_eq!(served().as_deref(), Some("two"), "running when the answer came");
        let trying = ops.config().unwrap();
        assert_eq!(
            (trying.text.as_str(), trying.path.as_str()),
            (config("two").as_str(), agent.file.to_str().unwrap())
        );
        assert!(trying.trying.is_some());
        let e = ops.apply(&config("five")).unwrap_err();
        assert!(matches!(&e, OpError::Conflict(m) if m.contains("a try is running")), "{e:?}");
        agent.serves("one");
        assert!(agent.log().contains("was not confirmed in time"), "{}", agent.log());
        assert_eq!(std::fs::read_to_string(&agent.file).unwrap(), config("one"));
        assert_eq!(ops.config().unwrap().trying, None);
        assert_eq!(ops.confirm().unwrap_err(), OpError::Conflict("no try is running: nothing to confirm".into()));

        // A weight on a real server, and power outside the appliance, are refused with why.
        let ask =
            WeightAsk { service: "TCP 192.0.2.80:80".into(), real_server: "192.0.2.21".into(), weight: "drain".into() };
        assert_eq!(ops.weight(&ask).unwrap_err(), OpError::Refused("a real server has no IPVS table".into()));
        assert!(matches!(ops.power(Power::Off).unwrap_err(), OpError::Refused(_)));

        // The log's ring, and a follower that sees what comes next.
        let lines = ops.logs(1000);
        assert!(lines.iter().any(|l| l.contains("config: trying ")), "{lines:?}");
        assert!(lines.iter().all(|l| l.starts_with("lvs-agent: T=")), "{lines:?}");
        let follower = ops.follow();
        ops.try_config(&config("three"), Duration::from_secs(60)).unwrap();
        let next: Vec<String> = follower.iter().take_while(|l| !l.contains("config: trying ")).collect();
        assert!(next.len() < 10, "{next:?}");

        assert_eq!(agent.stop(), 0);
    });
}

/// Apply and confirm write the config file (the one before kept as
/// `.prev`) before they answer, so that what runs is what the next boot runs.
#[test]
fn apply_and_confirm_write_the_config_file_before_they_answer() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let agent = Running::start(dir.path(), &config("one"));
        let ops = agent.ops.clone();
        agent.serves("one");
        let prev = PathBuf::from(format!("{}.prev", agent.file.display()));

        let done = ops.apply(&config("two")).unwrap();
        assert!(done.message.starts_with(&format!("config: applied {}", agent.file.display())), "{}", done.message);
        assert_eq!(served().as_deref(), Some("two"));
        assert_eq!(std::fs::read_to_string(&agent.file).unwrap(), config("two"));
        assert_eq!(std::fs::read_to_string(&prev).unwrap(), config("one"));

        ops.try_config(&config("three"), Duration::from_secs(60)).unwrap();
        assert_eq!(served().as_deref(), Some("three"));
        let done = ops.confirm().unwrap();
        assert_eq!(done.message, format!("config: try confirmed; {} now holds it", agent.file.display()));
        assert_eq!(std::fs::read_to_string(&agent.file).unwrap(), config("three"));
        assert_eq!(std::fs::read_to_string(&prev).unwrap(), config("two"));
        assert_eq!(ops.config().unwrap().trying, None);
        // The poll does not take the written file for a new one.
        let reloads = || agent.log().matches("config: reloading").count();
        let before = reloads();
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(reloads(), before, "{}", agent.log());
        assert_eq!(agent.stop(), 0);
    });
}
