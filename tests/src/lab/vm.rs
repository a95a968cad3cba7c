//! One qemu VM in a lab: started inside the lab's namespace, its console
//! captured line by line, and killed on Drop whatever happens: on panic the
//! Drop runs during unwinding, and if the test process dies outright the
//! kernel kills qemu (PR_SET_PDEATHSIG).

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::Signal;

use super::capture::Sections;
use super::console::{Console, WaitEnd};
use super::error::{LabError, Result};
use super::qemu::Ovmf;
use super::testbed::{Lab, Network};

/// What the VM boots.
#[derive(Clone, Debug)]
pub enum Boot {
    /// `-kernel` (an ELF vmlinux boots via PVH, a bzImage the usual way),
    /// `-initrd`, `-append`.
    Kernel { kernel: PathBuf, initrd: Option<PathBuf>, append: String },
    /// A raw GPT disk (virtio-blk) under OVMF, with a private copy of the
    /// VARS store. With `snapshot` the guest's writes go to a throw-away
    /// overlay and the image file stays untouched.
    Disk { image: PathBuf, snapshot: bool },
    /// SeaBIOS with nothing to boot: it prints "No bootable device." on the
    /// serial console. For testing the harness itself.
    FirmwareOnly,
}

/// One virtio-net NIC on a lab network.
#[derive(Clone, Debug)]
pub struct Nic {
    pub network: Network,
    /// `52:54:00:xx:xx:xx`; by default `52:54:00:<lab>:<vm>:<nic>`.
    pub mac: Option<String>,
}

#[derive(Clone, Debug)]
pub struct VmSpec {
    /// Names the log file `<vm>.log` and appears in every error.
    pub name: String,
    pub boot: Boot,
    pub memory_mb: u32,
    pub nics: Vec<Nic>,
    /// Appended to qemu's command line as they are.
    pub extra_args: Vec<String>,
    /// qemu is killed after this long whatever the test does (default 300 s).
    pub max_runtime: Duration,
    /// A second serial port (the guest's /dev/ttyS1) written to
    /// `<log dir>/<vm>.ttyS1`: see [`VmSpec::capture`].
    pub capture: bool,
    /// A guest reboot reboots the VM instead of ending qemu: see
    /// [`VmSpec::allow_reboot`].
    pub reboot: bool,
}

impl VmSpec {
    pub fn new(name: &str, boot: Boot) -> VmSpec {
        VmSpec {
            name: name.to_string(),
            boot,
            memory_mb: 256,
            nics: Vec::new(),
            extra_args: Vec::new(),
            max_runtime: Duration::from_secs(300),
            capture: false,
            reboot: false,
        }
    }

    pub fn kernel(name: &str, kernel: &Path, initrd: Option<&Path>, append: &str) -> VmSpec {
        VmSpec::new(
            name,
            Boot::Kernel {
                kernel: kernel.to_path_buf(),
                initrd: initrd.map(Path::to_path_buf),
                append: append.to_string(),
            },
        )
    }

    pub fn disk(name: &str, image: &Path) -> VmSpec {
        VmSpec::new(name, Boot::Disk { image: image.to_path_buf(), snapshot: false })
    }

    pub fn firmware_only(name: &str) -> VmSpec {
        VmSpec::new(name, Boot::FirmwareOnly)
    }

    pub fn nic(mut self, network: &Network) -> VmSpec {
        self.nics.push(Nic { network: network.clone(), mac: None });
        self
    }

    pub fn nic_with_mac(mut self, network: &Network, mac: &str) -> VmSpec {
        self.nics.push(Nic { network: network.clone(), mac: Some(mac.to_string()) });
        self
    }

    /// One more NIC, on qemu's user-mode network `net`: the host (the lab's
    /// namespace, where qemu runs) reaches the guest only through the ports
    /// `net` forwards from 127.0.0.1.
    pub fn user_nic(mut self, net: super::UserNet) -> VmSpec {
        self.nics.push(Nic { network: Network::User(net), mac: None });
        self
    }

    /// Runs qemu without `-no-reboot`: a guest that reboots boots again in
    /// the same qemu (the same disk, the same NICs and forwarded ports), and
    /// the console goes on; wait for the second boot's lines with
    /// [`Vm::wait_for_from`] from [`Vm::lines_so_far`] taken before the
    /// reboot. A guest power-off still ends qemu.
    pub fn allow_reboot(mut self) -> VmSpec {
        self.reboot = true;
        self
    }

    pub fn memory_mb(mut self, mb: u32) -> VmSpec {
        self.memory_mb = mb;
        self
    }

    pub fn arg(mut self, arg: &str) -> VmSpec {
        self.extra_args.push(arg.to_string());
        self
    }

    /// Attaches `image`, a raw disk image, as one more virtio-blk disk (with
    /// any boot: a `-kernel` VM whose state partition lives on a disk, say).
    /// The guest writes to the file itself: give each VM its own copy.
    pub fn drive(mut self, image: &Path) -> VmSpec {
        let mut drive = std::ffi::OsString::from("if=virtio,format=raw,file=");
        drive.push(qemu_escape(image));
        self.extra_args.push("-drive".into());
        self.extra_args.push(drive.to_string_lossy().into_owned());
        self
    }

    pub fn max_runtime(mut self, limit: Duration) -> VmSpec {
        self.max_runtime = limit;
        self
    }

    /// Gives the guest a second serial port, /dev/ttyS1, that qemu writes to
    /// `<log dir>/<vm>.ttyS1` on the host. Guest scripts write command output
    /// there, framed by `tests/lab/capture.sh`, where no kernel or agent log
    /// line can interleave with it; read it with [`Vm::captured`] or
    /// [`Vm::sections`].
    pub fn capture(mut self) -> VmSpec {
        self.capture = true;
        self
    }
}

/// Lets `kill()` and Drop wake the supervisor thread at once.
#[derive(Default)]
struct Control {
    kill: Mutex<bool>,
    woken: Condvar,
}

impl Control {
    fn request_kill(&self) {
        *self.kill.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.woken.notify_all();
    }

    /// Whether a kill was requested, waiting at most `wait` for one.
    fn kill_requested(&self, wait: Duration) -> bool {
        let guard = self.kill.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self.woken.wait_timeout_while(guard, wait, |kill| !*kill).unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

pub struct Vm {
    name: String,
    pid: u32,
    macs: Vec<String>,
    log_path: PathBuf,
    capture_path: Option<PathBuf>,
    started: Instant,
    console: Arc<Console>,
    control: Arc<Control>,
    threads: Vec<JoinHandle<()>>,
    /// Where [`Vm::wait_for_next`] resumes: the line after the last match.
    cursor: Mutex<usize>,
}

impl Vm {
    /// Starts qemu for `spec` inside `lab`'s namespace and returns at once;
    /// wait for console markers with [`Vm::wait_for`].
    pub fn boot(lab: &Lab, spec: VmSpec) -> Result<Vm> {
        let spec_err = |message: String| LabError::Spec { vm: spec.name.clone(), message };
        if spec.name.is_empty() || !spec.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(spec_err("a VM name is letters, digits, '-' and '_' (it names the log file)".into()));
        }
        let log_path = lab.log_dir().join(format!("{}.log", spec.name));
        let log = OpenOptions::new().write(true).create_new(true).open(&log_path).map_err(|e| {
            spec_err(format!("cannot create {} (two VMs with one name in this lab?): {e}", log_path.display()))
        })?;

        let capture_path = spec.capture.then(|| lab.log_dir().join(format!("{}.ttyS1", spec.name)));
        let (mut cmd, macs) = qemu_command(lab, &spec, capture_path.as_deref())?;
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());

        let started = Instant::now();
        let console = Arc::new(Console::new(log, started));
        console.push(format!("[lab] {}", super::command::describe(&cmd)));
        let control = Arc::new(Control::default());
        let (tx, rx) = mpsc::channel();
        let supervisor = {
            let console = console.clone();
            let control = control.clone();
            let netns = lab.netns_path();
            let limit = spec.max_runtime;
            std::thread::Builder::new()
                .name(format!("lab-vm-{}", spec.name))
                .spawn(move || supervise(&netns, cmd, &console, &control, limit, tx))
                .map_err(|e| LabError::io(format!("VM {}: starting its supervisor thread", spec.name), e))?
        };
        let (pid, stdout, stderr) = match rx.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(message)) => {
                let _ = supervisor.join();
                return Err(LabError::Start { vm: spec.name, message });
            }
            Err(_) => {
                let _ = supervisor.join();
                return Err(LabError::Start {
                    vm: spec.name,
                    message: "the supervisor thread ended without a word".into(),
                });
            }
        };

        let mut vm = Vm {
            name: spec.name,
            pid,
            macs,
            log_path,
            capture_path,
            started,
            console,
            control,
            threads: vec![supervisor],
            cursor: Mutex::new(0),
        };
        // From here Drop kills qemu, also if a reader thread cannot start.
        for (stream, prefix, serial) in
            [(Box::new(stdout) as Box<dyn std::io::Read + Send>, "", true), (Box::new(stderr), "[qemu stderr] ", false)]
        {
            let console = vm.console.clone();
            vm.console.stream_opened();
            let reader = std::thread::Builder::new()
                .name(format!("lab-console-{}", vm.name))
                .spawn(move || console.pump(stream, prefix, serial));
            match reader {
                Ok(handle) => vm.threads.push(handle),
                Err(e) => {
                    vm.console.stream_closed();
                    return Err(LabError::io(format!("VM {}: starting a console reader", vm.name), e));
                }
            }
        }
        Ok(vm)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// qemu's pid (in the host's pid namespace).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The MAC of each NIC, in `VmSpec::nics` order.
    pub fn macs(&self) -> &[String] {
        &self.macs
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The host file the guest's /dev/ttyS1 goes to, if the spec asked for
    /// [`VmSpec::capture`].
    pub fn capture_path(&self) -> Option<&Path> {
        self.capture_path.as_deref()
    }

    /// Everything the guest wrote to /dev/ttyS1 so far, `\r\n` read as `\n`.
    /// qemu writes each byte as the guest sends it, so after
    /// [`Vm::wait_exit`] this is all of it.
    pub fn captured(&self) -> Result<String> {
        let path = self.capture_path.as_deref().ok_or_else(|| LabError::Spec {
            vm: self.name.clone(),
            message: "no capture port: build the VmSpec with .capture()".into(),
        })?;
        let raw = std::fs::read(path)
            .map_err(|e| LabError::io(format!("VM {}: reading {}", self.name, path.display()), e))?;
        Ok(super::capture::clean(&raw))
    }

    /// [`Vm::captured`], split into the `=== BEGIN`/`=== END` sections the
    /// guest script wrote.
    pub fn sections(&self) -> Result<Sections> {
        Sections::parse(&self.captured()?)
    }

    /// When qemu was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The first console line (from the start of the console) containing
    /// `marker`, waiting up to `timeout` for it; the unfinished last line (a
    /// prompt) counts too, and is returned as far as it has arrived. Match a substring, not a line start: the guest's
    /// first line may follow firmware text without a newline
    /// ("Booting from ROM..lvs-init: T=1.572 started"). Fails at once, with
    /// the last console lines, if qemu exits first.
    pub fn wait_for(&self, marker: &str, timeout: Duration) -> Result<String> {
        self.wait_from(marker, 0, timeout)
    }

    /// Like [`Vm::wait_for`], but only lines after the one the previous
    /// `wait_for`/`wait_for_next` returned count: for a marker that repeats
    /// (a restart, a second request).
    pub fn wait_for_next(&self, marker: &str, timeout: Duration) -> Result<String> {
        let from = *self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        self.wait_from(marker, from, timeout)
    }

    /// How many console lines have arrived so far: a place to wait from
    /// with [`Vm::wait_for_from`] (before a reboot, say).
    pub fn lines_so_far(&self) -> usize {
        self.console.lines().len()
    }

    /// Like [`Vm::wait_for`], but only lines from index `from` on count
    /// (a [`Vm::lines_so_far`] taken earlier): the second boot's markers.
    pub fn wait_for_from(&self, marker: &str, from: usize, timeout: Duration) -> Result<String> {
        self.wait_from(marker, from, timeout)
    }

    fn wait_from(&self, marker: &str, from: usize, timeout: Duration) -> Result<String> {
        match self.console.wait_for(marker, from, timeout) {
            Ok((index, line)) => {
                *self.cursor.lock().unwrap_or_else(|p| p.into_inner()) = index + 1;
                Ok(line)
            }
            Err(WaitEnd::Timeout) => Err(LabError::MarkerTimeout {
                vm: self.name.clone(),
                marker: marker.to_string(),
                timeout,
                tail: self.console.tail(),
            }),
            Err(WaitEnd::Exited(status)) => Err(LabError::ExitedBeforeMarker {
                vm: self.name.clone(),
                marker: marker.to_string(),
                status,
                tail: self.console.tail(),
            }),
        }
    }

    /// Everything the console showed so far, one line per line (ANSI
    /// escapes and CRs removed; qemu's stderr lines marked `[qemu stderr]`).
    pub fn console(&self) -> String {
        self.console.text()
    }

    pub fn console_lines(&self) -> Vec<String> {
        self.console.lines()
    }

    /// Every console line with when it reached the host, in seconds since
    /// qemu started, as the log file stamps them (the harness's own `[lab]`
    /// lines and qemu's stderr included, as there).
    pub fn stamped_lines(&self) -> Vec<(f64, String)> {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let (stamp, line) = l.strip_prefix('[')?.split_once("] ")?;
                Some((stamp.trim().parse::<f64>().ok()?, line.to_string()))
            })
            .collect()
    }

    /// The last 40 console lines, as quoted in errors.
    pub fn tail(&self) -> String {
        self.console.tail()
    }

    /// How qemu ended (`exit status: 0`, `signal: 9 (SIGKILL)`), or None
    /// while it runs.
    pub fn exit_status(&self) -> Option<String> {
        self.console.exit()
    }

    pub fn is_running(&self) -> bool {
        self.console.exit().is_none()
    }

    /// Waits for qemu to exit on its own: with `-no-reboot` it does when the
    /// guest powers off or reboots. Returns how it ended.
    pub fn wait_exit(&self, timeout: Duration) -> Result<String> {
        self.console.wait_exit(timeout).ok_or_else(|| LabError::ExitTimeout {
            vm: self.name.clone(),
            timeout,
            tail: self.console.tail(),
        })
    }

    /// SIGKILLs qemu and waits until it is reaped and its output drained.
    pub fn kill(&self) -> Result<String> {
        self.control.request_kill();
        self.wait_exit(Duration::from_secs(10))
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.control.request_kill();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

type Started = (u32, ChildStdout, ChildStderr);

/// The VM's own thread: enters the namespace, starts qemu (which inherits the
/// namespace and dies with this thread), then watches it until it exits, a
/// kill is requested, or `limit` has passed.
fn supervise(
    netns: &Path,
    cmd: Command,
    console: &Console,
    control: &Control,
    limit: Duration,
    started: mpsc::Sender<std::result::Result<Started, String>>,
) {
    let mut child = match enter_and_spawn(netns, cmd) {
        Ok(child) => child,
        Err(message) => {
            let _ = started.send(Err(message));
            return;
        }
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        let _ = started.send(Err("qemu's stdout/stderr were not piped".into()));
        return;
    };
    let _ = started.send(Ok((child.id(), stdout, stderr)));

    let since = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                console.set_exit(describe_exit(status));
                return;
            }
            Ok(None) => {}
            Err(e) => console.push(format!("[lab] waiting for qemu failed: {e}; killing it")),
        }
        let killed = control.kill_requested(Duration::from_millis(25));
        let over = since.elapsed() >= limit;
        if killed || over {
            if over && !killed {
                console.push(format!("[lab] killing qemu: it ran longer than {limit:?}"));
            }
            let _ = child.kill();
            let how = child.wait().map(describe_exit).unwrap_or_else(|e| format!("unknown ({e})"));
            console.set_exit(how);
            return;
        }
    }
}

fn enter_and_spawn(netns: &Path, mut cmd: Command) -> std::result::Result<Child, String> {
    let ns = std::fs::File::open(netns).map_err(|e| format!("opening namespace {}: {e}", netns.display()))?;
    setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| format!("entering namespace {}: {e}", netns.display()))?;
    let lab_pid = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child between fork and exec, where
    // only async-signal-safe work is allowed. It makes two system calls
    // (prctl(PR_SET_PDEATHSIG) and getppid), allocates nothing and takes no
    // lock; the error it may return is built from a raw errno.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // If this thread died between fork and prctl, nobody would kill us.
            if nix::unistd::getppid() != lab_pid {
                return Err(Errno::ESRCH.into());
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| format!("`{}` could not start: {e}", super::command::describe(&cmd)))
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => status.to_string(),
    }
}

/// qemu's command line for `spec`; creates the taps its bridge NICs need.
fn qemu_command(lab: &Lab, spec: &VmSpec, capture: Option<&Path>) -> Result<(Command, Vec<String>)> {
    let spec_err = |message: String| LabError::Spec { vm: spec.name.clone(), message };
    let mut cmd = lab.qemu().command();
    cmd.args(["-name", &spec.name])
        // KVM exists here but cannot run normal guests (LAB-NOTES).
        .args(["-accel", "tcg"])
        .args(["-m", &spec.memory_mb.to_string()])
        // No default NIC (it would be user-mode networking to the host), no
        // default disks; -nographic makes SeaBIOS print on the serial port.
        .args(["-nodefaults", "-no-user-config", "-nographic"])
        .args(["-serial", "stdio"]);
    if !spec.reboot {
        cmd.arg("-no-reboot");
    }
    if let Some(path) = capture {
        // The second -serial is COM2 (0x2f8, IRQ 3): the guest's ttyS1.
        let mut chardev = std::ffi::OsString::from("file,id=capture,path=");
        chardev.push(qemu_escape(path));
        cmd.arg("-chardev").arg(chardev).args(["-serial", "chardev:capture"]);
    }

    match &spec.boot {
        Boot::Kernel { kernel, initrd, append } => {
            must_exist(kernel, &spec_err)?;
            cmd.arg("-kernel").arg(kernel);
            if let Some(initrd) = initrd {
                must_exist(initrd, &spec_err)?;
                cmd.arg("-initrd").arg(initrd);
            }
            cmd.arg("-append").arg(append);
        }
        Boot::Disk { image, snapshot } => {
            must_exist(image, &spec_err)?;
            let ovmf = Ovmf::locate()?;
            let vars = ovmf.vars_copy(&lab.log_dir().join(format!("{}.OVMF_VARS.fd", spec.name)))?;
            cmd.arg("-drive").arg(pflash(0, &ovmf.code, true));
            cmd.arg("-drive").arg(pflash(1, &vars, false));
            let mut drive = std::ffi::OsString::from("if=virtio,format=raw,file=");
            drive.push(qemu_escape(image));
            if *snapshot {
                drive.push(",snapshot=on");
            }
            cmd.arg("-drive").arg(drive);
        }
        Boot::FirmwareOnly => {}
    }

    let (lab_seq, vm_index) = lab.next_vm_index();
    let mut macs = Vec::new();
    for (i, nic) in spec.nics.iter().enumerate() {
        let nic_index = u8::try_from(i).map_err(|_| spec_err("more than 255 NICs".into()))?;
        let mac = match &nic.mac {
            Some(mac) => check_mac(mac).map_err(&spec_err)?,
            None => format!("52:54:00:{lab_seq:02x}:{vm_index:02x}:{nic_index:02x}"),
        };
        let netdev = match &nic.network {
            Network::Bridge { bridge } => {
                let tap = lab.add_tap(bridge)?;
                format!("tap,id=n{i},ifname={tap},script=no,downscript=no")
            }
            Network::Multicast { group, port } => {
                format!("socket,id=n{i},mcast={group}:{port},localaddr=127.0.0.1")
            }
            Network::User(net) => net.netdev(&format!("n{i}")),
        };
        cmd.args(["-netdev", &netdev]);
        // romfile= : no iPXE option ROM, which would only slow the boot.
        cmd.args(["-device", &format!("virtio-net-pci,netdev=n{i},mac={mac},romfile=")]);
        macs.push(mac);
    }
    cmd.args(&spec.extra_args);
    Ok((cmd, macs))
}

fn must_exist(path: &Path, spec_err: &impl Fn(String) -> LabError) -> Result<()> {
    if path.is_file() {
        Ok(())
    } else {
        Err(spec_err(format!("{} does not exist", path.display())))
    }
}

fn pflash(unit: u8, file: &Path, readonly: bool) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(format!("if=pflash,format=raw,unit={unit},"));
    if readonly {
        s.push("readonly=on,");
    }
    s.push("file=");
    s.push(qemu_escape(file));
    s
}

/// qemu option values escape a comma by doubling it.
fn qemu_escape(path: &Path) -> std::ffi::OsString {
    std::ffi::OsString::from(path.to_string_lossy().replace(',', ",,"))
}

/// `52:54:00:xx:xx:xx` in lower case, or why not.
fn check_mac(mac: &str) -> std::result::Result<String, String> {
    let mac = mac.to_ascii_lowercase();
    let parts: Vec<&str> = mac.split(':').collect();
    let well_formed =
        parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if well_formed && mac.starts_with("52:54:00:") {
        Ok(mac)
    } else {
        Err(format!("MAC {mac:?} is not of the form 52:54:00:xx:xx:xx"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_must_be_qemu_local() {
        assert_eq!(check_mac("52:54:00:AB:01:02").as_deref(), Ok("52:54:00:ab:01:02"));
        assert!(check_mac("02:00:00:00:00:01").is_err());
        assert!(check_mac("52:54:00:1:2:3").is_err());
    }

    #[test]
    fn commas_in_paths_are_doubled() {
        assert_eq!(qemu_escape(Path::new("/a,b/c")), "/a,,b/c");
    }
}
