//! Host test: the management API end to end, as issue 14 asks: the real
//! `lvs-agent run` serving `management: Management(...)` in a network
//! namespace the test makes (as root), its certificates made by the real
//! `lvs-agent pki`, driven by the real CLI with `--endpoint` from the same
//! namespace: reading (config, status, logs), changing (apply, try,
//! confirm), what a real server outside the appliance's init refuses
//! (weight, reboot, power off), and the attacks of host_manage (bad
//! certificates, a 2 MiB body, 200 slow clients) against the agent itself,
//! its descriptors and memory read from /proc/<agent pid>.

use rustls::AlertDescription;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

mod common;
use common::agent::AGENT;
use common::netns::in_netns;

#[path = "host_manage_agent/appliance.rs"]
mod appliance;
use appliance::{config, connect, exchange, expect, lvs_agent, served, text, Appliance, ENDPOINT, LIMIT};

#[path = "host_manage_agent/attacks.rs"]
mod attacks;
#[path = "common/slowloris.rs"]
mod slowloris;

#[test]
fn config_status_and_logs_answer_from_the_running_agent() {
    in_netns(|| {
        let a = Appliance::start();
        let running = config(&a.pki, "one");

        // The running text, exactly, and where it is from.
        let (stdout, stderr) = a.cli(0, &["config"]);
        assert_eq!(stdout, running);
        let hash = lvs_agent::state::format::fnv1a64(running.as_bytes());
        assert!(stderr.contains(&format!("{ENDPOINT}: {} (hash {hash:016x})", a.file.display())), "{stderr}");

        // A real server's kernel has no IPVS table: the agent says so, as the local status fails there.
        let (stdout, stderr) = a.cli(1, &["status"]);
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!("{ENDPOINT} answered 500 (failed):\ncannot read the kernel's IPVS table: ")),
            "{stderr}"
        );
        assert!(stderr.contains("a real server has none (ip_vs is not loaded there): ask its director"), "{stderr}");

        // The last 5 entries of the agent's log, the status request's line last.
        let (stdout, _) = a.cli(0, &["logs", "-n", "5"]);
        let log = a.agent.log();
        let entries: Vec<&str> = stdout.lines().filter(|l| l.starts_with("lvs-agent: T=")).collect();
        assert_eq!(entries.len(), 5, "{stdout}");
        for line in stdout.lines() {
            assert!(log.lines().any(|l| l == line), "{line:?} is not in the agent's log:\n{log}");
        }
        let last = entries[4];
        assert!(last.contains("management: admin 127.0.0.1:") && last.ends_with(" GET /v1/status -> 500"), "{stdout}");

        // Following: a line logged after it started (a reload) comes through.
        let mut follower = Command::new(AGENT)
            .args(["logs", "-f", "--endpoint", ENDPOINT])
            .args(["--identity", a.pki.join("admin.pem").to_str().unwrap()])
            .args(["--ca", a.pki.join("ca.pem").to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = channel();
        let out = follower.stdout.take().unwrap();
        std::thread::spawn(move || BufReader::new(out).lines().map_while(Result::ok).try_for_each(|l| tx.send(l)));
        let mut seen = Vec::new();
        wait_for(&rx, &mut seen, "GET /v1/logs?follow=1&lines=100 -> 200");
        assert!(!seen.iter().any(|l| l.contains("config: reloading")), "{seen:?}");
        std::fs::write(&a.file, config(&a.pki, "followed")).unwrap();
        wait_for(&rx, &mut seen, &format!("config: reloading {} (the file changed)", a.file.display()));
        wait_for(&rx, &mut seen, "config: applied");
        a.serves("followed");
        follower.kill().unwrap();
        follower.wait().unwrap();
    });
}

#[test]
fn apply_try_and_confirm_write_the_file_and_keep_the_one_before() {
    in_netns(|| {
        let a = Appliance::start();
        let (one, two, three) = (config(&a.pki, "one"), config(&a.pki, "two"), config(&a.pki, "three"));
        assert!(!a.file.with_extension("ron.prev").exists());

        // Applied: served, written, the one before kept.
        let new = a.write("new.ron", &two);
        let (stdout, _) = a.cli(0, &["apply", new.to_str().unwrap()]);
        assert_eq!(stdout, format!("config: applied {}\n", a.file.display()));
        assert_eq!(served().as_deref(), Some("two"));
        assert_eq!((a.config_text(), a.prev_text()), (two.clone(), one.clone()));

        // Invalid: refused at its line and column; nothing changes.
        let bad = a.write(
            "bad.ron",
            "Appliance(\n    role: RealServer(mode: DirectRouting, vips: [\"192.0.2.80\"], bogus: 1),\n)\n",
        );
        let (stdout, stderr) = a.cli(2, &["apply", bad.to_str().unwrap()]);
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!(
                "{ENDPOINT} answered 422 (refused):\ncandidate.ron:2:65: error: Unexpected field named `bogus`"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("nothing applied: the running config stays"), "{stderr}");
        assert_eq!((a.config_text(), a.prev_text()), (two.clone(), one.clone()));
        assert_eq!(served().as_deref(), Some("two"));

        // A try nobody confirms goes back at its deadline; the file never changes.
        let new2 = a.write("new2.ron", &three);
        let (stdout, _) = a.cli(0, &["try", new2.to_str().unwrap(), "--within", "3s"]);
        assert!(stdout.starts_with("trying the candidate for 3s; run `lvs-agent confirm` before then"), "{stdout}");
        assert_eq!(served().as_deref(), Some("three"));
        let (stdout, stderr) = a.cli(0, &["config"]);
        assert_eq!(stdout, three);
        assert!(stderr.contains("this is a config being tried, until "), "{stderr}");
        a.serves("two");
        assert!(a.agent.log().contains("was not confirmed in time"), "{}", a.agent.log());
        assert_eq!((a.config_text(), a.prev_text()), (two.clone(), one.clone()));

        // A try confirmed is written, the one before kept; an apply meanwhile waits for it.
        a.cli(0, &["try", new2.to_str().unwrap(), "--within", "60s"]);
        assert_eq!(served().as_deref(), Some("three"));
        let (_, stderr) = a.cli(2, &["apply", new.to_str().unwrap()]);
        assert!(stderr.contains("answered 409 (conflict):\na try is running"), "{stderr}");
        a.cli(0, &["confirm"]);
        assert_eq!((a.config_text(), a.prev_text()), (three.clone(), two.clone()));
        assert_eq!(served().as_deref(), Some("three"));
        let (_, stderr) = a.cli(2, &["confirm"]);
        assert!(stderr.contains("answered 409 (conflict):\nno try is running"), "{stderr}");
    });
}

#[test]
fn weight_reboot_and_poweroff_are_refused_and_the_agent_runs_on() {
    in_netns(|| {
        let mut a = Appliance::start();
        let (stdout, stderr) = a.cli(2, &["weight", "TCP 192.0.2.80:80", "192.0.2.21", "5"]);
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!("{ENDPOINT} answered 422 (refused):\na real server has no IPVS table")),
            "{stderr}"
        );
        assert!(stderr.contains("no weight changed"), "{stderr}");

        // Not under the appliance's init: neither is done, and nothing is signalled.
        for command in ["reboot", "poweroff"] {
            let (stdout, stderr) = a.cli(2, &[command]);
            assert_eq!(stdout, "", "{command}");
            assert!(
                stderr.contains(&format!(
                    "{ENDPOINT} answered 422 (refused):\nthis agent does not run as the appliance's init's child, \
                     so it neither reboots nor powers off its machine"
                )),
                "{command}: {stderr}"
            );
        }
        // Longer than the power thread's grace (run/remote/power.rs), had one started.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(a.agent.child.try_wait().unwrap().is_none(), "the agent stopped:\n{}", a.agent.log());
        let (stdout, _) = a.cli(0, &["config"]);
        assert_eq!(stdout, config(&a.pki, "one"));
        assert_eq!(served().as_deref(), Some("one"));
    });
}

/// Takes the follower's lines into `seen` until one holds `what`.
fn wait_for(lines: &Receiver<String>, seen: &mut Vec<String>, what: &str) {
    let start = Instant::now();
    while !seen.iter().any(|l| l.contains(what)) {
        let left = LIMIT.checked_sub(start.elapsed()).unwrap_or_default();
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("`logs -f` did not show {what:?} ({e}); it showed:\n{}", seen.join("\n")),
        }
    }
}

/// A raw client showing `identity` (None: no certificate) asks for the
/// config: the alert it is refused with, and the address it came from.
fn refused_alert(a: &Appliance, identity: Option<&Path>) -> (AlertDescription, SocketAddr) {
    let (mut client, from) = connect(&a.tls(identity));
    match exchange(&mut client, b"GET /v1/config HTTP/1.1\r\nHost: rs1\r\n\r\n") {
        Ok(raw) => panic!("answered: {}", text(&raw)),
        Err((e, raw)) => {
            assert!(raw.is_empty(), "HTTP before the refusal: {}", text(&raw));
            match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::AlertReceived(alert)) => (*alert, from),
                _ => panic!("not a TLS alert: {e:?}"),
            }
        }
    }
}

/// The agent's log gets a line for the refusal of the client at `from`, saying `why`.
fn logged_refusal(a: &Appliance, from: SocketAddr, why: &str) {
    let line = format!("management: {from}: TLS handshake failed: ");
    a.agent.wait(&format!("{line}...{why}"), LIMIT, |agent| {
        agent.log().lines().any(|l| l.contains(&line) && l.contains(why))
    });
}

#[test]
fn handshakes_without_a_good_certificate_are_refused_and_logged() {
    in_netns(|| {
        let a = Appliance::start();
        let running = config(&a.pki, "one");
        let ca = a.pki.join("ca.pem");
        // Refused by the agent, the CLI says what to check.
        let refused = |identity: &Path, alert: &str| {
            let (_, stderr) = expect(&a.cli_with(identity, &ca, &["config"]), 1);
            let expected = format!(
                "{ENDPOINT}: certificate refused (TLS alert: {alert}): is --identity {} signed by the appliance's CA, \
                 not expired, not revoked?",
                identity.display()
            );
            assert!(stderr.contains(&expected), "{stderr}");
        };

        // No certificate at all; the CLI does not even send one without its key.
        let (alert, from) = refused_alert(&a, None);
        assert_eq!(alert, AlertDescription::CertificateRequired);
        logged_refusal(&a, from, "peer sent no certificates");
        let admin = std::fs::read_to_string(a.pki.join("admin.pem")).unwrap();
        let cert_only = &admin[..admin.find("-----END CERTIFICATE-----\n").unwrap() + 26];
        let cert_only = a.write("cert-only.pem", cert_only);
        let (_, stderr) = expect(&a.cli_with(&cert_only, &ca, &["config"]), 1);
        assert!(stderr.contains(&format!("--identity {}: it holds no private key", cert_only.display())), "{stderr}");

        // Another CA's operator.
        let other = a.dir.path().join("other");
        lvs_agent(&["pki", "init", other.to_str().unwrap(), "--name", "rs9", "--address", "127.0.0.1"]);
        let stranger = other.join("admin.pem");
        refused(&stranger, "unknown CA");
        let (alert, from) = refused_alert(&a, Some(&stranger));
        assert_eq!(alert, AlertDescription::UnknownCA);
        logged_refusal(&a, from, "UnknownIssuer");

        // Expired: the CLI says so before sending it; the agent refuses it too.
        let expired = a.write("expired.pem", &attacks::expired_identity(&a.pki, "late"));
        let (_, stderr) = expect(&a.cli_with(&expired, &ca, &["config"]), 1);
        assert!(stderr.contains("its certificate expired on"), "{stderr}");
        assert!(stderr.contains("ask for a new one (`lvs-agent pki client`)"), "{stderr}");
        let (alert, from) = refused_alert(&a, Some(&expired));
        assert_eq!(alert, AlertDescription::CertificateExpired);
        logged_refusal(&a, from, "expired");

        // Revoked before the agent started (crl.pem is read at start).
        let eve = a.pki.join("eve.pem");
        refused(&eve, "certificate revoked");
        let (alert, from) = refused_alert(&a, Some(&eve));
        assert_eq!(alert, AlertDescription::CertificateRevoked);
        logged_refusal(&a, from, "Revoked");
        let handshakes = a.agent.log().lines().filter(|l| l.contains(": TLS handshake failed: ")).count();
        assert_eq!(handshakes, 6, "2 of the CLI (stranger, eve) and 4 raw:\n{}", a.agent.log());

        // Good operators are served, and logged by name.
        let (stdout, _) = a.cli(0, &["config"]);
        assert_eq!(stdout, running);
        let (stdout, _) = expect(&a.cli_as("bob", &["config"]), 0);
        assert_eq!(stdout, running);
        let log = a.agent.log();
        for name in ["admin", "bob"] {
            let logged = |l: &&str| {
                l.contains(&format!("management: {name} 127.0.0.1:")) && l.ends_with(" GET /v1/config -> 200")
            };
            assert_eq!(log.lines().filter(logged).count(), 1, "{name}:\n{log}");
        }
        assert!(!log.contains("management: eve ") && !log.contains("management: late "), "{log}");
    });
}

#[test]
fn a_body_of_2_mib_is_refused_at_once_and_the_cli_is_served_next() {
    in_netns(|| {
        let a = Appliance::start();
        let (mut client, from) = connect(&a.tls(Some(&a.pki.join("admin.pem"))));
        let mut request =
            format!("POST /v1/config/apply HTTP/1.1\r\nHost: rs1\r\nContent-Length: {}\r\n\r\n", 2 << 20).into_bytes();
        // The head and the start of the body: the agent answers without waiting for the rest.
        request.extend_from_slice(&[b' '; 16 * 1024]);
        let start = Instant::now();
        let raw = exchange(&mut client, &request).unwrap_or_else(|(e, raw)| panic!("{e} after {}", text(&raw)));
        let answer = text(&raw);
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
        assert!(answer.contains("larger than 1048576 bytes"), "{answer}");
        assert!(start.elapsed() < Duration::from_secs(2), "the 413 took {:?}", start.elapsed());
        a.agent.wait("the 413 logged", LIMIT, |agent| {
            agent.log().contains(&format!("management: admin {from} POST /v1/config/apply -> 413"))
        });

        let (stdout, _) = a.cli(0, &["config"]);
        assert_eq!(stdout, config(&a.pki, "one"));
        assert_eq!(a.config_text(), config(&a.pki, "one"));
        assert_eq!(served().as_deref(), Some("one"));
    });
}

#[test]
fn two_hundred_slow_clients_leave_the_cli_served_and_the_agent_within_bounds() {
    in_netns(|| attacks::two_hundred_slow_clients(Appliance::start()));
}

/// A listen address the machine does not have yet (an interface that comes
/// up late, an address added by hand): the agent says so once, runs on, and
/// serves the API as soon as the address is there.
#[test]
fn a_listen_address_that_comes_later_is_served_once_it_is_there() {
    in_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        let p = pki.to_str().unwrap();
        lvs_agent(&["pki", "init", p, "--name", "rs1", "--address", "192.0.2.77"]);
        let later = "192.0.2.77:9443";
        let text = config(&pki, "one").replace(appliance::ENDPOINT, later);
        let agent = common::agent::Agent::start(dir.path(), &text);
        agent.wait("the missing address said", LIMIT, |a| {
            a.log().contains(&format!("management: cannot listen on {later}: "))
                && a.log().contains("tries again every 5 s until the address is there")
        });
        common::host::ip("addr add 192.0.2.77/32 dev lo");
        let retry = Duration::from_secs(5) + LIMIT;
        agent.wait("the API served on the address added", retry, |a| {
            a.log().contains(&format!("management: serving on {later}"))
        });
        let out = Command::new(AGENT)
            .args([
                "config",
                "--endpoint",
                later,
                "--identity",
                &format!("{p}/admin.pem"),
                "--ca",
                &format!("{p}/ca.pem"),
            ])
            .env_remove("LVS_ENDPOINT")
            .output()
            .unwrap();
        let (stdout, _) = expect(&out, 0);
        assert_eq!(stdout, text);
        // Said once, not once per retry.
        assert_eq!(agent.log().matches(&format!("management: cannot listen on {later}")).count(), 1, "{}", agent.log());
    });
}
