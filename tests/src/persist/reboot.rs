//! Issue 7's lab line (a): a director rebooted on a state partition that
//! holds its state has its rules back before its first probe completes.
//!
//! ds boots on a disk holding only an empty `lvs-state` partition, with rs1
//! and rs2 up. Once its table shows both at their weights, the test reboots
//! it (SIGINT to PID 1: the agent stops and saves its state) and boots it
//! again on the same disk. Both real servers start down in ds.ron
//! (`initial: Down`), so a table with them at their weights before any
//! probe has passed can only come from the saved state. The evidence is the
//! second boot's log: `state: restored` at a guest uptime before
//! `health: first probe result:`; and every poll of its table reads rs1 and
//! rs2 up.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::lab::{self as plab, boot_director, boot_real_server, DirectorBoot, Images, BOOT, CONTROL_HOOK};
use super::{check_state, Plan, Rules, CLIENT, FIRST_PROBE, IGNORED, NO_STATE, RESTORED};
use crate::lab::{Lab, Vm};
use crate::watch::console::{agent, agent_lines, host_lines, is_agent_line};
use crate::watch::secs;

/// Ready to the table showing rs1 and rs2 up.
const SETTLE: Duration = Duration::from_secs(30);
/// The state file on the partition.
pub const STATE_FILE: &str = "state.ron";

#[derive(Clone, Debug)]
pub struct Outcome {
    pub problems: Vec<String>,
    pub report: String,
    pub summary: String,
}

/// The first agent line of `lines` whose text starts with `prefix`: its
/// guest uptime and the line.
pub fn first(lines: &[String], prefix: &str) -> Option<(f64, String)> {
    lines.iter().find_map(|l| agent(l).filter(|(_, text)| text.starts_with(prefix)).map(|(t, _)| (t, l.clone())))
}

/// A fresh disk holding an empty `lvs-state` partition, at `path`.
pub fn state_disk(path: &Path) -> Result<(), String> {
    lvs_image::disk::write_state_only(path).map_err(|e| format!("writing the state disk {}: {e}", path.display()))
}

/// state.ron from a state disk.
pub fn read_state(disk: &Path) -> Result<Vec<u8>, String> {
    lvs_image::disk::read_file(disk, lvs_image::disk::STATE, STATE_FILE).map_err(|e| {
        let why = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
        format!("reading {STATE_FILE} from the lvs-state partition of {}: {e}{why}", disk.display())
    })
}

/// The rules of the first boot's checks and the second boot's, pure: for the run and its tests.
pub fn judge_boots(
    first_boot: &[String],
    state: &Result<Vec<u8>, String>,
    second_boot: &[String],
    polls: &[(f64, Result<Rules, String>)],
    expected: &Rules,
    names: &BTreeMap<SocketAddr, String>,
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut facts = Vec::new();
    let has = |lines: &[String], s: &str| lines.iter().any(|l| l.contains(s));
    for (boot, lines) in [("first boot", first_boot), ("second boot", second_boot)] {
        if !has(lines, "mounted lvs-state") || !has(lines, "state in /state") {
            problems.push(format!("{boot}: PID 1 did not mount lvs-state on /state and give it to the agent (`mounted lvs-state`, `state in /state`)"));
        }
    }
    if first(first_boot, NO_STATE).is_none() {
        problems.push(format!("first boot, on an empty state partition: no `{NO_STATE}` line"));
    }
    match state {
        Ok(bytes) => match check_state(bytes) {
            Ok(h) => facts.push(format!(
                "the first boot saved {} bytes: a {}-byte header, a {}-byte body with fnv1a64 {:016x}",
                bytes.len(),
                h.header_len,
                h.body_len,
                h.hash
            )),
            Err(e) => problems.push(format!("the state file the first boot left is not sound: {e}")),
        },
        Err(e) => problems.push(format!("the first boot left no state file: {e}")),
    }
    for other in [NO_STATE, IGNORED] {
        if let Some((_, l)) = first(second_boot, other) {
            problems.push(format!("second boot: {l:?}"));
        }
    }
    match (first(second_boot, RESTORED), first(second_boot, FIRST_PROBE)) {
        (Some((r, rl)), Some((p, pl))) => {
            facts.push(format!("second boot: {rl}"));
            facts.push(format!("second boot: {pl}"));
            if r < p {
                facts.push(format!(
                    "second boot: the rules were back at T={r:.3}, {:.3} s before the first probe result at T={p:.3}",
                    p - r
                ));
            } else {
                problems.push(format!(
                    "second boot: the state was restored at T={r:.3}, not before the first probe result at T={p:.3}"
                ));
            }
        }
        (r, p) => {
            if r.is_none() {
                problems.push(format!(
                    "second boot: no `{}` line: the saved table was not programmed at start",
                    RESTORED.trim()
                ));
            }
            if p.is_none() {
                problems.push(format!("second boot: no `{}` line to compare with", FIRST_PROBE.trim()));
            }
        }
    }
    let ok: Vec<&(f64, Result<Rules, String>)> = polls.iter().filter(|(_, r)| r.is_ok()).collect();
    if ok.is_empty() {
        problems.push("second boot: no poll of the table answered".into());
    }
    for (t, r) in ok {
        if let Ok(r) = r {
            if r != expected {
                problems.push(format!(
                    "second boot: the poll sent at {t:.3} reads {}, not {}",
                    r.render(names),
                    expected.render(names)
                ));
            }
        }
    }
    (problems, facts)
}

/// Boots the lab named `test_name`: ds (twice) on one state disk, rs1, rs2.
pub fn run(plan: &Plan, images: &Images, test_name: &str, say: &(dyn Fn(&str) + Sync)) -> Result<Outcome, String> {
    let t0 = Instant::now();
    let lab = Lab::new(test_name).map_err(|e| e.to_string())?;
    let dir: PathBuf = lab.log_dir().to_path_buf();
    let disk = dir.join("ds-state.img");
    state_disk(&disk)?;
    let lan = lab.bridge(Some(CLIENT)).map_err(|e| e.to_string())?;
    let director = plan.director.address;
    let names = plan.names();
    let boot_ds = |name: &str| {
        boot_director(
            &lab,
            &images.ds,
            &DirectorBoot { name, hook: CONTROL_HOOK, nic: &lan, state_disk: Some(&disk), capture: false },
        )
    };
    let ds1 = boot_ds("ds-boot1")?;
    let rs: Vec<Vm> = plan.real_servers[..2]
        .iter()
        .zip(&images.rs)
        .map(|(m, image)| boot_real_server(&lab, &m.name, image, &lan))
        .collect::<Result<_, _>>()?;
    say("booted ds (first boot, empty state partition), rs1, rs2");

    let mut stopped = None;
    let mut polls: Vec<(f64, Result<Rules, String>)> = Vec::new();
    let mut ds2: Option<Vm> = None;
    let mut state = Err("the first boot did not get that far".to_string());
    let result = (|| -> Result<(), String> {
        for vm in std::iter::once(&ds1).chain(&rs) {
            plab::wait_ready(vm, 0, BOOT)?;
        }
        plab::wait_control(&lab, director, SETTLE)?;
        let deadline = Instant::now() + SETTLE;
        loop {
            match plab::poll(&lab, director) {
                Ok(r) if r == plan.base => break,
                Ok(r) if Instant::now() >= deadline => {
                    return Err(format!(
                        "first boot: the table reads {} after {SETTLE:?}, not {}",
                        r.render(&names),
                        plan.base.render(&names)
                    ))
                }
                Err(e) if Instant::now() >= deadline => return Err(format!("first boot: {e}")),
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        say(&format!("{:7.3}  first boot: rs1 and rs2 up; rebooting ds", secs(t0)));
        plab::reboot(&lab, director, &ds1)?;
        state = read_state(&disk);
        say(&format!("{:7.3}  ds is down; booting it again on the same disk", secs(t0)));
        let vm = ds2.insert(boot_ds("ds-boot2")?);
        plab::wait_ready(vm, 0, BOOT)?;
        // As soon as control.sh answers, and until the checks have had time
        // to pass `rise` times after the first probe result.
        let probe_wait = Instant::now() + Duration::from_secs(10);
        let mut until = None;
        loop {
            let sent = secs(t0);
            let r = plab::poll(&lab, director);
            if r.is_ok() || !polls.is_empty() {
                polls.push((sent, r));
            }
            if until.is_none() {
                let probed =
                    vm.console_lines().iter().any(|l| agent(l).is_some_and(|(_, t)| t.starts_with(FIRST_PROBE)));
                if probed || Instant::now() >= probe_wait {
                    until = Some(Instant::now() + plan.check.interval * plan.check.rise + Duration::from_millis(500));
                }
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })();
    if let Err(e) = result {
        stopped = Some(e);
    }

    let first_boot = agent_lines(&ds1);
    let second_boot = ds2.as_ref().map(agent_lines).unwrap_or_default();
    let (mut problems, facts) = if ds2.is_some() {
        judge_boots(&first_boot, &state, &second_boot, &polls, &plan.base, &names)
    } else {
        (Vec::new(), Vec::new())
    };
    if let Some(s) = stopped {
        problems.insert(0, format!("the run stopped early: {s}"));
    }
    // The second boot's lines and the polls of its table, on the run's clock.
    let mut timeline: Vec<(f64, String)> = polls
        .iter()
        .map(|(t, r)| {
            (*t, format!("poll: {}", r.as_ref().map_or_else(|e| format!("failed: {e}"), |r| r.render(&names))))
        })
        .collect();
    if let Some(vm) = &ds2 {
        timeline.extend(
            host_lines(vm, t0)
                .into_iter()
                .filter(|(_, l)| is_agent_line(l))
                .map(|(t, l)| (t, format!("ds-boot2: {l}"))),
        );
    }
    timeline.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut report = String::from("--- the second boot and the polls of its table (host seconds since the run started; polls at when they were sent) ---\n");
    for (t, l) in &timeline {
        report.push_str(&format!("{t:8.3}  {l}\n"));
    }
    for f in &facts {
        report.push_str(&format!("== {f}\n"));
    }
    let mut vms: Vec<&Vm> = vec![&ds1];
    vms.extend(ds2.iter());
    vms.extend(rs.iter());
    report.push_str(&plab::report_vms(&vms));
    report.push_str(&format!("--- logs and the state disk in {}; whole run {:.1} s ---\n", dir.display(), secs(t0)));
    let _ = std::fs::write(dir.join("report.txt"), &report);
    let summary = format!(
        "{}\n  {} polls of the second boot's table; whole run {:.1} s",
        facts.join("\n"),
        polls.len(),
        secs(t0)
    );
    Ok(Outcome { problems, report, summary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::fnv1a64;

    fn state() -> Result<Vec<u8>, String> {
        let body = "State()\n";
        Ok(format!("lvs-agent-state 1 {} {:x}\n{body}", body.len(), fnv1a64(body.as_bytes())).into_bytes())
    }

    fn boot(lines: &[&str]) -> Vec<String> {
        let mut all = vec![
            "lvs-init: T=1.500 mounted lvs-state (/dev/vda1) on /state".to_string(),
            "lvs-agent: T=1.900 config /etc/lvs/appliance.ron: director, state in /state".to_string(),
        ];
        all.extend(lines.iter().map(|l| l.to_string()));
        all
    }

    #[test]
    fn restored_before_the_first_probe_passes_and_after_does_not() {
        let p = crate::persist::plan().unwrap();
        let b1 = boot(&["lvs-agent: T=2.0 state: no saved state", "lvs-agent: T=2.5 ready"]);
        let good = boot(&[
            "lvs-agent: T=2.1 state: restored 1 service",
            "lvs-agent: T=2.2 ready",
            "lvs-agent: T=2.6 health: first probe result: 192.0.2.21:80 pass",
        ]);
        let polls = vec![(30.0, Ok(p.base.clone()))];
        let (problems, facts) = judge_boots(&b1, &state(), &good, &polls, &p.base, &p.names());
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(facts.iter().any(|f| f.contains("0.500 s before the first probe result")), "{facts:#?}");

        let late = boot(&[
            "lvs-agent: T=2.7 state: restored 1 service",
            "lvs-agent: T=2.6 health: first probe result: 192.0.2.21:80 pass",
        ]);
        let (problems, _) = judge_boots(&b1, &state(), &late, &polls, &p.base, &p.names());
        assert!(problems.iter().any(|x| x.contains("not before the first probe result")), "{problems:#?}");

        let none = boot(&["lvs-agent: T=2.0 state: no saved state", "lvs-agent: T=2.6 health: first probe result: x"]);
        let down = vec![(30.0, Ok(p.base_down.clone()))];
        let (problems, _) = judge_boots(&b1, &Err("no file".into()), &none, &down, &p.base, &p.names());
        for needle in [
            "no `state: restored` line",
            "left no state file",
            "second boot: \"lvs-agent: T=2.0 state: no saved state\"",
            "reads TCP 192.0.2.80:80 rr: rs1 0, rs2 0, not TCP 192.0.2.80:80 rr: rs1 1, rs2 1",
        ] {
            assert!(problems.iter().any(|x| x.contains(needle)), "{needle}: {problems:#?}");
        }
        let (problems, _) = judge_boots(&b1[2..], &state(), &good, &[], &p.base, &p.names());
        assert!(problems.iter().any(|x| x.contains("first boot: PID 1 did not mount")), "{problems:#?}");
        assert!(problems.iter().any(|x| x.contains("no poll of the table answered")), "{problems:#?}");
    }
}
