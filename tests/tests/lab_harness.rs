//! The lab harness tested on its own, without any image of ours: qemu is
//! found or fetched, namespaces are private and go away, a SeaBIOS-only VM
//! boots, its console is captured and waited on, and qemu never outlives its
//! `Vm`, not even when the test panics.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use lvs_tests::lab::{free_port, Boot, Lab, LabError, Network, Qemu, UserNet, Vm, VmSpec};

/// SeaBIOS's last word when there is nothing to boot.
const NO_BOOT: &str = "No bootable device";
/// Generous for 2 TCG cores shared by parallel tests; measured 0.2-0.5 s alone.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

fn process_exists(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[test]
fn qemu_is_found_or_fetched_and_runs() -> Result<(), LabError> {
    lvs_tests::lab::require()?;
    let started = Instant::now();
    let qemu = Qemu::locate()?;
    eprintln!(
        "qemu ready in {:.1} s: {} ({})",
        started.elapsed().as_secs_f64(),
        qemu.version(),
        qemu.binary().display()
    );
    assert!(qemu.version().starts_with("QEMU emulator version"), "{}", qemu.version());
    Ok(())
}

#[test]
fn namespace_is_private_configured_and_deleted_on_drop() -> Result<(), LabError> {
    let lab = Lab::new("namespace_is_private_configured_and_deleted_on_drop")?;
    let ns_path = lab.netns_path();
    assert!(ns_path.exists());

    // Only loopback: no host interface is visible in the lab.
    let links = lab.run("ip", &["-o", "link"])?;
    let names: Vec<&str> = links.lines().filter_map(|l| l.split(':').nth(1).map(str::trim)).collect();
    assert_eq!(names, ["lo"], "{links}");
    assert!(links.contains("UP"), "lo is up: {links}");
    assert!(links.contains("MULTICAST"), "lo does multicast: {links}");
    let routes = lab.run("ip", &["route", "show", "table", "all"])?;
    assert!(routes.contains("224.0.0.0/4 dev lo"), "{routes}");

    lab.bridge(Some("192.0.2.1/24"))?;
    let addrs = lab.run("ip", &["addr"])?;
    assert!(addrs.contains("inet 192.0.2.1/24") && addrs.contains("br0"), "{addrs}");

    // exec reports failures instead of hiding them.
    let out = lab.exec("ip", &["link", "show", "eth-nonexistent"])?;
    assert!(!out.status.success());
    assert!(lab.run("ip", &["link", "show", "eth-nonexistent"]).is_err());

    drop(lab);
    assert!(!ns_path.exists(), "{} is gone after drop", ns_path.display());
    Ok(())
}

#[test]
fn bridge_addresses_must_be_documentation_ranges() -> Result<(), LabError> {
    let lab = Lab::new("bridge_addresses_must_be_documentation_ranges")?;
    let err = lab.bridge(Some("10.0.0.1/24")).expect_err("10/8 is refused");
    assert!(matches!(err, LabError::Address { .. }), "{err}");
    let err = lab
        .http_get("8.8.8.8:80".parse().expect("addr"), "/", Duration::from_secs(1))
        .expect_err("off-lab address is refused");
    assert!(matches!(err, LabError::Address { .. }), "{err}");
    Ok(())
}

#[test]
fn test_code_is_a_client_inside_the_namespace() -> Result<(), LabError> {
    let lab = Lab::new("test_code_is_a_client_inside_the_namespace")?;
    lab.bridge(Some("198.51.100.1/24"))?;
    // The host has no such address: binding it outside the lab fails...
    assert!(TcpListener::bind("198.51.100.1:0").is_err());
    // ...inside it works, and the socket stays in the lab's namespace when
    // another thread serves it.
    let listener = lab
        .in_netns(|| TcpListener::bind("198.51.100.1:0"))?
        .map_err(|e| LabError::Io { what: "binding in the lab".into(), source: e })?;
    let addr = listener.local_addr().map_err(|e| LabError::Io { what: "local_addr".into(), source: e })?;
    let server = std::thread::spawn(move || -> std::io::Result<String> {
        let (mut conn, _) = listener.accept()?;
        let mut request = Vec::new();
        conn.read_to_end(&mut request)?;
        conn.write_all(b"HTTP/1.0 200 OK\r\nX-Lab: yes\r\n\r\nhello from the lab")?;
        Ok(String::from_utf8_lossy(&request).into_owned())
    });
    let reply = lab.http_get(addr, "/ping", Duration::from_secs(5))?;
    let request = server.join().expect("server thread").expect("server io");
    assert!(request.starts_with("GET /ping HTTP/1.0\r\n"), "{request}");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-lab"), Some("yes"));
    assert_eq!(reply.body_text(), "hello from the lab");
    Ok(())
}

#[test]
fn seabios_vm_boots_prints_on_the_console_and_is_killed() -> Result<(), LabError> {
    let lab = Lab::new("seabios_vm_boots_prints_on_the_console_and_is_killed")?;
    let lan = lab.bridge(Some("203.0.113.1/24"))?;
    let mcast = lab.multicast()?;
    assert!(matches!(mcast, Network::Multicast { .. }));
    let started = Instant::now();
    let vm = lab.boot(VmSpec::firmware_only("bios").nic(&lan).nic_with_mac(&mcast, "52:54:00:12:34:56"))?;
    let line = vm.wait_for(NO_BOOT, BOOT_TIMEOUT)?;
    eprintln!("SeaBIOS reached {line:?} {:.2} s after qemu started", started.elapsed().as_secs_f64());
    assert_eq!(vm.macs()[1], "52:54:00:12:34:56");
    assert!(vm.macs()[0].starts_with("52:54:00:"));
    assert!(vm.console().contains("SeaBIOS (version"), "{}", vm.console());
    // The tap qemu opened is on the bridge.
    let taps = lab.run("ip", &["-o", "link", "show", "master", "br0"])?;
    assert!(taps.contains("tap0"), "{taps}");

    let pid = vm.pid();
    assert!(vm.is_running() && process_exists(pid));
    let how = vm.kill()?;
    assert_eq!(how, "killed by SIGKILL");
    assert!(!process_exists(pid), "qemu {pid} is gone after kill");

    let log = std::fs::read_to_string(vm.log_path())
        .map_err(|e| LabError::Io { what: "reading the VM log".into(), source: e })?;
    assert!(log.contains(NO_BOOT) && log.contains("qemu exited"), "{log}");
    Ok(())
}

#[test]
fn qemu_is_killed_when_a_test_panics() -> Result<(), LabError> {
    let lab = Lab::new("qemu_is_killed_when_a_test_panics")?;
    let pid = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let vm = lab.boot(VmSpec::firmware_only("doomed")).expect("boots");
        *pid.lock().expect("pid") = Some(vm.pid());
        vm.wait_for(NO_BOOT, BOOT_TIMEOUT).expect("boots");
        panic!("a lab test failing while its VM runs");
    }));
    assert!(outcome.is_err());
    let pid = pid.lock().expect("pid").expect("the VM had started");
    assert!(!process_exists(pid), "qemu {pid} died with the panicking test");
    Ok(())
}

#[test]
fn waits_fail_with_the_console_tail_and_exits_are_seen() -> Result<(), LabError> {
    let lab = Lab::new("waits_fail_with_the_console_tail_and_exits_are_seen")?;

    // A marker that never comes: a timeout that quotes the console.
    let vm = lab.boot(VmSpec::firmware_only("stuck"))?;
    vm.wait_for(NO_BOOT, BOOT_TIMEOUT)?;
    let err = vm.wait_for_next("lvs-agent: T=", Duration::from_millis(500)).expect_err("no agent in SeaBIOS");
    let text = err.to_string();
    assert!(matches!(err, LabError::MarkerTimeout { .. }), "{text}");
    assert!(text.starts_with("VM stuck: marker \"lvs-agent: T=\" not seen"), "{text}");
    assert!(text.contains("--- last 40 console lines ---") && text.contains(NO_BOOT), "{text}");

    // A guest that "powers off": SeaBIOS reboots at once when nothing boots
    // (reboot-timeout=0), and -no-reboot turns that into qemu exiting.
    let vm = lab.boot(VmSpec::firmware_only("exits").arg("-boot").arg("reboot-timeout=0"))?;
    let how = vm.wait_exit(BOOT_TIMEOUT)?;
    assert_eq!(how, "exit status 0", "{}", vm.console());
    assert!(!vm.is_running());
    let started = Instant::now();
    let err = vm.wait_for("lvs-init: T=", BOOT_TIMEOUT).expect_err("it has exited");
    assert!(matches!(err, LabError::ExitedBeforeMarker { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "no waiting on a dead VM");
    Ok(())
}

/// A user-mode NIC's forwarded port is on the lab's loopback (qemu runs in
/// the lab's namespace), not the host's; and a VM allowed to reboot boots
/// again in the same qemu, the console going on. (lab_boot's
/// `a_forwarded_port_reaches_a_guest_across_its_reboot` reaches a guest.)
#[test]
fn a_user_nic_forwards_a_port_on_the_labs_loopback_and_a_vm_may_reboot() -> Result<(), LabError> {
    let lab = Lab::new("a_user_nic_forwards_a_port_on_the_labs_loopback_and_a_vm_may_reboot")?;
    let port = lab.in_netns(|| free_port(0))??;
    let net = UserNet::new("192.0.2.0".parse().expect("net"))?.forward(port, "192.0.2.10:80".parse().expect("addr"))?;
    // SeaBIOS reboots at once when nothing boots (reboot-timeout=0).
    let spec = VmSpec::firmware_only("usernet").user_nic(net).allow_reboot().arg("-boot").arg("reboot-timeout=0");
    let vm = lab.boot(spec)?;
    vm.wait_for(NO_BOOT, BOOT_TIMEOUT)?;
    let mark = vm.lines_so_far();
    vm.wait_for_from(NO_BOOT, mark, BOOT_TIMEOUT)?;
    assert!(vm.is_running(), "a reboot does not end qemu: {}", vm.console());
    let command = vm.console_lines().first().cloned().unwrap_or_default();
    assert!(!command.contains("-no-reboot"), "{command}");
    assert!(
        command
            .contains(&format!("user,id=n0,restrict=on,net=192.0.2.0/24,hostfwd=tcp:127.0.0.1:{port}-192.0.2.10:80")),
        "{command}"
    );
    // slirp accepts on the lab's 127.0.0.1 (then finds no guest to hand it to).
    let connected =
        lab.in_netns(|| std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), BOOT_TIMEOUT))?;
    assert!(connected.is_ok(), "{connected:?}");
    // Nothing of it on the host's loopback.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} is free on the host");
    vm.kill()?;
    Ok(())
}

#[test]
fn a_missing_kernel_is_a_clear_error() -> Result<(), LabError> {
    let lab = Lab::new("a_missing_kernel_is_a_clear_error")?;
    let err = Vm::boot(&lab, VmSpec::kernel("nokernel", Path::new("/nonexistent/vmlinux"), None, "console=ttyS0"))
        .err()
        .expect("no such kernel");
    assert_eq!(err.to_string(), "VM nokernel: /nonexistent/vmlinux does not exist");
    Ok(())
}

#[test]
fn ovmf_boots_a_disk_and_prompts_are_waitable() -> Result<(), LabError> {
    let lab = Lab::new("ovmf_boots_a_disk_and_prompts_are_waitable")?;
    // Nothing bootable on it: OVMF falls through to its built-in shell.
    let disk = lab.log_dir().join("blank.img");
    std::fs::write(&disk, vec![0u8; 1 << 20])
        .map_err(|e| LabError::Io { what: "writing a blank disk".into(), source: e })?;
    let mut spec = VmSpec::disk("uefi", &disk);
    spec.boot = Boot::Disk { image: disk.clone(), snapshot: true };
    let started = Instant::now();
    let vm = lab.boot(spec)?;
    vm.wait_for("UEFI Interactive Shell", BOOT_TIMEOUT)?;
    eprintln!("OVMF reached its shell {:.2} s after qemu started", started.elapsed().as_secs_f64());
    // The shell's countdown never ends its line: an unfinished line counts.
    let prompt = vm.wait_for_next("seconds to skip startup.nsh", BOOT_TIMEOUT)?;
    assert!(prompt.starts_with("Press ESC in"), "{prompt}");
    assert!(lab.log_dir().join("uefi.OVMF_VARS.fd").is_file());
    vm.kill()?;
    Ok(())
}
