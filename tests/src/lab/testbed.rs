//! `Lab`: one test's private network world (a namespace with its L2
//! networks), its qemu, and its log folder. VMs are booted into it with
//! [`crate::lab::Vm::boot`].

use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::client::{self, HttpResponse};
use super::error::{LabError, Result};
use super::netns::Netns;
use super::qemu::Qemu;
use super::require::require;
use super::vm::{Vm, VmSpec};

/// One L2 segment the lab's VMs can be plugged into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// A Linux bridge in the namespace; each VM NIC gets its own tap on it.
    /// Test code reaches VMs on it through the bridge's address, if given.
    Bridge { bridge: String },
    /// qemu's multicast socket netdev on the namespace's loopback: no tap,
    /// no bridge, and the test itself cannot join it.
    Multicast { group: std::net::Ipv4Addr, port: u16 },
    /// qemu's user-mode network, for one NIC alone: nothing but the ports it
    /// forwards from 127.0.0.1 reaches the guest ([`super::UserNet`]).
    User(super::UserNet),
}

#[derive(Default)]
struct Counters {
    bridges: u32,
    taps: u32,
    multicast: u32,
    vms: u8,
}

static NEXT_LAB: AtomicU8 = AtomicU8::new(1);

pub struct Lab {
    name: String,
    log_dir: PathBuf,
    qemu: Qemu,
    /// Tells apart the MACs of VMs of different labs in one test process.
    seq: u8,
    counters: Mutex<Counters>,
    // Dropped last: VMs still running keep the namespace alive until they die.
    netns: Netns,
}

impl Lab {
    /// Checks the machine ([`crate::lab::require`]), finds or fetches qemu,
    /// creates the namespace and empties `<target>/lab-logs/<test_name>/`.
    /// `test_name` names the log folder: use the test function's name.
    pub fn new(test_name: &str) -> Result<Lab> {
        require()?;
        if test_name.is_empty() || test_name.contains(['/', '\0']) || test_name.starts_with('.') {
            return Err(LabError::Spec { vm: "-".into(), message: format!("{test_name:?} cannot name a log folder") });
        }
        let qemu = Qemu::locate()?;
        let log_dir = logs_root().join(test_name);
        match std::fs::remove_dir_all(&log_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LabError::io(format!("emptying {}", log_dir.display()), e))
            }
            _ => {}
        }
        std::fs::create_dir_all(&log_dir).map_err(|e| LabError::io(format!("creating {}", log_dir.display()), e))?;
        let netns = Netns::create()?;
        Ok(Lab {
            name: test_name.to_string(),
            log_dir,
            qemu,
            seq: NEXT_LAB.fetch_add(1, Ordering::Relaxed),
            counters: Mutex::new(Counters::default()),
            netns,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's name, for `ip netns exec` by hand while debugging.
    pub fn netns(&self) -> &str {
        self.netns.name()
    }

    pub fn netns_path(&self) -> PathBuf {
        self.netns.path()
    }

    /// `<target>/lab-logs/<test_name>/`: one `<vm>.log` per VM, OVMF vars copies.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    pub fn qemu(&self) -> &Qemu {
        &self.qemu
    }

    /// Boots a VM into this lab; same as [`Vm::boot`].
    pub fn boot(&self, spec: VmSpec) -> Result<Vm> {
        Vm::boot(self, spec)
    }

    /// A new bridge `brN` in the namespace. With `address` (CIDR, in a
    /// documentation range, e.g. `"192.0.2.1/24"`) the test itself joins the
    /// segment and can reach VMs with [`Lab::http_get`] or [`Lab::exec`].
    pub fn bridge(&self, address: Option<&str>) -> Result<Network> {
        if let Some(cidr) = address {
            let ip = cidr.split('/').next().unwrap_or_default();
            let ip: IpAddr = ip.parse().map_err(|_| LabError::Address { addr: cidr.to_string() })?;
            client::ensure_lab_address(ip)?;
        }
        let bridge = {
            let mut c = self.counters();
            let name = format!("br{}", c.bridges);
            c.bridges += 1;
            name
        };
        self.netns.ip(&["link", "add", &bridge, "type", "bridge"])?;
        if let Some(cidr) = address {
            self.netns.ip(&["addr", "add", cidr, "dev", &bridge])?;
        }
        self.netns.ip(&["link", "set", &bridge, "up"])?;
        Ok(Network::Bridge { bridge })
    }

    /// A new multicast segment (its own group and port on the namespace's lo).
    pub fn multicast(&self) -> Result<Network> {
        let mut c = self.counters();
        c.multicast += 1;
        let n = c.multicast;
        let low = u8::try_from(n).map_err(|_| LabError::Spec {
            vm: "-".into(),
            message: "more than 255 multicast networks in one lab".into(),
        })?;
        Ok(Network::Multicast { group: std::net::Ipv4Addr::new(230, 0, 0, low), port: 12340 + u16::from(low) })
    }

    /// A new tap on `bridge`, up, for one VM NIC.
    pub(crate) fn add_tap(&self, bridge: &str) -> Result<String> {
        let tap = {
            let mut c = self.counters();
            let name = format!("tap{}", c.taps);
            c.taps += 1;
            name
        };
        self.netns.ip(&["tuntap", "add", "dev", &tap, "mode", "tap"])?;
        self.netns.ip(&["link", "set", &tap, "master", bridge, "up"])?;
        Ok(tap)
    }

    /// `(lab seq, vm index)` for default MACs `52:54:00:<lab>:<vm>:<nic>`.
    pub(crate) fn next_vm_index(&self) -> (u8, u8) {
        let mut c = self.counters();
        let i = c.vms;
        c.vms = c.vms.wrapping_add(1);
        (self.seq, i)
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs PROGRAM inside the namespace (`ip netns exec`), e.g.
    /// `lab.exec("ping", &["-c1", "192.0.2.10"])`. The output whatever the
    /// exit status; see [`Lab::run`] for one that must succeed.
    pub fn exec<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Result<Output> {
        self.netns.exec(program, args)
    }

    /// Like [`Lab::exec`], but a non-zero exit is an error; returns stdout.
    pub fn run<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Result<String> {
        let out = self.exec(program, args)?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(LabError::Command {
            what: format!("running a command in namespace {}", self.netns()),
            command: std::iter::once(program.to_string())
                .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(" "),
            status: format!("failed ({})", out.status),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs `f` on a thread inside the namespace: any std::net code in it
    /// (UDP, raw TCP, listeners) sees only the lab's networks.
    pub fn in_netns<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        client::in_netns(&self.netns.path(), f)
    }

    /// One HTTP/1.0 GET from inside the namespace (documentation ranges and
    /// loopback only).
    pub fn http_get(&self, addr: SocketAddr, path: &str, timeout: Duration) -> Result<HttpResponse> {
        client::http_get(&self.netns.path(), addr, path, timeout)
    }

    /// [`Lab::http_get`] from `source`, an address the namespace holds (add
    /// one to a bridge with `lab.run("ip", ...)`): a second client.
    pub fn http_get_from(
        &self,
        source: IpAddr,
        addr: SocketAddr,
        path: &str,
        timeout: Duration,
    ) -> Result<HttpResponse> {
        client::http_get_from(&self.netns.path(), source, addr, path, timeout)
    }

    /// [`Lab::http_get`] retried until an answer or `total` has passed.
    pub fn http_get_until(&self, addr: SocketAddr, path: &str, total: Duration) -> Result<HttpResponse> {
        client::http_get_until(&self.netns.path(), addr, path, total)
    }

    /// Connects from inside the namespace, sends `request`, reads to EOF.
    pub fn tcp_exchange(&self, addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        client::tcp_exchange(&self.netns.path(), addr, request, timeout)
    }
}

/// `<target>/lab-logs`: `CARGO_TARGET_DIR` if set, else the target folder the
/// running test binary sits in (`<target>/<profile>/deps/<bin>`), else
/// `<repo>/target`.
pub fn logs_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { crate::repo_root().join(t) } else { t })
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            let deps = exe.parent()?;
            (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(PathBuf::from))?
        })
        .unwrap_or_else(|| crate::repo_root().join("target"));
    target.join("lab-logs")
}
