//! Issue 14's lab test: a director booted from its disk image under OVMF
//! with the management API on (a pki made by `lvs-agent pki init` on the
//! host, put on the image by `lvs-image build --pki`), operated from the host
//! with the CLI while a client sends requests: status, a drain, a try that
//! lapses, an apply and a confirmed try that survive a reboot through the
//! API, an invalid config refused with its line:col. docs/LAB.md has the
//! section; the files are tests/lab/manage/, the support lvs_tests::manage.
//!
//! Needs root, `make tools`, and the API, CLI flags, `pki` command
//! and `lvs-image build --pki`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lvs_tests::lab::{free_port, images, Image, Lab, UserNet, Vm, VmSpec};
use lvs_tests::manage::cli::{operator, Cli};
use lvs_tests::manage::judge::{judge, Marks};
use lvs_tests::manage::{self, Plan, Weights, TRY_WITHIN};
use lvs_tests::watch::console::{agent_lines, wait_ready};
use lvs_tests::watch::{secs, Watch, BASELINE};

/// Qemu start to the agent's ready line: OVMF and three guests on two cores.
const BOOT: Duration = Duration::from_secs(240);
/// A change made through the API, shown in the table: the request, the
/// agent, a probe's rise (2 × 1 s) for a server that comes back, TCG.
const SHOW: Duration = Duration::from_secs(15);
/// How long each step's outcome is watched before the next.
const HOLD: Duration = Duration::from_secs(3);
/// The try's revert must show within this after its deadline.
const REVERT_SLACK: Duration = Duration::from_secs(8);

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    panic!("{what}: {e}")
}

/// The director's image (with the pki) and the two real servers', built at once.
fn build_images(plan_pki: &Path) -> (Image, [Image; 2]) {
    std::thread::scope(|s| {
        let ds = s.spawn(|| images::build_with_pki("manage-ds1", manage::DIRECTOR, &[], plan_pki));
        let rs: Vec<_> = manage::REAL_SERVERS
            .iter()
            .enumerate()
            .map(|(i, f)| s.spawn(move || images::build(&format!("manage-rs{}", i + 1), f, &[])))
            .collect();
        let ds = ds.join().expect("build thread").unwrap_or_else(|e| fail("building the director's image", e));
        let rs: Vec<Image> = rs
            .into_iter()
            .map(|h| h.join().expect("build thread").unwrap_or_else(|e| fail("building a real server's image", e)))
            .collect();
        (ds, rs.try_into().unwrap_or_else(|_| unreachable!()))
    })
}

/// Waits for a VM's next ready line; a VM that does not boot fails the test
/// with its console tail (wait_ready's error quotes it).
fn ready(vm: &Vm) {
    wait_ready(vm, BOOT).unwrap_or_else(|e| fail(&format!("{} did not become ready", vm.name()), e));
}

/// Everything a step needs.
struct Run<'a> {
    plan: &'a Plan,
    cli: &'a Cli,
    watch: &'a Watch<Weights>,
    ds: &'a Vm,
    t0: Instant,
    /// The forwarded port on the namespace's 127.0.0.1 (make run's way in).
    forwarded: SocketAddr,
    actions: std::sync::Mutex<Vec<(f64, String)>>,
}

impl Run<'_> {
    fn now(&self) -> f64 {
        secs(self.t0)
    }

    /// Runs the CLI through the bridge endpoint and records it.
    fn cli(&self, args: &[&str]) -> lvs_tests::manage::cli::Outcome {
        let at = self.now();
        let out = self.cli.run(self.plan.endpoint, args);
        self.actions.lock().unwrap().push((at, out.describe()));
        out
    }

    /// The CLI must exit 0; its stdout.
    fn ok(&self, args: &[&str]) -> Result<String, String> {
        self.cli(args).ok()
    }

    /// Waits for the first poll sent at or after `after` that reads `want`.
    fn shown(&self, what: &str, after: f64, limit: Duration, want: impl Fn(&Weights) -> bool) -> Result<f64, String> {
        self.watch
            .wait_poll(after, limit, want)
            .ok_or_else(|| format!("{what}: no poll sent after {after:.3} showed it within {limit:?}"))
    }

    fn weights(&self, w: &[(usize, u32)]) -> Weights {
        w.iter()
            .map(|(i, w)| (SocketAddr::new(self.plan.real_servers[*i].address, self.plan.service.port()), *w))
            .collect()
    }

    /// `lvs-agent config --endpoint` prints the running config: `file`'s text.
    fn running_config_is(&self, file: &'static str) -> Result<(), String> {
        let text = self.ok(&["config"])?;
        let want = &self.plan.texts[file];
        (text.trim_end() == want.trim_end())
            .then_some(())
            .ok_or_else(|| format!("`config` prints\n{text}\nnot {file}:\n{want}"))
    }

    fn file(&self, file: &str) -> String {
        lvs_tests::repo_root().join(file).display().to_string()
    }
}

/// The steps, in order; the first that cannot go on ends the run with why.
fn steps(r: &Run, m: &mut Marks) -> Result<(), String> {
    let plan = r.plan;
    let rs1 = plan.real_servers[0].address.to_string();
    let initial = r.weights(&[(0, 2), (1, 1)]);

    // status shows the table: the service, both real servers routed at their weights.
    let from = r.now();
    let up = r.shown("both real servers up", 0.0, BOOT, |w| *w == initial)?;
    let listing = r.ok(&["status"])?;
    let rules = lvs_tests::persist::Rules::parse(&listing)?;
    let dests = rules
        .services
        .iter()
        .find(|(s, _)| *s == plan.service_line)
        .map(|(_, d)| d.clone())
        .ok_or_else(|| format!("`status` lists no {}:\n{listing}", plan.service_line))?;
    if dests.len() != 2 || dests.iter().any(|d| d.forward != "Route") {
        return Err(format!("`status` should list rs1 and rs2, routed:\n{listing}"));
    }
    // make run's way in: the same table through the forwarded port.
    let forwarded = r.cli.run(r.forwarded, &["status"]);
    let via = lvs_tests::persist::Rules::parse(&forwarded.clone().ok()?)?;
    if via.weights(&plan.service_line) != Some(initial.clone()) {
        return Err(format!("through {} (user-mode NIC): {}", r.forwarded, forwarded.describe()));
    }
    r.running_config_is(manage::DIRECTOR)?;
    eprintln!("manage: both up at {up:.3} (waited from {from:.3})");

    // The client runs; then rs1 is drained: only rs2 answers, none fails.
    r.watch.start_client();
    m.client_from = r.now();
    r.watch.hold(m.client_from, BASELINE);
    m.drain_sent = r.now();
    let said = r.ok(&["weight", &plan.service_key, &rs1, "drain"])?;
    if !said.contains("connections") {
        return Err(format!("`weight .. drain` should say how many connections rs1 still has: {said:?}"));
    }
    let drained = r.weights(&[(0, 0), (1, 1)]);
    m.drain_shown = r.shown("rs1 drained", m.drain_sent, SHOW, |w| *w == drained)?;
    r.watch.hold(m.drain_shown, HOLD);
    m.clear_sent = r.now();
    r.ok(&["weight", &plan.service_key, &rs1, "clear"])?;
    m.clear_shown = r.shown("rs1 back", m.clear_sent, SHOW, |w| *w == initial)?;
    r.watch.hold(m.clear_shown, HOLD);

    // A try adding rs3, left to lapse.
    m.try_sent = r.now();
    r.ok(&["try", &r.file(manage::RS3), "--within", "20s"])?;
    let rs3 = plan.rs3;
    m.rs3_shown = r.shown("rs3 tried", m.try_sent, SHOW, |w| w.contains_key(&rs3))?;
    let limit = TRY_WITHIN + REVERT_SLACK;
    m.reverted = r.shown("the try reverted", m.rs3_shown, limit, |w| *w == initial)?;
    r.running_config_is(manage::DIRECTOR)?;

    // apply (written to the config partition), then a try confirmed.
    m.apply_sent = r.now();
    r.ok(&["apply", &r.file(manage::APPLY)])?;
    let applied = r.weights(&[(0, 3), (1, 1)]);
    r.shown("the applied weight", m.apply_sent, SHOW, |w| *w == applied)?;
    let t = r.now();
    r.ok(&["try", &r.file(manage::CONFIRM), "--within", &format!("{}s", manage::CONFIRM_WITHIN.as_secs())])?;
    let confirmed = r.weights(&[(0, 3), (1, 2)]);
    r.shown("the tried weight", t, SHOW, |w| *w == confirmed)?;
    r.ok(&["confirm"])?;
    r.running_config_is(manage::CONFIRM)?;

    // Reboot through the API: a second boot in the same qemu, the changes kept.
    let mark = r.ds.lines_so_far();
    m.reboot_sent = r.now();
    r.ok(&["reboot"])?;
    // PID 1's shutdown lines come first; its `started` is the second boot's.
    let started = |l: &str| l.contains("lvs-init: T=") && l.trim_end().ends_with(" started");
    lvs_tests::persist::lab::wait_line(r.ds, mark, "the second boot's started line", started, BOOT)?;
    r.ds.wait_for_from("mounted lvs-config", mark, BOOT).map_err(|e| e.to_string())?;
    lvs_tests::persist::lab::wait_ready(r.ds, mark, BOOT)?;
    // From the second boot's ready on: a poll sent before the guest went
    // down would still read the confirmed table.
    let booted = r.now();
    m.back = r.shown("the confirmed weights after the reboot", booted, SHOW, |w| *w == confirmed)?;
    r.running_config_is(manage::CONFIRM)?;
    let via = r.cli.status(r.forwarded)?;
    if via.weights(&plan.service_line) != Some(confirmed.clone()) {
        return Err(format!("after the reboot, through {}: {via:?}", r.forwarded));
    }
    r.watch.hold(m.back, HOLD);

    // An invalid config: refused with its line:col, exit 2, nothing changes.
    m.invalid_sent = r.now();
    let refused = r.cli(&["apply", &r.file(manage::INVALID)]);
    if refused.code != Some(2) || !refused.stderr.contains(&format!(":{}", plan.invalid_at)) {
        return Err(format!(
            "the invalid config should be refused with {} and exit 2: {}",
            plan.invalid_at,
            refused.describe()
        ));
    }
    r.running_config_is(manage::CONFIRM)?;
    r.watch.hold(r.now(), HOLD);
    Ok(())
}

#[test]
fn a_director_is_operated_from_the_host_through_its_management_api() {
    let plan = manage::plan().unwrap_or_else(|e| fail("the lab's files", e));
    let lab = Lab::new("manage_api").unwrap_or_else(|e| fail("the lab", e));
    let pki = lab.log_dir().join("pki");
    images::pki_init(&pki, manage::SERVER_NAME, &manage::certificate_addresses(&plan))
        .unwrap_or_else(|e| fail("lvs-agent pki init", e));
    let (ds_image, rs_images) = build_images(&pki);
    // Its own copy: the config partition takes the writes, across the reboot.
    let disk: PathBuf = lab.log_dir().join("ds1-disk.img");
    std::fs::copy(&ds_image.disk, &disk).unwrap_or_else(|e| fail("copying the disk image", e));

    let lan = lab.bridge(Some(manage::CLIENT)).unwrap_or_else(|e| fail("the bridge", e));
    let port = lab
        .in_netns(|| free_port(manage::MANAGE_PORT))
        .and_then(|p| p)
        .unwrap_or_else(|e| fail("a port to forward", e));
    let user = UserNet::new(manage::USER_NET)
        .and_then(|n| n.forward(port, plan.user_endpoint))
        .unwrap_or_else(|e| fail("the user-mode network", e));
    let ds = lab
        .boot(VmSpec::disk("ds1", &disk).nic(&lan).user_nic(user).allow_reboot().max_runtime(Duration::from_secs(900)))
        .unwrap_or_else(|e| fail("booting ds1", e));
    let real_servers: Vec<Vm> = rs_images
        .iter()
        .zip(&plan.real_servers)
        .map(|(image, m)| {
            let spec = VmSpec::kernel(&m.name, &image.vmlinux, Some(&image.initramfs), "console=ttyS0 quiet panic=-1")
                .nic(&lan)
                .max_runtime(Duration::from_secs(900));
            lab.boot(spec).unwrap_or_else(|e| fail(&format!("booting {}", m.name), e))
        })
        .collect();
    for vm in std::iter::once(&ds).chain(&real_servers) {
        ready(vm);
    }

    let agent = images::agent_binary().unwrap_or_else(|e| fail("the CLI", e));
    let cli = operator(&pki, agent, lab.netns());
    let t0 = Instant::now();
    let watch: Watch<Weights> = Watch::new(t0);
    let bodies: Vec<String> = plan.real_servers.iter().map(|m| m.body.clone()).collect();
    let run = Run {
        plan: &plan,
        cli: &cli,
        watch: &watch,
        ds: &ds,
        t0,
        forwarded: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port),
        actions: Default::default(),
    };
    let poll = || {
        let rules = cli.status(plan.endpoint)?;
        manage::weights_in(&rules, &plan.service_line).ok_or_else(|| format!("no {} in {rules:?}", plan.service_line))
    };
    let mut marks = Marks::default();
    let (outcome, end) = watch.run(&lab, poll, plan.service, &bodies, || steps(&run, &mut marks));
    marks.end = end;
    let actions = run.actions.into_inner().unwrap();
    let (polls, requests) = watch.into_records(end);

    let mut problems = Vec::new();
    match outcome {
        Err(e) => problems.push(format!("the run stopped: {e}")),
        Ok(()) => {
            let confirmed: Weights = plan.weights[manage::CONFIRM].clone();
            let rs3 = plan.rs3;
            problems.extend(judge(
                &requests,
                &polls,
                &marks,
                TRY_WITHIN.as_secs_f64(),
                |w| w.contains_key(&rs3),
                &confirmed,
            ));
            // What the partition holds, read from the disk once qemu is gone.
            ds.kill().unwrap_or_else(|e| fail("stopping ds1", e));
            for (file, want) in [("appliance.ron", manage::CONFIRM), ("appliance.ron.prev", manage::APPLY)] {
                match lvs_image::disk::read_file(&disk, lvs_image::disk::CONFIG, file) {
                    Ok(bytes) if bytes == plan.texts[want].as_bytes() => {}
                    Ok(bytes) => problems.push(format!(
                        "the config partition's {file} is not {want}:\n{}",
                        String::from_utf8_lossy(&bytes)
                    )),
                    Err(e) => problems.push(format!("reading {file} from the config partition: {e}")),
                }
            }
        }
    }

    let mut report = format!("marks: {marks:?}\n\nactions:\n");
    for (t, a) in &actions {
        report.push_str(&format!("[{t:8.3}] {a}\n"));
    }
    report.push_str("\npolls:\n");
    let mut last = None;
    for p in &polls {
        if last != Some(&p.table) {
            report.push_str(&format!("[{:8.3}] {:?}\n", p.sent, p.table));
            last = Some(&p.table);
        }
    }
    report.push_str(&format!("\nrequests ({}):\n", requests.len()));
    for q in requests.iter().filter(|q| q.answer.is_err()) {
        report.push_str(&format!("[{:8.3}] {:?}\n", q.start, q.answer));
    }
    for vm in std::iter::once(&ds).chain(&real_servers) {
        report.push_str(&format!("\n{} ({}):\n{}\n", vm.name(), vm.log_path().display(), agent_lines(vm).join("\n")));
    }
    let _ = std::fs::write(lab.log_dir().join("report.txt"), &report);
    assert!(problems.is_empty(), "{}\n\n{report}", problems.join("\n"));
}
