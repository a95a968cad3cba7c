//! Issue 3's lab tests: the appliance image boots, PID 1 loads ip_vs and runs
//! the agent, stops cleanly on SIGTERM, restarts a killed agent, and boots from
//! the GPT disk under OVMF with the RON file on its config partition.

use lvs_tests::lab::{busybox, free_port, images, Image, Lab, UserNet, Vm, VmSpec};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// TCG on two busy cores: generous, since the markers end the wait anyway.
const BOOT: Duration = Duration::from_secs(90);

/// What the lab director image carries besides the product: busybox and the lab script.
fn director_extras() -> Vec<(PathBuf, String)> {
    vec![
        (busybox().unwrap_or_else(|e| panic!("{e}")), "/bin/busybox".into()),
        (lvs_tests::repo_root().join("tests/lab/kill-agent.sh"), "/lab/kill-agent.sh".into()),
    ]
}

/// One director image for every test here.
fn director_image() -> Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            images::build("boot-director", "tests/lab/director.ron", &director_extras()).map_err(|e| e.to_string())
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn boot_kernel(lab: &Lab, name: &str, image: &Image, append: &str) -> Vm {
    let cmdline = format!("console=ttyS0 panic=-1 {append}");
    lab.boot(VmSpec::kernel(name, &image.vmlinux, Some(&image.initramfs), &cmdline)).unwrap_or_else(|e| panic!("{e}"))
}

/// The guest uptime `T=` of a console line.
fn uptime(line: &str) -> f64 {
    line.split("T=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no T= in {line:?}"))
}

/// PID 1's own "powering off" line, not its "received SIGTERM: stopping, then
/// powering off" (which `wait_for("powering off")` would return first).
fn powered_off_line(vm: &Vm) -> String {
    let console = vm.console();
    let line = console.lines().find(|l| l.trim_end().ends_with(" powering off") && !l.contains("received"));
    line.map(str::to_string).unwrap_or_else(|| panic!("no powering off line:\n{}", vm.tail()))
}

fn lab(name: &str) -> Lab {
    Lab::new(name).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_director_boots_loads_ip_vs_and_reports_ready() {
    let image = director_image();
    let lab = lab("boot_director_ready");
    let vm = boot_kernel(&lab, "director", &image, "");
    // Whole markers only: wait_for also returns a line still arriving.
    let started = vm.wait_for(" started", BOOT).unwrap_or_else(|e| panic!("{e}"));
    assert!(started.contains("lvs-init: T="), "{started}");
    let modules = vm.wait_for("modules loaded (", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let family = vm.wait_for("IPVS generic netlink family id=", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let ready = vm.wait_for(" ready", BOOT).unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("lvs-agent: T="), "{ready}");
    assert!(vm.console().contains("hostname lab-director"), "{}", vm.tail());
    // Readiness follows module loading; the family line proves ip_vs is in the kernel.
    assert!(uptime(&modules) <= uptime(&ready), "{modules} / {ready}");
    assert!(uptime(&family) <= uptime(&ready));
    assert!(!vm.console().contains("Kernel panic"), "{}", vm.tail());
}

#[test]
fn sigterm_to_pid_1_powers_off_cleanly_within_5_seconds() {
    let image = director_image();
    let lab = lab("boot_sigterm");
    let vm = boot_kernel(&lab, "director", &image, "lvs.run=/bin/busybox,kill,-TERM,1");
    let received = vm.wait_for("received SIGTERM", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let seen = Instant::now();
    let status = vm.wait_exit(Duration::from_secs(20)).unwrap_or_else(|e| panic!("{e}"));
    let off = powered_off_line(&vm);
    assert!(uptime(&off) - uptime(&received) < 5.0, "{received} -> {off}");
    assert!(seen.elapsed() < Duration::from_secs(10), "qemu took {:?} to exit after SIGTERM", seen.elapsed());
    // The agent was asked to stop and did, rather than being killed.
    assert!(
        vm.console().contains("lvs-agent: T=") && vm.console().contains("received SIGTERM: stopping"),
        "{}",
        vm.tail()
    );
    assert!(!vm.console().contains("did not stop within"), "{}", vm.tail());
    assert!(!vm.console().contains("Kernel panic"), "{}", vm.tail());
    assert!(status.contains("exit status 0"), "{status}");
}

/// PID 1 gives the agent the time its workloads need to stop: here 6 s, more
/// than the 4 s the agent alone gets, within the workload's stop_timeout of 10 s.
#[test]
fn at_power_off_a_workload_gets_its_stop_timeout() {
    let extras = vec![
        (busybox().unwrap_or_else(|e| panic!("{e}")), "/bin/busybox".into()),
        (lvs_tests::repo_root().join("tests/lab/stop-when-slow-runs.sh"), "/lab/stop-when-slow-runs.sh".into()),
    ];
    let image = images::build("boot-slow-stop", "tests/lab/slow-stop.ron", &extras).unwrap_or_else(|e| panic!("{e}"));
    let lab = lab("boot_slow_stop");
    let vm = boot_kernel(&lab, "slow-stop", &image, "lvs.run=/bin/busybox,sh,/lab/stop-when-slow-runs.sh");
    let received = vm.wait_for("received SIGTERM", BOOT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_exit(Duration::from_secs(40)).unwrap_or_else(|e| panic!("{e}"));
    let off = powered_off_line(&vm);
    let console = vm.console();
    assert!(console.contains("workload slow stopped (status 0)"), "{}", vm.tail());
    assert!(!console.contains("did not stop within"), "{}", vm.tail());
    let took = uptime(&off) - uptime(&received);
    assert!((6.0..14.0).contains(&took), "{received} -> {off}: the workload's 6 s, within 4 s + its stop_timeout");
}

#[test]
fn a_killed_agent_is_restarted_by_pid_1() {
    let image = director_image();
    let lab = lab("boot_agent_restart");
    let vm = boot_kernel(&lab, "director", &image, "lvs.run=/bin/busybox,sh,/lab/kill-agent.sh");
    let exited =
        vm.wait_for("agent exited (killed by SIGKILL); restarting in 1s", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let restarted = vm.wait_for("lab: agent restarted: pid", BOOT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("run exited status=0", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let console = vm.console();
    assert_eq!(console.matches("agent started pid=").count(), 2, "{}", vm.tail());
    // The second agent became ready after the first one died.
    let died_at = console.find(&exited).unwrap_or(0);
    assert!(console[died_at..].contains(" ready"), "{}", vm.tail());
    assert!(console.find(&restarted).unwrap_or(0) > died_at, "{}", vm.tail());
    vm.wait_exit(Duration::from_secs(20)).unwrap_or_else(|e| panic!("{e}"));
}

/// A copy of the disk image for one test: set-config writes to it.
fn disk_copy(image: &Image, name: &str) -> PathBuf {
    let path = image.dir.join(format!("{name}.img"));
    std::fs::copy(&image.disk, &path).unwrap_or_else(|e| panic!("copying {}: {e}", image.disk.display()));
    path
}

#[test]
fn the_disk_image_boots_under_ovmf_and_reads_its_config_partition() {
    let image = director_image();
    // Its own copy: the guest writes to the state partition, as on real hardware.
    let disk = disk_copy(&image, "ovmf");
    let lab = lab("boot_disk_ovmf");
    let vm = lab.boot(VmSpec::disk("director-disk", &disk)).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("mounted lvs-config", Duration::from_secs(180)).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("config /config/appliance.ron: director", BOOT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("mounted lvs-state", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let ready = vm.wait_for(" ready", BOOT).unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("lvs-agent: T="), "{ready}");
    assert!(vm.console().contains("IPVS generic netlink family id="), "{}", vm.tail());
}

#[test]
fn after_set_config_the_next_boot_runs_the_new_file() {
    let image = director_image();
    let disk = disk_copy(&image, "set-config");
    images::set_config(&disk, "tests/lab/director-v2.ron").unwrap_or_else(|e| panic!("{e}"));
    let lab = lab("boot_set_config");
    let vm = lab.boot(VmSpec::disk("director-v2", &disk)).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("hostname lab-director-v2", Duration::from_secs(180)).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("config /config/appliance.ron: director", BOOT).unwrap_or_else(|e| panic!("{e}"));
    // An invalid file is refused and leaves the disk as it was. The VM is
    // stopped first: a running director writes its state partition.
    vm.kill().unwrap_or_else(|e| panic!("{e}"));
    let before = std::fs::read(&disk).unwrap();
    let bad = lvs_tests::repo_root().join("examples/001-dr-portmap-8099-refused.ron");
    assert!(images::set_config(&disk, bad.to_str().unwrap()).is_err());
    assert!(std::fs::read(&disk).unwrap() == before, "set-config changed the disk for an invalid file");
}

#[test]
fn real_builds_are_reproducible_and_the_initramfs_within_its_budget() {
    let first = director_image();
    let second = images::build("boot-director-again", "tests/lab/director.ron", &director_extras())
        .unwrap_or_else(|e| panic!("{e}"));
    let a = std::fs::read(&first.initramfs).unwrap();
    let b = std::fs::read(&second.initramfs).unwrap();
    assert!(a == b, "two builds from the same inputs gave different initramfs files");
    assert!(
        std::fs::read(first.dir.join("BOOTX64.EFI")).unwrap() == std::fs::read(second.dir.join("BOOTX64.EFI")).unwrap()
    );
    // The one size gate, on a product image (no test extras): a director's
    // compressed initramfs. The agent in it has no budget (docs/SIZE.md).
    let product =
        images::build("budget-director", "examples/001-dr-wrr-director.ron", &[]).unwrap_or_else(|e| panic!("{e}"));
    let initramfs = std::fs::metadata(&product.initramfs).unwrap().len();
    assert!(initramfs < 4 << 20, "initramfs is {initramfs} bytes, over 4 MiB");
}

/// The harness's user-mode NIC reaches a guest (`make run`'s way to the
/// management port, here the agent's built-in HTTP server), and a VM allowed
/// to reboot comes back in the same qemu with the same forwarded port. The
/// hook waits for one connection on port 9999 (forwarded too), then sends
/// SIGINT to PID 1, which reboots.
#[test]
fn a_forwarded_port_reaches_a_guest_across_its_reboot() {
    let extras = vec![(busybox().unwrap_or_else(|e| panic!("{e}")), "/bin/busybox".to_string())];
    let image = images::build("boot-usernet", "tests/lab/usernet-rs.ron", &extras).unwrap_or_else(|e| panic!("{e}"));
    let lab = lab("boot_usernet_reboot");
    let (http, trigger) = lab
        .in_netns(|| Ok::<_, lvs_tests::lab::LabError>((free_port(0)?, free_port(0)?)))
        .and_then(|r| r)
        .unwrap_or_else(|e| panic!("{e}"));
    let net = UserNet::new("203.0.113.0".parse().unwrap())
        .and_then(|n| n.forward(http, "203.0.113.21:80".parse().unwrap()))
        .and_then(|n| n.forward(trigger, "203.0.113.21:9999".parse().unwrap()))
        .unwrap_or_else(|e| panic!("{e}"));
    let append = "console=ttyS0 panic=-1 quiet lvs.run=/bin/busybox,nc,-l,-p,9999,-e,/bin/busybox,kill,-INT,1";
    let spec =
        VmSpec::kernel("usernet-rs", &image.vmlinux, Some(&image.initramfs), append).user_nic(net).allow_reboot();
    let vm = lab.boot(spec).unwrap_or_else(|e| panic!("{e}"));
    lvs_tests::persist::lab::wait_ready(&vm, 0, BOOT).unwrap_or_else(|e| panic!("{e}"));
    let local = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let reply = lab.http_get_until(local(http), "/", Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((reply.status, reply.body_text().as_str()), (200, "usernet-rs\n"), "{}", vm.tail());

    vm.wait_for("run started: /bin/busybox nc", BOOT).unwrap_or_else(|e| panic!("{e}"));
    let mark = vm.lines_so_far();
    // nc answers nothing: a connection only sets the hook off. slirp accepts
    // on the host side whether or not nc listens yet, so knock until PID 1
    // says it got the signal.
    let knocked = Instant::now();
    while vm.wait_for_from("(ctrl-alt-del): stopping, then rebooting", mark, Duration::from_secs(2)).is_err() {
        assert!(knocked.elapsed() < Duration::from_secs(30), "the hook never rebooted:\n{}", vm.tail());
        let _ = lab.tcp_exchange(local(trigger), b"reboot\n", Duration::from_secs(2));
    }
    // PID 1's shutdown lines come first; its `started` line is the second boot's.
    let started = |l: &str| l.contains("lvs-init: T=") && l.trim_end().ends_with(" started");
    lvs_tests::persist::lab::wait_line(&vm, mark, "a second boot", started, BOOT).unwrap_or_else(|e| panic!("{e}"));
    assert!(vm.is_running(), "{}", vm.tail());
    lvs_tests::persist::lab::wait_ready(&vm, mark, BOOT).unwrap_or_else(|e| panic!("{e}"));
    let reply = lab.http_get_until(local(http), "/", Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.body_text(), "usernet-rs\n", "{}", vm.tail());
    vm.kill().unwrap_or_else(|e| panic!("{e}"));
}
