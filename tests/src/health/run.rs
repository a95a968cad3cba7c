//! The health lab run: four images, one bridge, four VMs; then the client and
//! the status poller run on their own threads for the whole run while this
//! one sends the steps' control messages and waits for each step to show in
//! the table. Everything is recorded; the judging is done afterwards on the
//! [`Timeline`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::timeline::{judge, render, Action, Dests, Table, Timeline, Verdict, BOTH_UP, STEPS};
use super::{Plan, ALLOWANCE, CLIENT, CONTROL_PORT, STATUS_PORT};
use crate::lab::{busybox, images, Image, Lab, Vm, VmSpec};
use crate::watch::console::{host_lines, is_agent_line, is_ready, wait_ready};
use crate::watch::{secs, vm_section, Tally, Watch, BASELINE, GRACE};

/// Qemu start to the agent's ready line, four TCG guests on two cores.
const BOOT: Duration = Duration::from_secs(120);
/// Ready to the table showing both real servers up: every real server
/// starts down and is up at its first passing probe (a fresh server needs no
/// `rise`), once its workload has bound port 80; a probe that failed before
/// that makes it need `rise` passes.
const SETTLE: Duration = Duration::from_secs(30);
/// How long the test watches each step's outcome once the table shows it.
const HOLD: Duration = Duration::from_millis(2000);
/// One status poll or control message: connect, a shell and a command in the guest.
const EXCHANGE: Duration = Duration::from_secs(5);

/// `images::build` extras: (host file, path in the image).
type Extras = Vec<(PathBuf, String)>;

#[derive(Clone, Debug)]
pub struct VmReport {
    pub name: String,
    pub log: PathBuf,
    pub ready: Option<f64>,
    /// The `lvs-init:` and `lvs-agent:` lines of its console.
    pub agent_lines: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub plan: Plan,
    pub timeline: Timeline,
    pub verdict: Verdict,
    /// Why the run stopped before the last step, if it did.
    pub stopped: Option<String>,
    pub vms: Vec<VmReport>,
    pub log_dir: PathBuf,
    pub build_secs: f64,
    pub total_secs: f64,
}

impl Outcome {
    pub fn problems(&self) -> Vec<String> {
        self.verdict.problems_after(self.stopped.as_ref())
    }

    /// The timeline, each VM's agent lines (the director's say what its
    /// checks saw, in guest time), where the logs are.
    pub fn report(&self) -> String {
        let labels = self.plan.labels();
        let dests = dests(&self.plan);
        let c = self.plan.check;
        let mut out = format!(
            "health lab: client {CLIENT} -> http://{}/ ; check every {:?}, timeout {:?}, rise {}, fall {}; bounds: down {:.2} s, up {:.2} s (allowance {:?})\n",
            self.plan.service,
            c.interval,
            c.timeout,
            c.rise,
            c.fall,
            c.bounds(ALLOWANCE).down,
            c.bounds(ALLOWANCE).up,
            ALLOWANCE
        );
        out.push_str("--- timeline (host seconds since the run started) ---\n");
        out.push_str(&render(&self.timeline, &self.verdict, &dests, &labels));
        for vm in &self.vms {
            let ready = vm.ready.map_or("never ready".to_string(), |t| format!("ready at {t:.1} s"));
            out.push_str(&vm_section(&vm.name, Some(&ready), &vm.log, &vm.agent_lines));
        }
        out.push_str(&format!(
            "--- configs as booted: {}/*.ron; build {:.1} s, whole run {:.1} s ---\n",
            self.log_dir.display(),
            self.build_secs,
            self.total_secs
        ));
        out
    }

    /// The measured times, for a run that passed.
    pub fn summary(&self) -> String {
        let t = Tally::of(&self.timeline.requests);
        format!(
            "{}\n  {} requests ({} failed, all before a detection), slowest answer {:.0} ms; {} polls; build {:.1} s, whole run {:.1} s",
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

fn dests(plan: &Plan) -> Dests {
    Dests { addr: plan.dests, weights: plan.weights }
}

/// Builds and boots the lab named `test_name` and runs the four steps.
/// Errors are for a lab that could not be set up; what the run saw, right or
/// wrong, is in the [`Outcome`].
pub fn run(plan: &Plan, test_name: &str, say: &(dyn Fn(&str) + Sync)) -> Result<Outcome, String> {
    let t0 = Instant::now();
    let lab = Lab::new(test_name).map_err(|e| e.to_string())?;
    let dir = lab.log_dir().to_path_buf();
    let repo = crate::repo_root();
    let bb = busybox().map_err(|e| e.to_string())?;

    let mut builds: Vec<(String, PathBuf, Extras)> = Vec::new();
    let machines = [&plan.director, &plan.real_servers[0], &plan.real_servers[1], &plan.sorry];
    for (i, m) in machines.iter().enumerate() {
        let config = dir.join(format!("{}.ron", m.name));
        let text = std::fs::read_to_string(repo.join(m.file)).map_err(|e| format!("reading {}: {e}", m.file))?;
        crate::write_file(&config, &text)?;
        let extras = match i {
            0 => vec![
                (bb.clone(), "/bin/busybox".into()),
                images::agent_cli_link().map_err(|e| e.to_string())?,
                (repo.join("tests/lab/health/status.sh"), "/lab/status.sh".into()),
            ],
            1 | 2 => {
                let index = dir.join(format!("{}.www/index.html", m.name));
                crate::write_file(&index, &m.body)?;
                vec![
                    (bb.clone(), "/bin/busybox".into()),
                    (index, "/www/index.html".into()),
                    (repo.join("tests/lab/health/control.sh"), "/lab/control.sh".into()),
                ]
            }
            _ => Vec::new(),
        };
        builds.push((format!("health-{}", m.name), config, extras));
    }
    say("building 4 images (ds, rs1, rs2, sorry)");
    let t = Instant::now();
    let images: Vec<Image> = images::build_all(&builds).map_err(|e| e.to_string())?;
    let build_secs = t.elapsed().as_secs_f64();

    let lan = lab.bridge(Some(CLIENT)).map_err(|e| e.to_string())?;
    let mut vms: Vec<Vm> = Vec::new();
    for (i, (m, image)) in machines.iter().zip(&images).enumerate() {
        // `nc -ll`: a shell per connection, for as long as the VM runs (the
        // hook never exits, so PID 1 never powers the VM off).
        let hook = match i {
            0 => format!(" lvs.run=/bin/busybox,nc,-ll,-p,{STATUS_PORT},-e,/bin/busybox,sh,/lab/status.sh"),
            1 | 2 => format!(" lvs.run=/bin/busybox,nc,-ll,-p,{CONTROL_PORT},-e,/bin/busybox,sh,/lab/control.sh"),
            _ => String::new(),
        };
        let append = format!("console=ttyS0 quiet panic=-1{hook}");
        let spec = VmSpec::kernel(&m.name, &image.vmlinux, Some(&image.initramfs), &append).nic(&lan);
        vms.push(lab.boot(spec).map_err(|e| e.to_string())?);
    }
    say("booting ds, rs1, rs2, sorry under qemu (TCG)");

    let mut outcome = Outcome {
        plan: plan.clone(),
        timeline: Timeline::default(),
        verdict: Verdict::default(),
        stopped: None,
        vms: Vec::new(),
        log_dir: dir.clone(),
        build_secs,
        total_secs: 0.0,
    };
    let mut ready = vec![None; vms.len()];
    for (i, vm) in vms.iter().enumerate() {
        match wait_ready(vm, BOOT) {
            Ok(_) => {
                let at = t0.elapsed().as_secs_f64();
                ready[i] = Some(at);
                say(&format!("{} ready at {at:.1} s", vm.name()));
            }
            Err(e) => {
                outcome.stopped = Some(e);
                break;
            }
        }
    }
    if outcome.stopped.is_none() {
        outcome.stopped = steps(&lab, plan, t0, &mut outcome.timeline, say).err();
    }
    if let Some(director) = vms.first() {
        outcome.timeline.director = after_ready(director, t0);
    }
    outcome.vms = vms
        .iter()
        .zip(&ready)
        .map(|(vm, ready)| {
            // The agent's lines carry its prefix; what its checks and the
            // reconciler log after ready may not, and the kernel is quiet.
            let lines = vm.console_lines();
            let ready_at = lines.iter().position(|l| is_ready(l)).unwrap_or(lines.len());
            let agent_lines = lines
                .into_iter()
                .enumerate()
                .filter(|(i, l)| *i > ready_at || is_agent_line(l))
                .map(|(_, l)| l)
                .collect();
            VmReport { name: vm.name().to_string(), log: vm.log_path().to_path_buf(), ready: *ready, agent_lines }
        })
        .collect();
    outcome.verdict = judge(&outcome.timeline, &dests(plan), &plan.check.bounds(ALLOWANCE), &plan.labels());
    outcome.total_secs = t0.elapsed().as_secs_f64();
    // Kept beside the consoles, passed or not.
    let _ = std::fs::write(dir.join("timeline.txt"), outcome.report());
    Ok(outcome)
}

/// The director's console lines after its ready line, on the run's clock.
fn after_ready(vm: &Vm, t0: Instant) -> Vec<(f64, String)> {
    host_lines(vm, t0).into_iter().skip_while(|(_, l)| !is_ready(l)).skip(1).collect()
}

/// One control message to a real server; control.sh's reply line.
fn control(lab: &Lab, rs: IpAddr, verb: &str) -> Result<String, String> {
    let addr = SocketAddr::new(rs, CONTROL_PORT);
    let raw = lab.tcp_exchange(addr, format!("{verb}\n").as_bytes(), EXCHANGE).map_err(|e| e.to_string())?;
    let reply = String::from_utf8_lossy(&raw).trim().to_string();
    if reply.starts_with(&format!("{verb} pid=")) {
        Ok(reply)
    } else {
        Err(format!("{addr} answered {verb:?} with {reply:?}"))
    }
}

/// The director's table, from its status port.
fn poll(lab: &Lab, director: IpAddr) -> Result<Table, String> {
    let raw = lab.tcp_exchange(SocketAddr::new(director, STATUS_PORT), b"", EXCHANGE).map_err(|e| e.to_string())?;
    Table::parse(&String::from_utf8_lossy(&raw))
}

/// From the VMs' ready lines to the last step: control ports answer, the
/// table settles with both up, then the client and the poller run while
/// the steps are sent one after the other, each once the previous one has
/// shown in the table and been watched for [`HOLD`].
fn steps(lab: &Lab, plan: &Plan, t0: Instant, tl: &mut Timeline, say: &(dyn Fn(&str) + Sync)) -> Result<(), String> {
    let rs = [plan.real_servers[0].address, plan.real_servers[1].address];
    crate::lab::ensure_lab_address(plan.service.ip()).map_err(|e| e.to_string())?;
    // nc starts only once the agent is ready, and the workload a moment
    // after that: retry until control.sh finds httpd running.
    let deadline = Instant::now() + SETTLE;
    for (i, ip) in rs.iter().enumerate() {
        loop {
            match control(lab, *ip, "state") {
                Ok(reply) => {
                    say(&format!("{}: {reply}", plan.real_servers[i].name));
                    break;
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("{}'s control port: {e}", plan.real_servers[i].name))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    let dests = dests(plan);
    let bounds = plan.check.bounds(ALLOWANCE);
    let labels = plan.labels();
    let bodies = plan.bodies();
    let watch = Watch::new(t0);
    let (result, end) = watch.run(lab, || poll(lab, plan.director.address), plan.service, &bodies, || -> Result<(), String> {
        let settled = watch.wait_poll(0.0, SETTLE, |t| dests.holds(BOTH_UP, t)).ok_or_else(|| format!("the table did not show both real servers up and no sorry server within {SETTLE:?} of the control ports answering"))?;
        tl.baseline = Some(settled);
        say(&format!("{settled:7.3}  both up: the client starts"));
        watch.start_client();
        std::thread::sleep(BASELINE);
        for step in STEPS {
            let sent = secs(t0);
            let mut replies = Vec::new();
            for (who, verb) in step.messages() {
                replies.push(format!("{}: {}", labels[*who], control(lab, rs[*who], verb)?));
            }
            let got = secs(t0);
            say(&format!("{sent:7.3}  {} ({})", step.describe(), replies.join("; ")));
            tl.actions.push(Action { step, sent, got, replies });
            let limit = Duration::from_secs_f64(bounds.of(step)) + GRACE;
            match watch.wait_poll(sent, limit, |t| dests.holds(step.state(), t)) {
                Some(at) => {
                    say(&format!("{at:7.3}  the table shows it, {:.2} s after (bound {:.2} s)", at - sent, bounds.of(step)));
                    watch.hold(at, HOLD);
                }
                None => return Err(format!("{}: the table did not show it within {limit:?}", step.describe())),
            }
        }
        Ok(())
    });
    tl.end = end;
    (tl.polls, tl.requests) = watch.into_records(end);
    result
}
