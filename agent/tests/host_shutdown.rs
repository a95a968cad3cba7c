//! Host test, as root, in a network namespace of its own: the real `lvs-agent
//! run` as a real server with workloads, stopped with SIGTERM as PID 1 stops
//! it at shutdown. Each workload's process group must be gone within its
//! stop_timeout (plus SIGKILL's for one that ignores SIGTERM), the agent must
//! log how each stopped, and exit 0.
//!
//! The workloads: `/bin/sleep` (ends on SIGTERM), a shell that traps SIGTERM
//! and exits 1 s later (the appliance has no shell; a test may use one), and
//! a shell whose whole group ignores SIGTERM, so that it and its `sleep`
//! children are SIGKILLed at their stop_timeout.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

mod common;
use common::agent::Agent;
use common::netns::in_netns;

const CONFIG: &str = r#"Appliance(
    role: RealServer(
        mode: DirectRouting,
        vips: ["192.0.2.80"],
        workloads: [
            Workload(name: "sleeper", command: "/bin/sleep", args: ["1000"], stop_timeout: "3s"),
            Workload(
                name: "late",
                command: "/bin/sh",
                args: ["-c", "trap '/bin/sleep 1; exit 0' TERM; echo ready; while :; do /bin/sleep 0.1; done"],
                stop_timeout: "3s",
            ),
            Workload(
                name: "stubborn",
                command: "/bin/sh",
                args: ["-c", "trap '' TERM; echo ready; while :; do /bin/sleep 0.1; done"],
                stop_timeout: "1s",
            ),
        ],
    ),
)
"#;

/// The pid (= process group) of workload `name`, from its start line.
fn group_of(agent: &Agent, name: &str) -> Pid {
    let tag = format!("workload {name} started pid=");
    let log = agent.log();
    let pid = log
        .lines()
        .find_map(|l| l.split_once(&tag).map(|(_, pid)| pid.trim().to_string()))
        .unwrap_or_else(|| panic!("no `{tag}` in the log:\n{log}"));
    Pid::from_raw(pid.parse().unwrap())
}

/// The processes of group `pgid` that still run: `(pid, state, name)` from
/// /proc. A zombie has ended; it only waits for its parent to collect it, and
/// one whose parent died waits for the machine's PID 1 (which, on a test
/// machine, may take its time), so zombies do not count.
fn live_members(pgid: Pid) -> Vec<(i32, char, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let state = fields[0].chars().next().unwrap_or('?');
        let group: i32 = fields[2].parse().unwrap();
        if group == pgid.as_raw() && state != 'Z' && state != 'X' {
            out.push((pid, state, stat[open + 1..close].to_string()));
        }
    }
    out
}

#[test]
fn sigterm_stops_every_workload_group_within_its_stop_timeout_and_the_agent_exits_0() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut agent = Agent::start(dir.path(), CONFIG);
        let limit = Duration::from_secs(10);
        agent.wait("ready", limit, |_| dir.path().join("run/ready").exists());
        // Both shells have set their traps once they print.
        agent.wait("the shells' traps", limit, |a| {
            a.log().contains("late: ready") && a.log().contains("stubborn: ready")
        });
        let groups: Vec<(&str, Pid, Duration)> = [("sleeper", 3), ("late", 3), ("stubborn", 1)]
            .into_iter()
            .map(|(name, secs)| (name, group_of(&agent, name), Duration::from_secs(secs)))
            .collect();
        for (name, pgid, _) in &groups {
            assert!(!live_members(*pgid).is_empty(), "workload {name} (group {pgid}) is not running:\n{}", agent.log());
        }
        // The stubborn shell's `sleep` children share its group: SIGKILL must reach them too.
        let since = Instant::now();
        while !live_members(groups[2].1).iter().any(|(_, _, name)| name == "sleep") {
            assert!(since.elapsed() < limit, "no sleep in the stubborn group: {:?}", live_members(groups[2].1));
            std::thread::sleep(Duration::from_millis(5));
        }

        let sent = Instant::now();
        kill(agent.pid(), Signal::SIGTERM).unwrap();

        // Each group is gone within its stop_timeout; one SIGKILLed may take a
        // moment more (the supervisor ticks every 100 ms or so).
        let mut pending = groups.clone();
        while !pending.is_empty() {
            pending.retain(|(_, pgid, _)| !live_members(*pgid).is_empty());
            for (name, pgid, timeout) in &pending {
                let allowed = *timeout + Duration::from_millis(if *name == "stubborn" { 1000 } else { 500 });
                assert!(
                    sent.elapsed() < allowed,
                    "workload {name}'s group {pgid} still has processes {:?} {:?} after SIGTERM:\n{}",
                    live_members(*pgid),
                    sent.elapsed(),
                    agent.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let all_gone = sent.elapsed();

        let status = loop {
            if let Some(status) = agent.child.try_wait().unwrap() {
                break status;
            }
            assert!(sent.elapsed() < limit, "the agent did not exit within {limit:?}:\n{}", agent.log());
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = agent.log();
        assert!(status.success(), "{status:?}\n{log}");
        assert!(log.contains("received SIGTERM: stopping"), "{log}");
        assert!(log.contains("workload sleeper stopped (killed by SIGTERM)"), "{log}");
        assert!(log.contains("workload late stopped (status 0)"), "{log}");
        assert!(log.contains("workload stubborn still running 1s after SIGTERM: SIGKILL"), "{log}");
        assert!(log.contains("workload stubborn killed with SIGKILL after 1s"), "{log}");
        // The late one really took its time: the trap ran, it was not killed.
        let late = log.lines().find(|l| l.contains("workload late stopped")).unwrap();
        let after: f64 = late.split(") ").nth(1).unwrap().split('s').next().unwrap().parse().unwrap();
        assert!((0.9..3.0).contains(&after), "{late}");
        eprintln!("all workload groups gone {all_gone:?} after SIGTERM");
    });
}
