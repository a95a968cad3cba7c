//! The session run, issue 7's lab lines (b), (d) and (c) in one lab: ds with
//! its config in the initramfs (no disk: its state lives in /run/lvs/state),
//! rs1, rs2, rs3, and the test as a client sending requests in a loop. A
//! poller reads the director's table back to back through its control port
//! while this thread swaps in ds-swap.ron, kills the agent with SIGKILL, and
//! swaps in ds-invalid.ron, each once the previous one has shown and been
//! watched for a while. Everything is recorded; [`judge`] reads it afterwards.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::judge::{judge, render, Action, Expect, Step, Timeline, Verdict};
use super::lab::{self as plab, boot_director, boot_real_server, DirectorBoot, Images, BOOT, CONTROL_HOOK};
use super::{Plan, Rules, ALLOWANCE, CLIENT, FIRST_PROBE, INVALID, INVALID_KEPT, SWAP};
use crate::lab::{Lab, Vm};
use crate::watch::console::{agent, host_lines, is_ready};
use crate::watch::{secs, Tally, Watch, BASELINE, GRACE};

/// Ready to the table showing rs1 and rs2 up: both start down and are up at
/// their first pass (`rise` passes if a probe failed before their workload listened).
const SETTLE: Duration = Duration::from_secs(30);
/// How long the test watches each step's outcome once it has shown.
const HOLD: Duration = Duration::from_millis(2500);
/// From the kill to the new agent's ready line: PID 1 waits 1 s, then the
/// agent starts, reads its state and programs (adopts) the table.
const RESTART: Duration = Duration::from_secs(20);

#[derive(Clone, Debug)]
pub struct Outcome {
    pub plan: Plan,
    pub expect: Expect,
    pub timeline: Timeline,
    pub verdict: Verdict,
    /// Why the run stopped before the last step, if it did.
    pub stopped: Option<String>,
    /// Each VM's agent lines, for the report.
    pub vms: String,
    pub log_dir: PathBuf,
    pub build_secs: f64,
    pub total_secs: f64,
}

impl Outcome {
    pub fn problems(&self) -> Vec<String> {
        self.verdict.problems_after(self.stopped.as_ref())
    }

    pub fn report(&self) -> String {
        let c = self.plan.check;
        let mut out = format!(
            "persist session: client {CLIENT} -> http://{}/ ; check every {:?}, timeout {:?}, rise {}, fall {}; bounds: swap {:.2} s, a file noticed {:.2} s (allowance {ALLOWANCE:?})\n",
            self.plan.service, c.interval, c.timeout, c.rise, c.fall, self.expect.swap_bound, self.expect.notice_bound
        );
        out.push_str(&format!(
            "the invalid file's errors, as `lvs-agent check` gives them on the host:\n{}\n",
            self.plan.invalid_diagnostics
        ));
        out.push_str("--- timeline (host seconds since the run started) ---\n");
        out.push_str(&render(&self.timeline, &self.verdict, &self.expect));
        out.push_str(&self.vms);
        match &self.timeline.agent_log {
            Some(log) => out.push_str(&format!("--- the director's /run/lvs/agent.log at the end ---\n{log}")),
            None => out.push_str("--- the director's /run/lvs/agent.log could not be read at the end ---\n"),
        }
        out.push_str(&format!(
            "--- logs in {}; images {:.1} s, whole run {:.1} s ---\n",
            self.log_dir.display(),
            self.build_secs,
            self.total_secs
        ));
        out
    }

    pub fn summary(&self) -> String {
        let t = Tally::of(&self.timeline.requests);
        format!(
            "{}\n  {} requests, {} failed, slowest answer {:.0} ms; {} polls; images {:.1} s, whole run {:.1} s",
            self.verdict.marks_text(),
            t.requests,
            t.failed,
            t.slowest_ms,
            self.timeline.polls.len(),
            self.build_secs,
            self.total_secs
        )
    }
}

pub fn expect(plan: &Plan) -> Expect {
    let port = plan.service.port();
    let dests = plan.real_servers.clone().map(|m| std::net::SocketAddr::new(m.address, port));
    let weight = |r: &Rules| r.weights(&plan.service_line).and_then(|w| w.get(&dests[0]).copied()).unwrap_or(0);
    Expect {
        base: plan.base.clone(),
        swapped: plan.swapped.clone(),
        service_line: plan.service_line.clone(),
        dests,
        rs1_weights: [weight(&plan.base), weight(&plan.swapped)],
        swap_bound: (plan.check.swap_within() + ALLOWANCE).as_secs_f64(),
        notice_bound: (super::FILE_POLL + ALLOWANCE).as_secs_f64(),
        invalid_at: plan.invalid_at.clone(),
        labels: plan.labels(),
    }
}

/// Boots the session lab named `test_name` and runs the three steps. Errors
/// are for a lab that could not be set up; what the run saw, right or wrong,
/// is in the [`Outcome`].
pub fn run(plan: &Plan, images: &Images, test_name: &str, say: &(dyn Fn(&str) + Sync)) -> Result<Outcome, String> {
    let t0 = Instant::now();
    let lab = Lab::new(test_name).map_err(|e| e.to_string())?;
    let dir = lab.log_dir().to_path_buf();
    let lan = lab.bridge(Some(CLIENT)).map_err(|e| e.to_string())?;
    let ds = boot_director(
        &lab,
        &images.ds,
        &DirectorBoot { name: "ds", hook: CONTROL_HOOK, nic: &lan, state_disk: None, capture: false },
    )?;
    let mut vms = vec![ds];
    for (m, image) in plan.real_servers.iter().zip(&images.rs) {
        vms.push(boot_real_server(&lab, &m.name, image, &lan)?);
    }
    say("booted ds, rs1, rs2, rs3 under qemu (TCG)");

    let expect = expect(plan);
    let mut outcome = Outcome {
        plan: plan.clone(),
        expect: expect.clone(),
        timeline: Timeline::default(),
        verdict: Verdict::default(),
        stopped: None,
        vms: String::new(),
        log_dir: dir,
        build_secs: images.secs,
        total_secs: 0.0,
    };
    for vm in &vms {
        match plab::wait_ready(vm, 0, BOOT) {
            Ok(_) => say(&format!("{} ready at {:.1} s", vm.name(), secs(t0))),
            Err(e) => {
                outcome.stopped = Some(e);
                break;
            }
        }
    }
    if outcome.stopped.is_none() {
        outcome.stopped = steps(&lab, plan, &vms[0], t0, &mut outcome.timeline, say).err();
    }
    outcome.timeline.agent_log = plab::control(&lab, plan.director.address, "log", b"").ok();
    let director = host_lines(&vms[0], t0);
    let first_ready = director.iter().position(|(_, l)| is_ready(l)).unwrap_or(director.len());
    outcome.timeline.director = director.into_iter().skip(first_ready).collect();
    outcome.vms = plab::report_vms(&vms.iter().collect::<Vec<&Vm>>());
    outcome.verdict = judge(&outcome.timeline, &expect);
    outcome.total_secs = secs(t0);
    let _ = std::fs::write(outcome.log_dir.join("timeline.txt"), outcome.report());
    Ok(outcome)
}

fn read(file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(crate::repo_root().join(file)).map_err(|e| format!("reading {file}: {e}"))
}

/// From every VM's ready line to the end of the last step.
fn steps(
    lab: &Lab,
    plan: &Plan,
    ds: &Vm,
    t0: Instant,
    tl: &mut Timeline,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let director = plan.director.address;
    plab::wait_control(lab, director, SETTLE)?;
    let swap_bytes = read(SWAP)?;
    let invalid_bytes = read(INVALID)?;
    let bodies = plan.bodies();
    let ex = expect(plan);
    let watch: Watch<Rules> = Watch::new(t0);
    let hold = |from: f64| watch.hold(from, HOLD);
    let mut act = |step: Step, send: &dyn Fn() -> Result<String, String>| -> Result<Action, String> {
        let sent = secs(t0);
        let reply = send()?;
        let a = Action { step, sent, got: secs(t0), reply };
        say(&format!("{sent:7.3}  {} ({})", step.describe(), a.reply.trim()));
        tl.actions.push(a.clone());
        Ok(a)
    };
    let mut baseline = None;
    let (result, end) = watch.run(
        lab,
        || plab::poll(lab, director),
        plan.service,
        &bodies,
        || -> Result<(), String> {
            let names = plan.names();
            // The first poll sent at or after `after` that reads `table`.
            let wait_table = |table: &Rules, after: f64, limit: Duration| watch.wait_poll(after, limit, |r| r == table);
            let settled = wait_table(&plan.base, 0.0, SETTLE).ok_or_else(|| {
                format!(
                    "the table did not show {} within {SETTLE:?} of the control port answering",
                    plan.base.render(&names)
                )
            })?;
            baseline = Some(settled);
            say(&format!("{settled:7.3}  rs1 and rs2 up: the client starts"));
            watch.start_client();
            std::thread::sleep(BASELINE);

            // (b) a file that adds rs3 and changes rs1's weight.
            let a = act(Step::Swap, &|| plab::swap(lab, director, &swap_bytes))?;
            let limit = Duration::from_secs_f64(ex.swap_bound) + GRACE;
            let at = wait_table(&plan.swapped, a.sent, limit).ok_or_else(|| {
                format!("swap: the table did not show {} within {limit:?}", plan.swapped.render(&names))
            })?;
            say(&format!("{at:7.3}  the table shows it, {:.2} s after (bound {:.2} s)", at - a.sent, ex.swap_bound));
            hold(at);

            // (d) kill -9: PID 1 restarts the agent, which must adopt the table.
            let from = ds.console_lines().len();
            let a = act(Step::Kill, &|| {
                let reply = plab::control(lab, director, "kill", b"")?;
                if reply.starts_with("kill pid=") {
                    Ok(reply)
                } else {
                    Err(format!("control.sh answered kill with {reply:?}"))
                }
            })?;
            let (dead, _) = plab::wait_line(
                ds,
                from,
                "`agent exited (killed by SIGKILL)`",
                |l| l.contains("agent exited (killed by SIGKILL)"),
                Duration::from_secs(10),
            )?;
            plab::wait_ready(ds, dead, RESTART)?;
            say(&format!("{:7.3}  the new agent is ready, {:.2} s after the kill", secs(t0), secs(t0) - a.sent));
            let probed = plab::wait_line(
                ds,
                dead,
                "first probe result after the restart",
                |l| agent(l).is_some_and(|(_, t)| t.starts_with(FIRST_PROBE)),
                Duration::from_secs(10),
            );
            if probed.is_err() {
                say("no `health: first probe result:` line after the restart; watching anyway");
            }
            // Long enough for the new agent's full checks and probe results.
            hold(secs(t0) + (plan.check.interval * plan.check.rise).as_secs_f64());

            // (c) an invalid file: refused, logged with its position, nothing changes.
            let from = ds.console_lines().len();
            act(Step::Invalid, &|| plab::swap(lab, director, &invalid_bytes))?;
            let limit = Duration::from_secs_f64(ex.notice_bound) + GRACE;
            let (_, line) = plab::wait_line(
                ds,
                from,
                INVALID_KEPT.trim(),
                |l| agent(l).is_some_and(|(_, t)| t.starts_with(INVALID_KEPT)),
                limit,
            )?;
            say(&format!("{:7.3}  {line}", secs(t0)));
            hold(secs(t0));
            Ok(())
        },
    );
    tl.end = end;
    tl.baseline = baseline;
    (tl.polls, tl.requests) = watch.into_records(end);
    result
}
