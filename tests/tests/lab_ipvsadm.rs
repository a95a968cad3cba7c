//! Debian's ipvsadm runs inside a test image and drives the guest kernel's
//! IPVS table: the independent peer the IPVS lab tests compare the agent
//! with. Its output comes back on the capture port (ttyS1), not the console.

use lvs_tests::lab::{busybox, images, ipvsadm_extras, Lab, VmSpec};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// TCG on two busy cores: generous, since the markers end the wait anyway.
const BOOT: Duration = Duration::from_secs(90);

fn lab_file(name: &str) -> (PathBuf, String) {
    (lvs_tests::repo_root().join("tests/lab").join(name), format!("/lab/{name}"))
}

#[test]
fn real_ipvsadm_programs_and_lists_the_guest_kernel_table() {
    let started = Instant::now();
    let mut extras = vec![(busybox().unwrap_or_else(|e| panic!("{e}")), "/bin/busybox".to_string())];
    extras.extend(ipvsadm_extras().unwrap_or_else(|e| panic!("{e}")));
    extras.extend([lab_file("lib.sh"), lab_file("ipvsadm-peer.sh")]);
    let image = images::build("ipvsadm-peer", "tests/lab/director.ron", &extras).unwrap_or_else(|e| panic!("{e}"));
    let built = started.elapsed();

    let lab = Lab::new("ipvsadm_peer").unwrap_or_else(|e| panic!("{e}"));
    // The guest routes real servers out of this NIC (see lab_route in lib.sh);
    // the bridge has no address, so the test's namespace holds it all.
    let lan = lab.bridge(None).unwrap_or_else(|e| panic!("{e}"));
    let cmdline = "console=ttyS0 panic=-1 lvs.run=/bin/busybox,sh,/lab/ipvsadm-peer.sh";
    let vm = lab
        .boot(VmSpec::kernel("director", &image.vmlinux, Some(&image.initramfs), cmdline).nic(&lan).capture())
        .unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("run exited status=", BOOT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_exit(Duration::from_secs(20)).unwrap_or_else(|e| panic!("{e}"));
    // The whole line, now that it has all arrived (wait_for may return it cut).
    let ran = vm.console_lines().into_iter().find(|l| l.contains("run exited status=")).unwrap_or_default();
    eprintln!(
        "lab_ipvsadm: image built in {:.1} s, VM ran {:.1} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );

    let sections = vm.sections().unwrap_or_else(|e| panic!("{e}\n--- console ---\n{}", vm.tail()));
    let all = sections.render();
    let text = |name: &str| sections.text(name).unwrap_or_else(|e| panic!("{e}\n--- console ---\n{}", vm.tail()));
    for s in &sections.sections {
        assert_eq!(
            s.status,
            if s.name.ends_with(".stderr") { None } else { Some(0) },
            "section {} failed:\n{all}",
            s.name
        );
        assert!(!s.name.ends_with(".stderr"), "ipvsadm wrote to stderr:\n{all}");
    }
    assert!(ran.ends_with("run exited status=0"), "{ran}\n{all}");

    assert_eq!(
        text("list"),
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n\
         \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  192.0.2.10:80 rr\n\
         \x20 -> 192.0.2.11:80                Route   2      0          0         \n",
        "{all}"
    );
    assert_eq!(text("save"), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.11:80 -g -w 2\n", "{all}");
    assert_eq!(text("sigblk"), "SigBlk:\t0000000000000000\n", "PID 1's children start with signals blocked\n{all}");
    // The kernel's defaults: nothing has set them.
    assert_eq!(text("timeout"), "Timeout (tcp tcpfin udp): 900 120 300\n", "{all}");
    // Nothing of the capture leaked onto the console, and no console line into the capture.
    assert!(!vm.console().contains("=== BEGIN"), "{}", vm.tail());
    assert!(sections.stray.is_empty(), "{all}");
}
