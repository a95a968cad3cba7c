//! What the persist lab's three runs share: the images (built once per test
//! process), booting the director and the real servers, the director's
//! control port, and waiting on consoles.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Rules, CONTROL_PORT, DIRECTOR, REAL_SERVERS};
use crate::lab::{busybox, images, Image, Lab, Network, Vm, VmSpec};
use crate::watch::console::{agent_lines, is_ready};
use crate::watch::vm_section;

/// Qemu start to the agent's ready line, with up to four TCG guests on two cores.
pub const BOOT: Duration = Duration::from_secs(120);
/// One message to the control port: connect, a shell and a command in the guest.
pub const EXCHANGE: Duration = Duration::from_secs(5);

/// The director's hook: busybox nc as a persistent server (`-ll`: a shell
/// per connection) running control.sh; it never exits, so PID 1 never powers
/// the VM off on its account.
pub const CONTROL_HOOK: &str = "lvs.run=/bin/busybox,nc,-ll,-p,9999,-e,/bin/busybox,sh,/lab/control.sh";
/// The hook for a director that is to report and power off (dump.sh).
pub const DUMP_HOOK: &str = "lvs.run=/bin/busybox,sh,/lab/dump.sh";

/// The director's image (busybox, `/bin/lvs-agent`, control.sh, dump.sh and
/// lib.sh besides the product) and rs1's, rs2's and rs3's.
#[derive(Clone, Debug)]
pub struct Images {
    pub ds: Image,
    pub rs: [Image; 3],
    /// How long building them took (0 for a process's later callers).
    pub secs: f64,
}

/// Builds the four images once per test process, in parallel.
pub fn images() -> Result<Images, String> {
    static IMAGES: OnceLock<Result<Images, String>> = OnceLock::new();
    IMAGES.get_or_init(build).clone()
}

fn build() -> Result<Images, String> {
    let t = Instant::now();
    let repo = crate::repo_root();
    let bb = busybox().map_err(|e| e.to_string())?;
    let lab_file = |name: &str, dst: &str| (repo.join("tests/lab").join(name), dst.to_string());
    let ds_extras = vec![
        (bb, "/bin/busybox".to_string()),
        images::agent_cli_link().map_err(|e| e.to_string())?,
        lab_file("persist/control.sh", "/lab/control.sh"),
        lab_file("persist/dump.sh", "/lab/dump.sh"),
        lab_file("lib.sh", "/lab/lib.sh"),
    ];
    let jobs: Vec<images::Job> = std::iter::once(("persist-ds".to_string(), PathBuf::from(DIRECTOR), ds_extras))
        .chain(
            REAL_SERVERS
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("persist-rs{}", i + 1), PathBuf::from(f), Vec::new())),
        )
        .collect();
    let built: Vec<Image> = images::build_all(&jobs).map_err(|e| e.to_string())?;
    let mut built = built.into_iter();
    let ds = built.next().ok_or("no director image")?;
    let rs: Vec<Image> = built.collect();
    let rs: [Image; 3] = rs.try_into().map_err(|_| "three real server images".to_string())?;
    Ok(Images { ds, rs, secs: t.elapsed().as_secs_f64() })
}

/// How a director VM is booted.
pub struct DirectorBoot<'a> {
    pub name: &'a str,
    pub hook: &'a str,
    pub nic: &'a Network,
    /// A disk holding its `lvs-state` partition.
    pub state_disk: Option<&'a Path>,
    /// A second serial port for dump.sh's sections.
    pub capture: bool,
}

pub fn boot_director(lab: &Lab, image: &Image, b: &DirectorBoot) -> Result<Vm, String> {
    let append = format!("console=ttyS0 quiet panic=-1 {}", b.hook);
    let mut spec = VmSpec::kernel(b.name, &image.vmlinux, Some(&image.initramfs), &append).nic(b.nic);
    if let Some(disk) = b.state_disk {
        spec = spec.drive(disk);
    }
    if b.capture {
        spec = spec.capture();
    }
    lab.boot(spec).map_err(|e| e.to_string())
}

pub fn boot_real_server(lab: &Lab, name: &str, image: &Image, nic: &Network) -> Result<Vm, String> {
    let spec = VmSpec::kernel(name, &image.vmlinux, Some(&image.initramfs), "console=ttyS0 quiet panic=-1").nic(nic);
    lab.boot(spec).map_err(|e| e.to_string())
}

/// Waits until a console line at index `from` or later satisfies `want`;
/// returns its index and text. Fails at once if qemu has exited.
pub fn wait_line(
    vm: &Vm,
    from: usize,
    what: &str,
    want: impl Fn(&str) -> bool,
    timeout: Duration,
) -> Result<(usize, String), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let lines = vm.console_lines();
        if let Some(i) = lines.iter().skip(from).position(|l| want(l)) {
            return Ok((from + i, lines[from + i].clone()));
        }
        if let Some(how) = vm.exit_status() {
            return Err(format!("{}: qemu exited ({how}) before {what}; last lines:\n{}", vm.name(), vm.tail()));
        }
        if Instant::now() >= deadline {
            return Err(format!("{}: no {what} within {timeout:?}; last lines:\n{}", vm.name(), vm.tail()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the agent's ready line from line `from` on.
pub fn wait_ready(vm: &Vm, from: usize, timeout: Duration) -> Result<(usize, String), String> {
    wait_line(vm, from, "agent ready line", is_ready, timeout)
}

/// One message to the director's control port: `verb`, a newline, then
/// `payload`; the reply, whole.
pub fn control(lab: &Lab, director: IpAddr, verb: &str, payload: &[u8]) -> Result<String, String> {
    let mut message = format!("{verb}\n").into_bytes();
    message.extend_from_slice(payload);
    let raw =
        lab.tcp_exchange(SocketAddr::new(director, CONTROL_PORT), &message, EXCHANGE).map_err(|e| e.to_string())?;
    let reply = String::from_utf8_lossy(&raw).into_owned();
    if reply.starts_with("error:") {
        return Err(format!("control.sh answered {verb:?} with {:?}", reply.trim()));
    }
    Ok(reply)
}

/// The director's table, from its control port.
pub fn poll(lab: &Lab, director: IpAddr) -> Result<Rules, String> {
    Rules::parse(&control(lab, director, "status", b"")?)
}

/// Retries `status` until control.sh answers (nc starts once the agent is ready).
pub fn wait_control(lab: &Lab, director: IpAddr, timeout: Duration) -> Result<Rules, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match poll(lab, director) {
            Ok(r) => return Ok(r),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("the director's control port did not answer within {timeout:?}: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Replaces the director's config file with `bytes` (control.sh's `swap`) and
/// checks that what landed is what was sent.
pub fn swap(lab: &Lab, director: IpAddr, bytes: &[u8]) -> Result<String, String> {
    use sha2::Digest;
    let reply = control(lab, director, "swap", bytes)?;
    let reply = reply.trim().to_string();
    let expected = format!("swap bytes={} sha256={}", bytes.len(), super::hex(&sha2::Sha256::digest(bytes)));
    if reply != expected {
        return Err(format!("the swap did not land as sent: control.sh says {reply:?}, expected {expected:?}"));
    }
    Ok(reply)
}

/// Sends SIGINT to the director's PID 1 (it stops the agent, syncs and
/// reboots: qemu exits) and waits for qemu to end.
pub fn reboot(lab: &Lab, director: IpAddr, vm: &Vm) -> Result<(), String> {
    let reply = control(lab, director, "reboot", b"")?;
    if reply.trim() != "reboot" {
        return Err(format!("control.sh answered reboot with {reply:?}"));
    }
    vm.wait_exit(Duration::from_secs(30)).map(drop).map_err(|e| e.to_string())
}

/// Every VM's agent lines under a heading, and where its console is.
pub fn report_vms(vms: &[&Vm]) -> String {
    vms.iter().map(|vm| vm_section(vm.name(), None, vm.log_path(), &agent_lines(vm))).collect()
}
