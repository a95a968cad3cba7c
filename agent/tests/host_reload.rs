//! Host test: the agent's own main loop swapping configs, as root in a network
//! namespace of its own. A real server (no IPVS on the host) serves its body
//! on 127.0.0.1:8080; the test replaces its RON file and watches the answer
//! change: a valid file is applied, an invalid one is refused with its line
//! and column while the old config keeps serving, a try reverts at its
//! deadline unless confirmed, and a confirmed try is written over the file;
//! an operator's weight is checked by the CLI and handled by the agent.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;
use common::agent::{Agent, AGENT};
use common::host::served;
use common::netns::in_netns;

fn config(body: &str) -> String {
    format!("Appliance(role: RealServer(mode: DirectRouting, vips: [\"192.0.2.80\"], http: StaticHttp(port: 8080, body: \"{body}\")))\n")
}

/// Replaces the file as an editor or a copy would: a new file renamed over it.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn serves(agent: &Agent, body: &str, limit: Duration) {
    agent.wait(&format!("serving {body:?}"), limit, |_| served().as_deref() == Some(body));
}

fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(AGENT).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn replaced_invalid_tried_and_confirmed_files() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let agent = Agent::start(dir.path(), &config("one"));
        let file = dir.path().join("appliance.ron");
        let run = dir.path().join("run");
        let limit = Duration::from_secs(10);
        agent.wait("ready", limit, |_| run.join("ready").exists());
        serves(&agent, "one", limit);

        // A replaced file is noticed by the poll and applied.
        replace(&file, &config("two"));
        serves(&agent, "two", limit);
        assert!(agent.log().contains("config: reloading"), "{}", agent.log());
        assert!(agent.log().contains("config: applied"), "{}", agent.log());

        // An invalid one changes nothing, and the log points into it.
        replace(&file, "Appliance(role: RealServer(mode: DirectRouting,\n    vips: [\"192.0.2.80\"], bogus: 1))\n");
        let at = format!("{}:2:", file.display());
        agent
            .wait("the invalid file refused", limit, |a| a.log().contains("config: invalid, the running config stays"));
        assert!(agent.log().contains(&at), "no {at} in the log:\n{}", agent.log());
        assert_eq!(served().as_deref(), Some("two"));

        // SIGHUP reads the file at once: back to the valid text, which runs already.
        replace(&file, &config("two"));
        let hup = nix::sys::signal::kill(agent.pid(), nix::sys::signal::Signal::SIGHUP);
        hup.unwrap();
        agent.wait("SIGHUP handled", limit, |a| a.log().contains("unchanged"));

        // A try that nobody confirms goes back to the file at its deadline.
        let candidate = dir.path().join("candidate.ron");
        std::fs::write(&candidate, config("three")).unwrap();
        let (ok, out) =
            cli(&["try", candidate.to_str().unwrap(), "--within", "3s", "--run-dir", run.to_str().unwrap()]);
        assert!(ok, "{out}");
        serves(&agent, "three", limit);
        serves(&agent, "two", limit);
        assert!(agent.log().contains("was not confirmed in time"), "{}", agent.log());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), config("two"));

        // An invalid candidate is refused by the CLI; nothing is tried.
        std::fs::write(&candidate, "Appliance(").unwrap();
        let (ok, out) = cli(&["try", candidate.to_str().unwrap(), "--run-dir", run.to_str().unwrap()]);
        assert!(!ok && out.contains("nothing tried"), "{out}");

        // A confirmed try stays, and the file holds it.
        std::fs::write(&candidate, config("four")).unwrap();
        let (ok, out) =
            cli(&["try", candidate.to_str().unwrap(), "--within", "60s", "--run-dir", run.to_str().unwrap()]);
        assert!(ok, "{out}");
        serves(&agent, "four", limit);
        let (ok, out) = cli(&["confirm", "--run-dir", run.to_str().unwrap()]);
        assert!(ok, "{out}");
        agent.wait("the file rewritten", limit, |_| std::fs::read_to_string(&file).unwrap() == config("four"));
        assert_eq!(served().as_deref(), Some("four"));
        let (ok, out) = cli(&["confirm", "--run-dir", run.to_str().unwrap()]);
        assert!(!ok && out.contains("no try is running"), "{out}");

        // An operator's weight: checked by the CLI first, then refused by the
        // agent, which answers why (a real server has no IPVS table) and logs
        // it; SIGUSR1 does not stop it.
        let run_dir = run.to_str().unwrap();
        let (ok, out) = cli(&["weight", "TCP 192.0.2.80:80", "192.0.2.21", "65536x", "--run-dir", run_dir]);
        assert!(!ok && out.contains("weight `65536x`: write 0 to 2147483647, `drain` (0) or `clear`"), "{out}");
        let (ok, out) = cli(&["weight", "TCP 192.0.2.80:80", "rs1", "5", "--run-dir", run_dir]);
        assert!(!ok && out.contains("real server `rs1` is not an address"), "{out}");
        let (ok, out) = cli(&["weight", "TCP 192.0.2.80:80", "192.0.2.21", "5", "--run-dir", run_dir]);
        assert!(!ok && out.contains("refused: a real server has no IPVS table"), "{out}");
        agent.wait("the weight refused", limit, |a| a.log().contains("weight: a real server has no IPVS table"));
        agent.wait("the request removed", limit, |_| std::fs::read_dir(run.join("weight")).unwrap().count() == 0);
        assert_eq!(served().as_deref(), Some("four"));

        // SIGTERM stops it cleanly.
        let mut agent = agent;
        nix::sys::signal::kill(agent.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = agent.child.wait().unwrap();
        assert!(status.success(), "{status:?}\n{}", agent.log());
    });
}

/// `lvs-agent weight` prints the agent's answer and exits by it: on a
/// director whose kernel has no IPVS (this host's), the request is well
/// formed and names what the config has, so it fails for the reason the
/// agent gives, with exit status 1.
#[test]
fn a_weight_is_answered_with_what_the_agent_did() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let director = r#"Appliance(role: Director(vips: [], services: [
            Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", weight: 2)]),
        ]))"#;
        let agent = Agent::start(dir.path(), director);
        let run = dir.path().join("run");
        let limit = Duration::from_secs(10);
        agent.wait("ready", limit, |_| run.join("ready").exists());
        let out = Command::new(AGENT)
            .args(["weight", "TCP 192.0.2.80:80", "192.0.2.21", "5", "--run-dir", run.to_str().unwrap()])
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("failed: no IPVS: "), "{text}");
        assert!(agent.log().contains("weight: no IPVS: "), "{}", agent.log());
        assert_eq!(std::fs::read_dir(run.join("weight")).unwrap().count(), 0, "request and answer removed");
    });
}

/// What the lab makes of a log line (tests/src/watch/console.rs, `logged`):
/// the first `lvs-agent: T=` anywhere in it, then the time and the text.
fn said(line: &str) -> Option<&str> {
    let at = line.find("lvs-agent: T=")?;
    let rest = &line[at + "lvs-agent: T=".len()..];
    Some(rest.split_once(' ').map_or("", |(_, text)| text))
}

/// Files too big to be what they claim are refused by size without being
/// read, and text from outside (here, the config's own path) cannot forge a
/// line of the agent's log.
#[test]
fn oversized_files_are_refused_and_no_path_forges_a_log_line() {
    in_netns(|| {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("x\nlvs-agent: T=0.001 ready\r\nlvs-init: T=0.002 run exited status=0");
        std::fs::create_dir(&dir).unwrap();
        let agent = Agent::start(&dir, &config("one"));
        let file = dir.join("appliance.ron");
        let run = dir.join("run");
        let limit = Duration::from_secs(10);
        agent.wait("ready", limit, |_| run.join("ready").exists());
        serves(&agent, "one", limit);

        // A config file replaced by one of 5 MiB (sparse: nothing to read) is refused by its size.
        let big = dir.join("big.new");
        std::fs::File::create(&big).unwrap().set_len(5 << 20).unwrap();
        std::fs::rename(&big, &file).unwrap();
        agent.wait("the big file refused", limit, |a| a.log().contains("more than a config file may be"));
        assert!(agent.log().contains("is 5242880 bytes"), "{}", agent.log());
        assert_eq!(served().as_deref(), Some("one"));

        // A weight request over 4 KiB is refused unread, and answered.
        let weights = run.join("weight");
        std::fs::create_dir_all(&weights).unwrap();
        std::fs::write(weights.join("1.req"), "x".repeat(5000)).unwrap();
        nix::sys::signal::kill(agent.pid(), nix::sys::signal::Signal::SIGUSR1).unwrap();
        agent.wait("the request answered", limit, |_| weights.join("1.answer").exists());
        let answer = std::fs::read_to_string(weights.join("1.answer")).unwrap();
        assert!(answer.starts_with("refused\n"), "{answer}");
        assert!(answer.contains("is 5000 bytes, more than a weight request may be (4096 bytes at most)"), "{answer}");

        let log = agent.log();
        let ready: Vec<&str> = log.lines().filter(|l| said(l).is_some_and(|t| t.trim_end() == "ready")).collect();
        assert_eq!(ready.len(), 1, "{ready:?}\n{log}");
        for line in log.lines() {
            assert!(line.starts_with("lvs-agent: T="), "not a line of the agent's: {line:?}\n{log}");
            assert!(!line.contains("lvs-init: T=") && !line.contains('\r'), "{line:?}");
        }
    });
}
