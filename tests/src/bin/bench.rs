//! `make bench`: one VM boot programs the same IPVS table (1,000 services with 10
//! real servers each, unless BENCH_SERVICES / BENCH_DESTS say otherwise) three
//! ways: `lvs-agent apply`, `ipvsadm -R` fed by `lvs-agent export ipvsadm`, and
//! one ipvsadm process per rule as the seeds do. Prints the times, the ratios,
//! and the time of a no-op re-apply. BENCH_PER_RULE=0 leaves out the per-rule
//! run (about 9 minutes of the 10). Not a test: it never fails on speed, only
//! when a run did not program the whole table.

use lvs_config::{self as config, from_table};
use lvs_ipvs::{Dest, Forward, Protocol, Scheduler, Service, ServiceKey, Table, VirtualService};
use lvs_tests::lab::images::agent_cli_link;
use lvs_tests::lab::{busybox, images, ipvsadm_extras, Lab, VmSpec};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Services on 198.51.100.0/24 (250 ports per address), real servers on 203.0.113.0/24.
fn table(services: usize, dests: usize) -> Table {
    let schedulers = [Scheduler::Wrr, Scheduler::Rr, Scheduler::Wlc, Scheduler::Sh];
    let services = (0..services)
        .map(|i| {
            let vip = Ipv4Addr::new(198, 51, 100, 1 + (i / 250) as u8);
            let port = 10_000 + (i % 250) as u16;
            let key = ServiceKey::Inet { protocol: Protocol::Tcp, addr: SocketAddr::new(IpAddr::V4(vip), port) };
            let mut service = Service::new(key);
            service.scheduler = schedulers[i % schedulers.len()].clone();
            let dests = (0..dests)
                .map(|j| Dest {
                    forward: if i % 2 == 0 { Forward::DirectRouting } else { Forward::Nat },
                    weight: 1 + (j % 5) as u32,
                    ..Dest::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1 + j as u8)), port))
                })
                .collect();
            VirtualService { service, dests }
        })
        .collect();
    Table { services, ..Table::default() }
}

fn fail(message: String) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(1);
}

fn main() {
    let (services, dests) = (env_number("BENCH_SERVICES", 1000), env_number("BENCH_DESTS", 10));
    if services > 250 * 254 || dests > 254 {
        fail("BENCH_SERVICES at most 63500 and BENCH_DESTS at most 254".into());
    }
    let table = table(services, dests);
    let rules = lvs_ipvs::ipvsadm::export(&table).0;
    let rule_count = rules.lines().count();
    let with_per_rule = env_number("BENCH_PER_RULE", 1) != 0;
    let per_rule: String =
        if with_per_rule { rules.lines().map(|l| format!("/sbin/ipvsadm {l}\n")).collect() } else { String::new() };
    let ron = config::to_ron(&from_table::director_file(&table));
    config::parse(&ron, std::path::Path::new("bench.ron")).unwrap_or_else(|e| fail(format!("generated config: {e}")));

    let work = lvs_tests::repo_root().join("target/bench");
    std::fs::create_dir_all(&work).unwrap_or_else(|e| fail(format!("{}: {e}", work.display())));
    let write = |name: &str, text: &str| -> (PathBuf, String) {
        let path = work.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        (path, format!("/lab/{name}"))
    };
    let root = lvs_tests::repo_root().join("tests/lab");
    let mut extras = vec![
        (busybox().unwrap_or_else(|e| fail(e.to_string())), "/bin/busybox".to_string()),
        agent_cli_link().unwrap_or_else(|e| fail(e.to_string())),
        (root.join("lib.sh"), "/lab/lib.sh".to_string()),
        (root.join("bench.sh"), "/lab/bench.sh".to_string()),
        write("bench.ron", &ron),
        write("bench.rules", &rules),
        write("bench-per-rule.sh", &per_rule),
    ];
    extras.extend(ipvsadm_extras().unwrap_or_else(|e| fail(e.to_string())));
    println!("bench: {services} services x {dests} real servers = {rule_count} rules; building the image");
    let image = images::build("bench", "tests/lab/director.ron", &extras).unwrap_or_else(|e| fail(e.to_string()));

    let lab = Lab::new("bench").unwrap_or_else(|e| fail(e.to_string()));
    let lan = lab.bridge(None).unwrap_or_else(|e| fail(e.to_string()));
    let cmdline = "console=ttyS0 panic=-1 lvs.run=/bin/busybox,sh,/lab/bench.sh";
    let limit = Duration::from_secs(3600);
    let started = Instant::now();
    println!("bench: booting one VM (TCG)");
    if with_per_rule {
        println!("bench: the per-rule run forks {rule_count} ipvsadm processes and takes minutes (BENCH_PER_RULE=0 leaves it out)");
    }
    let vm = lab
        .boot(
            VmSpec::kernel("director", &image.vmlinux, Some(&image.initramfs), cmdline)
                .nic(&lan)
                .capture()
                .memory_mb(512)
                .max_runtime(limit),
        )
        .unwrap_or_else(|e| fail(e.to_string()));
    vm.wait_for("run exited status=", limit).unwrap_or_else(|e| fail(format!("{e}\n{}", vm.tail())));
    let _ = vm.wait_exit(Duration::from_secs(20));
    let sections = vm.sections().unwrap_or_else(|e| fail(format!("{e}\n{}", vm.tail())));
    let out = sections.text("bench").unwrap_or_else(|e| fail(format!("{e}\n{}", sections.render())));
    println!("bench: VM done after {:.0} s (log: {})", started.elapsed().as_secs_f64(), lab.log_dir().display());

    // Lines: "NAME <centiseconds> status=N" and "NAME-rules <count>".
    let field = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| fail(format!("no `{name}` line in the guest's output:\n{out}")))
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let seconds = |name: &str| -> f64 {
        let f = field(name);
        if f.get(1).map(String::as_str) != Some("status=0") {
            fail(format!("{name} failed:\n{out}"));
        }
        f[0].parse::<f64>().unwrap_or_else(|_| fail(format!("bad time in {out}"))) / 100.0
    };
    let apply = seconds("agent-apply");
    let noop = seconds("agent-noop");
    let restore = seconds("ipvsadm-restore");
    let per_rule_s = with_per_rule.then(|| seconds("ipvsadm-per-rule"));
    let runs: &[&str] = if with_per_rule {
        &["agent-apply", "ipvsadm-restore", "ipvsadm-per-rule"]
    } else {
        &["agent-apply", "ipvsadm-restore"]
    };
    for &run in runs {
        let n: usize = field(&format!("{run}-rules"))[0].parse().unwrap_or(0);
        if n != rule_count {
            fail(format!("{run} left {n} rules in the kernel, not {rule_count}:\n{out}"));
        }
    }
    if !out.contains("no changes") {
        fail(format!("the re-apply was not a no-op:\n{out}"));
    }

    println!();
    println!("IPVS programming, {services} services x {dests} real servers ({rule_count} rules), one VM, TCG:");
    println!("  lvs-agent apply                 {apply:8.2} s");
    println!("  ipvsadm -R (export ipvsadm)     {restore:8.2} s   ratio agent/ipvsadm-R  {:.3}", apply / restore);
    match per_rule_s {
        Some(t) => println!("  ipvsadm, one process per rule   {t:8.2} s   ratio agent/per-rule   {:.4}", apply / t),
        None => println!("  ipvsadm, one process per rule   (left out: BENCH_PER_RULE=0)"),
    }
    println!("  lvs-agent apply again (no-op)   {noop:8.2} s");
    let goal = apply <= restore / 2.0;
    println!("goal (apply <= half of ipvsadm -R): {}", if goal { "met" } else { "MISSED" });
}
