//! One scenario in the lab: its three images, its bridges, its VMs, the
//! client's requests, and the director's IPVS table at the end.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::expect::{judge, render_sequence};
use super::mapping::Derived;
use super::{Expect, Http, Plan, Topology};
use crate::lab::{busybox, images, Image, Lab, Network, Vm, VmSpec};
use crate::watch::console::{agent_lines, wait_ready};
use crate::watch::vm_section;

/// Qemu start to the agent's ready line, with up to six TCG guests sharing
/// two cores (about 5 s is usual).
const BOOT: Duration = Duration::from_secs(120);
/// Until both real servers have answered once: covers a workload that
/// starts listening after its agent said ready.
const WARM_UP: Duration = Duration::from_secs(45);
/// One counted request: connect, send, read to the end.
const EACH: Duration = Duration::from_secs(10);

/// The director's busybox nc runs `tests/lab/roles/status.sh` for one
/// connection to this port (PID 1's test hook starts it once the agent is
/// ready), then exits, and PID 1 powers the director off.
pub const STATUS_PORT: u16 = 9999;
/// With `wait_poweroff`, a real server's test hook listens here (busybox nc)
/// and ends when the test connects, so that PID 1 powers the VM off.
pub const STOP_PORT: u16 = 9998;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Counted requests (default: the scenario's).
    pub requests: Option<usize>,
    /// After the status, wait for the director's clean power-off, then stop
    /// the real servers the same way (when this process can reach them).
    pub wait_poweroff: bool,
    /// Boot a fourth VM as the client (HTTP GETs through busybox nc, `tests/lab/roles/client.sh`)
    /// instead of asking from this process; this process then only reads the
    /// director's status, from an address of its own on the front bridge.
    pub client_vm: bool,
}

/// What one VM showed, kept after its qemu is gone.
#[derive(Clone, Debug)]
pub struct VmReport {
    pub name: String,
    pub log: PathBuf,
    /// Host seconds from qemu's start to the agent's ready line, and the
    /// guest's uptime on that line.
    pub ready: Option<(f64, f64)>,
    /// The `lvs-init:` and `lvs-agent:` lines of its console.
    pub agent_lines: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub plan: Plan,
    pub requests: usize,
    /// Answers before counting began (until each real server had answered once,
    /// or the first one for stickiness).
    pub warm_up: Vec<usize>,
    /// The counted answers, in order.
    pub answers: Vec<usize>,
    /// The second client's answers (stickiness only).
    pub second: Vec<usize>,
    /// Why the client stopped early, if it did.
    pub client_error: Option<String>,
    /// `lvs-agent status` and `status --stats` on the director, or why not.
    pub status: Result<String, String>,
    pub vms: Vec<VmReport>,
    pub log_dir: PathBuf,
    pub build_secs: f64,
    pub total_secs: f64,
}

impl Outcome {
    /// Everything the answers got wrong; empty when the scenario passed.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(e) = &self.client_error {
            p.push(format!("the client stopped: {e}"));
        }
        // Persistence holds from the first answer on, warm-up included.
        let first: Vec<usize> = match self.plan.scenario.expect {
            Expect::Sticky { .. } => self.warm_up.iter().chain(&self.answers).copied().collect(),
            _ => self.answers.clone(),
        };
        p.extend(judge(&self.plan.scenario.expect, &self.plan.labels, &first, &self.second, self.requests));
        p
    }

    /// The whole story, for a failure message or the demo: answers in
    /// order, the director's table, each VM's agent lines, where the logs are.
    pub fn report(&self) -> String {
        let s = self.plan.scenario;
        let labels = &self.plan.labels;
        let mut out = format!(
            "scenario {} (seed {}): {}\nclient {} -> http://{}/ ; {} {:?}, {} {:?}\n",
            s.name,
            s.seed,
            s.summary,
            self.plan.client,
            self.plan.service,
            labels[0],
            self.plan.bodies[0],
            labels[1],
            self.plan.bodies[1]
        );
        out.push_str(&format!("warm-up answers (not counted):\n{}", render_sequence(labels, &self.warm_up)));
        out.push_str(&format!(
            "counted answers, in order ({} of {}):\n{}",
            self.answers.len(),
            self.requests,
            render_sequence(labels, &self.answers)
        ));
        if let Some(second) = &self.plan.second_client {
            out.push_str(&format!("second client {second}:\n{}", render_sequence(labels, &self.second)));
        }
        if let Some(e) = &self.client_error {
            out.push_str(&format!("client error: {e}\n"));
        }
        match &self.status {
            Ok(text) => out.push_str(&format!(
                "--- director {}: lvs-agent status; lvs-agent status --stats ---\n{text}",
                self.plan.director.hostname()
            )),
            Err(e) => out.push_str(&format!("--- director status: not available: {e}\n")),
        }
        for vm in &self.vms {
            let ready = vm.ready.map_or("never ready".to_string(), |(host, guest)| {
                format!("ready {host:.1} s after qemu started (guest T={guest:.3})")
            });
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
}

/// Builds, boots and drives one scenario in a lab named `test_name` (its
/// logs go to `<target>/lab-logs/<test_name>/`). `say` gets progress lines.
/// Errors are for a lab that could not be set up or VMs that never became
/// ready; what the client saw, right or wrong, is in the [`Outcome`].
pub fn run(plan: &Plan, test_name: &str, opts: &RunOptions, say: &(dyn Fn(&str) + Sync)) -> Result<Outcome, String> {
    let started = Instant::now();
    let s = plan.scenario;
    let requests = opts.requests.unwrap_or(s.requests);
    let lab = Lab::new(test_name).map_err(|e| e.to_string())?;
    let dir = lab.log_dir().to_path_buf();

    let machines: [(&Derived, bool); 3] =
        [(&plan.director, true), (&plan.real_servers[0], false), (&plan.real_servers[1], false)];
    // Real servers behind a NAT director sit on a network this process has no address on.
    let stop_real_servers = opts.wait_poweroff && s.topology == Topology::OneLan;
    let mut builds = Vec::new();
    for (i, (derived, is_director)) in machines.iter().enumerate() {
        let name = derived.hostname().to_string();
        let config = dir.join(format!("{name}.ron"));
        crate::write_file(&config, &derived.text)?;
        let mut extras: Vec<(PathBuf, String)> = Vec::new();
        if *is_director {
            extras.push((busybox().map_err(|e| e.to_string())?, "/bin/busybox".into()));
            extras.push(images::agent_cli_link().map_err(|e| e.to_string())?);
            extras.push((crate::repo_root().join("tests/lab/roles/status.sh"), "/lab/status.sh".into()));
        } else if s.http == Http::BusyboxIndex || stop_real_servers {
            extras.push((busybox().map_err(|e| e.to_string())?, "/bin/busybox".into()));
        }
        if !*is_director && s.http == Http::BusyboxIndex {
            let index = dir.join(format!("{name}.www/index.html"));
            crate::write_file(&index, &plan.bodies[i - 1])?;
            extras.push((index, "/www/index.html".into()));
        }
        builds.push((format!("roles-{}-{name}", s.name), config, extras));
    }
    if opts.client_vm {
        let config = dir.join("client.ron");
        crate::write_file(&config, &client_config(&plan.client))?;
        let extras = vec![
            (busybox().map_err(|e| e.to_string())?, "/bin/busybox".into()),
            (crate::repo_root().join("tests/lab/roles/client.sh"), "/lab/client.sh".into()),
        ];
        builds.push((format!("roles-{}-client", s.name), config, extras));
    }
    let names: Vec<String> =
        builds.iter().map(|(name, _, _)| name.rsplit('-').next().unwrap_or(name).to_string()).collect();
    say(&format!("building {} images ({})", builds.len(), names.join(", ")));
    let t = Instant::now();
    let images: Vec<Image> = images::build_all(&builds).map_err(|e| e.to_string())?;
    let build_secs = t.elapsed().as_secs_f64();

    // With a client VM, the client's address is the VM's; this process keeps
    // one of its own on the bridge to read the director's status.
    let watcher = if opts.client_vm { watcher_address(plan)? } else { plan.client.clone() };
    let front = lab.bridge(Some(&watcher)).map_err(|e| e.to_string())?;
    let back = match s.topology {
        Topology::Nat => Some(lab.bridge(None).map_err(|e| e.to_string())?),
        Topology::OneLan => None,
    };
    if let (Some(second), Network::Bridge { bridge }) = (&plan.second_client, &front) {
        lab.run("ip", &["addr", "add", second, "dev", bridge]).map_err(|e| e.to_string())?;
    }
    let hook = format!("lvs.run=/bin/busybox,nc,-l,-p,{STATUS_PORT},-e,/bin/busybox,sh,/lab/status.sh");
    let mut vms: Vec<(Vm, Instant)> = Vec::new();
    for (i, ((derived, is_director), image)) in machines.iter().zip(&images).enumerate() {
        let append = match (is_director, stop_real_servers) {
            (true, _) => format!("console=ttyS0 quiet panic=-1 {hook}"),
            (false, true) => format!(
                "console=ttyS0 quiet panic=-1 {} lvs.run=/bin/busybox,nc,-l,-p,{STOP_PORT}",
                s.real_server_cmdline
            ),
            (false, false) => format!("console=ttyS0 quiet panic=-1 {}", s.real_server_cmdline),
        };
        let mut spec = VmSpec::kernel(derived.hostname(), &image.vmlinux, Some(&image.initramfs), &append);
        spec = match (i, &back) {
            (0, Some(back)) => spec.nic(&front).nic(back),
            (_, Some(back)) => spec.nic(back),
            (_, None) => spec.nic(&front),
        };
        vms.push((lab.boot(spec).map_err(|e| e.to_string())?, Instant::now()));
    }
    if let Some(image) = images.get(machines.len()) {
        let append =
            format!("console=ttyS0 quiet panic=-1 lvs.run=/bin/busybox,sh,/lab/client.sh,{},{requests}", plan.service);
        let spec = VmSpec::kernel("client", &image.vmlinux, Some(&image.initramfs), &append).nic(&front);
        vms.push((lab.boot(spec).map_err(|e| e.to_string())?, Instant::now()));
    }
    say(&format!("booting {} under qemu (TCG), {} MiB each", names.join(", "), 256));

    let mut ready: Vec<Option<(f64, f64)>> = vec![None; vms.len()];
    for (i, (vm, booted)) in vms.iter().enumerate() {
        match wait_ready(vm, BOOT) {
            Ok(guest) => {
                let host = booted.elapsed().as_secs_f64();
                ready[i] = Some((host, guest));
                say(&format!("{} ready {host:.1} s after qemu started (guest T={guest:.3})", vm.name()));
            }
            Err(e) => {
                let reports = reports(&vms, &ready);
                let mut message = format!("scenario {}: {e}\n", s.name);
                for r in reports {
                    message.push_str(&format!(
                        "--- {} ({}) ---\n{}\n",
                        r.name,
                        r.log.display(),
                        r.agent_lines.join("\n")
                    ));
                }
                return Err(message);
            }
        }
    }

    let mut outcome = Outcome {
        plan: plan.clone(),
        requests,
        warm_up: Vec::new(),
        answers: Vec::new(),
        second: Vec::new(),
        client_error: None,
        status: Err("not asked".into()),
        vms: Vec::new(),
        log_dir: dir.clone(),
        build_secs,
        total_secs: 0.0,
    };
    let client_ip = address_of(&plan.client);
    say(&format!("client {client_ip} -> http://{}/ : {requests} requests, one TCP connection each", plan.service));
    let sticky = matches!(s.expect, Expect::Sticky { .. });
    if let Some((client, _)) = vms.get(machines.len()) {
        outcome.client_error = client_vm_answers(client, plan, requests, &mut outcome, say).err();
    } else {
        let warmed = warm_up(&lab, plan, None, !sticky, &mut outcome.warm_up, say);
        outcome.client_error = warmed.err();
        if outcome.client_error.is_none() {
            outcome.client_error = counted(&lab, plan, None, requests, &mut outcome.answers, say).err();
        }
    }
    if let (None, Some(second)) = (&outcome.client_error, &plan.second_client) {
        let source = address_of(second);
        say(&format!("second client {source}"));
        // Its warm-up answers count: persistence holds from the first one on.
        let result = warm_up(&lab, plan, Some(source), false, &mut outcome.second, say)
            .and_then(|()| counted(&lab, plan, Some(source), requests, &mut outcome.second, say));
        outcome.client_error = result.err().map(|e| format!("second client: {e}"));
    }

    outcome.status = director_status(&lab, plan.director_address);
    if opts.wait_poweroff && outcome.status.is_ok() {
        let director = &vms[0].0;
        match director.wait_exit(Duration::from_secs(30)) {
            Ok(how) => say(&format!("{} powered off ({how})", director.name())),
            Err(e) => say(&format!("{} did not power off: {e}", director.name())),
        }
        if stop_real_servers {
            for ((vm, _), rs) in vms[1..3].iter().zip(&plan.real_servers) {
                let Some(addr) = rs.own_address() else { continue };
                // The hook's nc ends when this connection closes; PID 1 then powers off.
                let asked = lab.tcp_exchange(SocketAddr::new(addr, STOP_PORT), b"", Duration::from_secs(5));
                match asked
                    .map_err(|e| e.to_string())
                    .and_then(|_| vm.wait_exit(Duration::from_secs(30)).map_err(|e| e.to_string()))
                {
                    Ok(how) => say(&format!("{} powered off ({how})", vm.name())),
                    Err(e) => say(&format!("{} did not power off: {e}", vm.name())),
                }
            }
        }
    }
    outcome.vms = reports(&vms, &ready);
    outcome.total_secs = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// The client VM's config: an appliance that balances nothing (a director
/// with no services), there only to hold the client's address; busybox nc
/// in `client.sh` does the asking.
fn client_config(client: &str) -> String {
    format!(
        "// The demo's client VM (tests/src/roles/run.rs): an appliance that balances\n\
         // nothing, only holding the client's address; busybox nc asks the VIP.\n\
         Appliance(\n    hostname: \"client\",\n    interfaces: [Interface(name: \"eth0\", addresses: [{client:?}])],\n    role: Director(services: []),\n)\n"
    )
}

/// An address for this process on the client's network when a VM is the
/// client: `.254` of the client's IPv4 network, which no scenario uses.
fn watcher_address(plan: &Plan) -> Result<String, String> {
    let (ip, prefix) = plan.client.split_once('/').ok_or_else(|| format!("client {:?} has no prefix", plan.client))?;
    let IpAddr::V4(v4) = address_of(&plan.client) else {
        return Err(format!("client {ip}: a client VM needs an IPv4 client address"));
    };
    let [a, b, c, _] = v4.octets();
    let watcher = IpAddr::from([a, b, c, 254]);
    let taken = [plan.director_address, plan.service.ip(), address_of(&plan.client)];
    let rs = plan.real_servers.iter().filter_map(|r| r.own_address());
    if taken.into_iter().chain(rs).any(|t| t == watcher) {
        return Err(format!("{watcher} is taken in scenario {}: pick another watcher address", plan.scenario.name));
    }
    Ok(format!("{watcher}/{prefix}"))
}

/// Follows the client VM's console until `client.sh` says it is done: its
/// warm-up and counted answers, by real server, as they arrive.
fn client_vm_answers(
    client: &Vm,
    plan: &Plan,
    requests: usize,
    outcome: &mut Outcome,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    const MARK: &str = "demo-client: ";
    let deadline = Instant::now() + WARM_UP + EACH * requests as u32 + Duration::from_secs(30);
    let mut read = 0;
    loop {
        let running = client.is_running();
        let lines = client.console_lines();
        // While qemu runs, the last line may still be arriving.
        let complete = if running { lines.len().saturating_sub(1) } else { lines.len() };
        for line in lines.iter().take(complete).skip(read) {
            read += 1;
            let Some(said) = line.find(MARK).map(|at| &line[at + MARK.len()..]) else { continue };
            if said == "done" {
                return if outcome.answers.len() == requests {
                    Ok(())
                } else {
                    Err(format!("the client VM gave {} answers of {requests}", outcome.answers.len()))
                };
            }
            let (what, body) = said.split_once(' ').unwrap_or((said, ""));
            let Some(i) = plan.bodies.iter().position(|b| b.trim_end() == body) else {
                return Err(format!(
                    "the client VM says {said:?}: neither {}'s {:?} nor {}'s {:?}",
                    plan.labels[0], plan.bodies[0], plan.labels[1], plan.bodies[1]
                ));
            };
            if what == "warm-up" {
                say(&format!("  client VM, warm-up: {} answers", plan.labels[i]));
                outcome.warm_up.push(i);
            } else {
                say(&format!("  client VM: {what:>3}  {}", plan.labels[i]));
                outcome.answers.push(i);
            }
        }
        if !running {
            return Err(format!(
                "the client VM stopped before it was done ({}); its console:\n{}",
                client.exit_status().unwrap_or_default(),
                client.tail()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!("the client VM was not done by the deadline; its console:\n{}", client.tail()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn address_of(cidr: &str) -> IpAddr {
    cidr.split('/').next().and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("plan() checked {cidr:?}"))
}

fn reports(vms: &[(Vm, Instant)], ready: &[Option<(f64, f64)>]) -> Vec<VmReport> {
    vms.iter()
        .zip(ready)
        .map(|((vm, _), ready)| VmReport {
            name: vm.name().to_string(),
            log: vm.log_path().to_path_buf(),
            ready: *ready,
            agent_lines: agent_lines(vm),
        })
        .collect()
}

/// A request that did not get through, apart from a wrong answer.
enum Miss {
    /// No connection or no response: the service may not be there yet.
    Transport(String),
    /// A response, but not one of the two real servers' pages.
    Wrong(String),
}

fn ask(lab: &Lab, plan: &Plan, source: Option<IpAddr>, timeout: Duration) -> Result<usize, Miss> {
    let reply = match source {
        None => lab.http_get(plan.service, "/", timeout),
        Some(source) => lab.http_get_from(source, plan.service, "/", timeout),
    }
    .map_err(|e| Miss::Transport(e.to_string()))?;
    let body = reply.body_text();
    if reply.status != 200 {
        return Err(Miss::Wrong(format!("status {} (body {body:?})", reply.status)));
    }
    plan.bodies.iter().position(|b| *b == body).ok_or_else(|| {
        Miss::Wrong(format!(
            "body {body:?} is neither {}'s {:?} nor {}'s {:?}",
            plan.labels[0], plan.bodies[0], plan.labels[1], plan.bodies[1]
        ))
    })
}

/// Requests until the first answer, and with `both` until each real server
/// has answered once. Connection failures are retried (the last one is
/// reported if time runs out); a wrong answer ends it at once.
fn warm_up(
    lab: &Lab,
    plan: &Plan,
    source: Option<IpAddr>,
    both: bool,
    into: &mut Vec<usize>,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let deadline = Instant::now() + WARM_UP;
    let mut last = String::from("no attempt");
    let mut attempts = 0;
    loop {
        let done = !into.is_empty() && (!both || (into.contains(&0) && into.contains(&1)));
        if done {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "warm-up: after {attempts} attempts in {WARM_UP:?}, answers {:?}; last failure: {last}",
                into.iter().map(|&i| &plan.labels[i]).collect::<Vec<_>>()
            ));
        }
        attempts += 1;
        match ask(lab, plan, source, Duration::from_secs(2)) {
            Ok(i) => {
                // Until the director's first health checks pass, one real
                // server answers everything: say each server once, and pace
                // the asking rather than pile up connections.
                if !into.contains(&i) {
                    say(&format!("  warm-up: {} answers", plan.labels[i]));
                }
                into.push(i);
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(Miss::Wrong(m)) => return Err(format!("warm-up: {m}")),
            Err(Miss::Transport(m)) => {
                last = m;
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// `n` sequential requests that must all be answered.
fn counted(
    lab: &Lab,
    plan: &Plan,
    source: Option<IpAddr>,
    n: usize,
    into: &mut Vec<usize>,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    for k in 1..=n {
        match ask(lab, plan, source, EACH) {
            Ok(i) => {
                say(&format!("  {k:>3}  {}", plan.labels[i]));
                into.push(i);
            }
            Err(Miss::Wrong(m) | Miss::Transport(m)) => return Err(format!("counted request {k} of {n}: {m}")),
        }
    }
    Ok(())
}

/// Connects to the director's status port and reads what status.sh prints.
fn director_status(lab: &Lab, director: IpAddr) -> Result<String, String> {
    let addr = SocketAddr::new(director, STATUS_PORT);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match lab.tcp_exchange(addr, b"", Duration::from_secs(15)) {
            Ok(raw) if !raw.is_empty() => return Ok(String::from_utf8_lossy(&raw).into_owned()),
            Ok(_) => return Err(format!("{addr} closed without a word")),
            Err(e) if Instant::now() >= deadline => return Err(e.to_string()),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}
