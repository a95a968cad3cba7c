//! The health lab run: four images, one bridge, four VMs; then the client and
//! the status poller run on their own threads for the whole run while this
//! one sends the steps' control messages and waits for each step to show in
//! the table. Everything is recorded; the judging is done afterwards on the
//! [`Timeline`].

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::timeline::{first_poll, judge, render, Action, Dests, Poll, Request, Table, Timeline, Verdict, Who, BOTH_UP, STEPS};
use super::{Plan, ALLOWANCE, CLIENT, CONTROL_PORT, STATUS_PORT};
use crate::lab::{busybox, images, Image, Lab, Vm, VmSpec};

/// Qemu start to the agent's ready line, four TCG guests on two cores.
const BOOT: Duration = Duration::from_secs(120);
/// Ready to the table showing both real servers up: every real server
/// starts down and needs `rise` passes, after its workload has bound port 80.
const SETTLE: Duration = Duration::from_secs(30);
/// One client request. A request to a stopped httpd runs into it; one to a
/// working server takes milliseconds (a hundred or so at worst under TCG),
/// so a spurious timeout would take a guest stalled for a whole second.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// The client's pause between requests, so that the timeline stays readable.
const PACE: Duration = Duration::from_millis(100);
/// How long the client runs with both up before the first stop.
const BASELINE: Duration = Duration::from_millis(1500);
/// How long the test watches each step's outcome once the table shows it.
const HOLD: Duration = Duration::from_millis(2000);
/// Beyond a step's bound, how long the test keeps watching before it gives
/// up: a late change is reported with its time, not just as missing.
const GRACE: Duration = Duration::from_secs(6);
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
        let mut p = Vec::new();
        if let Some(s) = &self.stopped {
            p.push(format!("the run stopped early: {s}"));
        }
        p.extend(self.verdict.problems.iter().cloned());
        p
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
            out.push_str(&format!("--- {}: {ready}; full console in {} ---\n", vm.name, vm.log.display()));
            for l in &vm.agent_lines {
                out.push_str(&format!("    {l}\n"));
            }
        }
        out.push_str(&format!("--- configs as booted: {}/*.ron; build {:.1} s, whole run {:.1} s ---\n", self.log_dir.display(), self.build_secs, self.total_secs));
        out
    }

    /// The measured times, for a run that passed.
    pub fn summary(&self) -> String {
        let marks: Vec<String> = self.verdict.marks.iter().map(|(_, m)| format!("  {m}")).collect();
        let r = &self.timeline.requests;
        let worst = r.iter().filter(|r| r.answer.is_ok()).map(|r| r.end - r.start).fold(0.0, f64::max);
        format!(
            "{}\n  {} requests ({} failed, all before a detection), slowest answer {:.0} ms; {} polls; build {:.1} s, whole run {:.1} s",
            marks.join("\n"),
            r.len(),
            r.iter().filter(|r| r.answer.is_err()).count(),
            worst * 1000.0,
            self.timeline.polls.len(),
            self.build_secs,
            self.total_secs
        )
    }
}

fn dests(plan: &Plan) -> Dests {
    Dests { addr: plan.dests, weights: plan.weights }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
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
        write(&config, &text)?;
        let extras = match i {
            0 => vec![(bb.clone(), "/bin/busybox".into()), images::agent_cli_link().map_err(|e| e.to_string())?, (repo.join("tests/lab/health/status.sh"), "/lab/status.sh".into())],
            1 | 2 => {
                let index = dir.join(format!("{}.www/index.html", m.name));
                write(&index, &m.body)?;
                vec![(bb.clone(), "/bin/busybox".into()), (index, "/www/index.html".into()), (repo.join("tests/lab/health/control.sh"), "/lab/control.sh".into())]
            }
            _ => Vec::new(),
        };
        builds.push((format!("health-{}", m.name), config, extras));
    }
    say("building 4 images (ds, rs1, rs2, sorry)");
    let t = Instant::now();
    let images: Vec<Image> = std::thread::scope(|scope| {
        let handles: Vec<_> = builds
            .iter()
            .map(|(name, config, extras)| scope.spawn(move || images::build(name, &config.to_string_lossy(), extras).map_err(|e| e.to_string())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect::<Result<Vec<_>, _>>()
    })?;
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
        match wait_ready(vm) {
            Ok(()) => {
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
            let agent_lines = lines.into_iter().enumerate().filter(|(i, l)| *i > ready_at || l.contains("lvs-agent: T=") || l.contains("lvs-init: T=")).map(|(_, l)| l).collect();
            VmReport { name: vm.name().to_string(), log: vm.log_path().to_path_buf(), ready: *ready, agent_lines }
        })
        .collect();
    outcome.verdict = judge(&outcome.timeline, &dests(plan), &plan.check.bounds(ALLOWANCE), &plan.labels());
    outcome.total_secs = t0.elapsed().as_secs_f64();
    // Kept beside the consoles, passed or not.
    let _ = std::fs::write(dir.join("timeline.txt"), outcome.report());
    Ok(outcome)
}

/// The agent's ready line (`lvs-agent: T=2.718 ready`).
fn is_ready(line: &str) -> bool {
    line.contains("lvs-agent: T=") && line.trim_end().ends_with(" ready")
}

fn wait_ready(vm: &Vm) -> Result<(), String> {
    let deadline = Instant::now() + BOOT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = vm.wait_for_next(" ready", left).map_err(|e| e.to_string())?;
        if is_ready(&line) {
            return Ok(());
        }
    }
}

/// A VM's console lines after its ready line, on the run's clock: the log
/// file stamps each line with qemu-relative seconds as it arrives, and the
/// VM knows when its qemu started. The harness's own `[lab]` lines are left out.
fn after_ready(vm: &Vm, t0: Instant) -> Vec<(f64, String)> {
    let offset = vm.started().saturating_duration_since(t0).as_secs_f64();
    let text = std::fs::read_to_string(vm.log_path()).unwrap_or_default();
    let stamped = text.lines().filter_map(|l| {
        let (stamp, line) = l.strip_prefix('[')?.split_once("] ")?;
        Some((stamp.trim().parse::<f64>().ok()? + offset, line.to_string()))
    });
    stamped.skip_while(|(_, l)| !is_ready(l)).skip(1).filter(|(_, l)| !l.starts_with("[lab]") && !l.starts_with("[qemu stderr]")).collect()
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

/// One request, on a new connection, from a thread in the lab's namespace;
/// who answered, or how it failed, worded for the timeline.
fn get(service: SocketAddr, bodies: &[String; 3]) -> Result<Who, String> {
    let mut stream = TcpStream::connect_timeout(&service, REQUEST_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    let request = format!("GET / HTTP/1.0\r\nHost: {service}\r\nConnection: close\r\n\r\n");
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT))).map_err(|e| format!("socket: {e}"))?;
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        return Err(match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => format!("connected, no answer in {REQUEST_TIMEOUT:?} ({} bytes)", raw.len()),
            _ => format!("receive: {e} ({} bytes)", raw.len()),
        });
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no end of headers in {:?}", text))?;
    let status = head.lines().next().unwrap_or_default();
    match bodies.iter().position(|b| b == body) {
        Some(who) if status.split_whitespace().nth(1) == Some("200") => Ok(who),
        _ => Err(format!("{status:?} with body {body:?}")),
    }
}

/// The director's table, from its status port.
fn poll(lab: &Lab, director: IpAddr) -> Result<Table, String> {
    let raw = lab.tcp_exchange(SocketAddr::new(director, STATUS_PORT), b"", EXCHANGE).map_err(|e| e.to_string())?;
    Table::parse(&String::from_utf8_lossy(&raw))
}

fn secs(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64()
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
                Err(e) if Instant::now() >= deadline => return Err(format!("{}'s control port: {e}", plan.real_servers[i].name)),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    let dests = dests(plan);
    let bounds = plan.check.bounds(ALLOWANCE);
    let labels = plan.labels();
    let bodies = plan.bodies();
    let polls: Mutex<Vec<Poll>> = Mutex::new(Vec::new());
    let requests: Mutex<Vec<Request>> = Mutex::new(Vec::new());
    let stop_polls = AtomicBool::new(false);
    let stop_client = AtomicBool::new(false);
    let client_go = AtomicBool::new(false);

    let (result, end) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop_polls.load(Ordering::Relaxed) {
                let sent = secs(t0);
                let table = poll(lab, plan.director.address);
                let failed = table.is_err();
                polls.lock().unwrap_or_else(|p| p.into_inner()).push(Poll { sent, got: secs(t0), table });
                if failed {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        scope.spawn(|| {
            while !client_go.load(Ordering::Relaxed) {
                if stop_client.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            // One thread in the lab's namespace for the whole loop.
            let looped = lab.in_netns(|| {
                while !stop_client.load(Ordering::Relaxed) {
                    let start = secs(t0);
                    let answer = get(plan.service, &bodies);
                    requests.lock().unwrap_or_else(|p| p.into_inner()).push(Request { start, end: secs(t0), answer });
                    std::thread::sleep(PACE);
                }
            });
            if let Err(e) = looped {
                requests.lock().unwrap_or_else(|p| p.into_inner()).push(Request { start: secs(t0), end: secs(t0), answer: Err(format!("the client could not enter the lab: {e}")) });
            }
        });

        // Waits for the first poll sent at or after `after` that shows `state`.
        let wait = |state, after: f64, limit: Duration| -> Option<f64> {
            let deadline = Instant::now() + limit;
            loop {
                let found = first_poll(&polls.lock().unwrap_or_else(|p| p.into_inner()), &dests, state, after).map(|p| p.got);
                if found.is_some() || Instant::now() >= deadline {
                    return found;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };

        let result = (|| -> Result<(), String> {
            let settled = wait(BOTH_UP, 0.0, SETTLE).ok_or_else(|| format!("the table did not show both real servers up and no sorry server within {SETTLE:?} of the control ports answering"))?;
            tl.baseline = Some(settled);
            say(&format!("{settled:7.3}  both up: the client starts"));
            client_go.store(true, Ordering::Relaxed);
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
                match wait(step.state(), sent, limit) {
                    Some(at) => {
                        say(&format!("{at:7.3}  the table shows it, {:.2} s after (bound {:.2} s)", at - sent, bounds.of(step)));
                        let until = t0 + Duration::from_secs_f64(at) + HOLD;
                        std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    }
                    None => return Err(format!("{}: the table did not show it within {limit:?}", step.describe())),
                }
            }
            Ok(())
        })();
        let end = secs(t0);
        stop_client.store(true, Ordering::Relaxed);
        stop_polls.store(true, Ordering::Relaxed);
        (result, end)
    });
    tl.end = end;
    tl.polls = polls.into_inner().unwrap_or_else(|p| p.into_inner());
    tl.requests = requests.into_inner().unwrap_or_else(|p| p.into_inner());
    // The threads stopped after `end`; what they recorded past it is not
    // in any window, and would only confuse the timeline.
    tl.polls.retain(|p| p.sent < tl.end);
    tl.requests.retain(|r| r.start < tl.end);
    result
}
