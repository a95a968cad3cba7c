//! What the persist lab's three runs share: the images (built once per test
//! process), booting the director and the real servers, the director's
//! control port, the client's request, and reading consoles.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Rules, CONTROL_PORT, DIRECTOR, REAL_SERVERS};
use crate::lab::{busybox, images, Image, Lab, Network, Vm, VmSpec};

/// Qemu start to the agent's ready line, with up to four TCG guests on two cores.
pub const BOOT: Duration = Duration::from_secs(120);
/// One message to the control port: connect, a shell and a command in the guest.
pub const EXCHANGE: Duration = Duration::from_secs(5);
/// One client request. A working real server answers in milliseconds (a
/// hundred or so at worst under TCG); a second means a lost connection.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// The director's hook: busybox nc as a persistent server (`-ll`: a shell
/// per connection) running control.sh; it never exits, so PID 1 never powers
/// the VM off on its account.
pub const CONTROL_HOOK: &str = "lvs.run=/bin/busybox,nc,-ll,-p,9999,-e,/bin/busybox,sh,/lab/control.sh";
/// The hook for a director that is to report and power off (dump.sh).
pub const DUMP_HOOK: &str = "lvs.run=/bin/busybox,sh,/lab/dump.sh";

/// `images::build` extras: (host file, path in the image).
type Extras = Vec<(PathBuf, String)>;

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
    let jobs: Vec<(String, &str, Extras)> = std::iter::once(("persist-ds".to_string(), DIRECTOR, ds_extras))
        .chain(REAL_SERVERS.iter().enumerate().map(|(i, f)| (format!("persist-rs{}", i + 1), *f, Vec::new())))
        .collect();
    let built: Vec<Image> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs.iter().map(|(name, config, extras)| scope.spawn(move || images::build(name, config, extras).map_err(|e| e.to_string()))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect::<Result<Vec<_>, _>>()
    })?;
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
pub fn wait_line(vm: &Vm, from: usize, what: &str, want: impl Fn(&str) -> bool, timeout: Duration) -> Result<(usize, String), String> {
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
    wait_line(vm, from, "agent ready line", super::is_ready, timeout)
}

/// One message to the director's control port: `verb`, a newline, then
/// `payload`; the reply, whole.
pub fn control(lab: &Lab, director: IpAddr, verb: &str, payload: &[u8]) -> Result<String, String> {
    let mut message = format!("{verb}\n").into_bytes();
    message.extend_from_slice(payload);
    let raw = lab.tcp_exchange(SocketAddr::new(director, CONTROL_PORT), &message, EXCHANGE).map_err(|e| e.to_string())?;
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
            Err(e) if Instant::now() >= deadline => return Err(format!("the director's control port did not answer within {timeout:?}: {e}")),
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

/// Who answered: an index into the plan's real servers.
pub type Who = usize;

/// One request on a new connection, from a thread in the lab's namespace;
/// who answered (from the body), or how it failed, worded for the timeline.
pub fn get(service: SocketAddr, bodies: &[String]) -> Result<Who, String> {
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
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no end of headers in {text:?}"))?;
    let status = head.lines().next().unwrap_or_default();
    match bodies.iter().position(|b| b == body) {
        Some(who) if status.split_whitespace().nth(1) == Some("200") => Ok(who),
        _ => Err(format!("{status:?} with body {body:?}")),
    }
}

/// A VM's console lines on a run's clock (seconds since `t0`), without the
/// harness's `[lab]` and qemu's stderr lines.
pub fn host_lines(vm: &Vm, t0: Instant) -> Vec<(f64, String)> {
    let offset = vm.started().saturating_duration_since(t0).as_secs_f64();
    vm.stamped_lines().into_iter().filter(|(_, l)| !l.starts_with("[lab]") && !l.starts_with("[qemu stderr]")).map(|(t, l)| (t + offset, l)).collect()
}

/// The `lvs-init:` and `lvs-agent:` lines of a console, for reports.
pub fn agent_lines(vm: &Vm) -> Vec<String> {
    vm.console_lines().into_iter().filter(|l| l.contains("lvs-agent: T=") || l.contains("lvs-init: T=")).collect()
}

/// Every VM's agent lines under a heading, and where its console is.
pub fn report_vms(vms: &[&Vm]) -> String {
    let mut out = String::new();
    for vm in vms {
        out.push_str(&format!("--- {}: full console in {} ---\n", vm.name(), vm.log_path().display()));
        for l in agent_lines(vm) {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out
}

pub fn secs(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64()
}
