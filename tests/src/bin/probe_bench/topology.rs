//! Where the backends live and how the prober reaches them.
//!
//! `Veth` (the default) is a director's view: the backends in a network
//! namespace of their own, the prober in another, joined by a veth pair. On
//! loopback, the prober's system calls also run the backend's half of every
//! connection (the receiving socket's work is done in the sender's softirq),
//! which no director talking to remote real servers pays. Over veth the same
//! happens unless the packets change CPU, so the backend side gets RPS to a
//! CPU of its own, where its server thread is pinned too, and the prober is
//! pinned to the other CPUs. The prober's own receive path (SYN-ACKs, replies)
//! then runs in the softirq of the CPU that sent them, as it runs in a NIC's
//! interrupt on a real director: it is not in the engine thread's CPU time,
//! there as here.
//!
//! Addresses: 10,000 endpoints do not fit one /24 of test addresses, so they
//! are `ADDRESSES_PER` = 250 ports (8000-8249) on each of 203.0.113.1 up to
//! 203.0.113.40 (up to .200 for 50,000), all on the backend's veth; the prober
//! is 203.0.113.254 on the same /24, a directly connected LAN as with LVS-DR.
//!
//! `Loopback` (BENCH_PROBE_TOPOLOGY=loopback) is the first version of this
//! bench, kept for comparison: one namespace, backends on 127.1.x.y port 80.

use nix::sched::{sched_getaffinity, sched_setaffinity, setns, unshare, CloneFlags, CpuSet};
use nix::unistd::Pid;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

const PORTS_PER_ADDRESS: usize = 250;
const FIRST_PORT: u16 = 8000;
const BACKEND_LINK: &str = "back0";
const PROBER_LINK: &str = "probe0";
const PROBER_ADDR: &str = "203.0.113.254/24";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    Veth,
    Loopback,
}

/// Which CPU serves the backends (and takes their packets), which run the prober.
pub struct Split {
    pub backend: usize,
    pub prober: CpuSet,
}

impl Topology {
    pub fn from_env() -> Result<Topology, String> {
        match std::env::var("BENCH_PROBE_TOPOLOGY").as_deref() {
            Err(_) | Ok("") | Ok("veth") => Ok(Topology::Veth),
            Ok("loopback") => Ok(Topology::Loopback),
            Ok(other) => Err(format!("BENCH_PROBE_TOPOLOGY={other}: expected veth or loopback")),
        }
    }

    pub const MAX_TARGETS: usize = 200 * PORTS_PER_ADDRESS;

    pub fn addr(self, i: usize) -> SocketAddr {
        match self {
            Topology::Veth => SocketAddr::from((
                Ipv4Addr::new(203, 0, 113, (i / PORTS_PER_ADDRESS + 1) as u8),
                FIRST_PORT + (i % PORTS_PER_ADDRESS) as u16,
            )),
            Topology::Loopback => SocketAddr::from((Ipv4Addr::new(127, 1, (i / 200) as u8, (i % 200 + 1) as u8), 80)),
        }
    }

    pub fn describe(self, split: Option<&Split>) -> String {
        match (self, split) {
            (Topology::Loopback, _) => "loopback: backends and prober in one namespace, 127.1.x.y:80".into(),
            (Topology::Veth, None) => "separate namespace over veth, one CPU only: backend and prober share it".into(),
            (Topology::Veth, Some(s)) => format!(
                "separate namespace over veth (203.0.113.x:8000-8249), backends and their RPS on CPU {}, prober on CPU {}",
                s.backend,
                cpus(&s.prober)
            ),
        }
    }

    /// The CPUs to keep apart, in the veth topology with two CPUs or more.
    pub fn split(self) -> Option<Split> {
        if self == Topology::Loopback {
            return None;
        }
        let all = sched_getaffinity(Pid::from_raw(0)).ok()?;
        let allowed: Vec<usize> = (0..CpuSet::count()).filter(|&c| all.is_set(c).unwrap_or(false)).collect();
        let (&backend, rest) = allowed.split_last()?;
        if rest.is_empty() {
            return None;
        }
        let mut prober = CpuSet::new();
        for &c in rest {
            prober.set(c).ok()?;
        }
        Some(Split { backend, prober })
    }

    /// Run single-threaded, before anything binds: leaves the calling thread
    /// in the backends' namespace, and returns the prober's to enter before the
    /// prober starts (none on loopback, where they are the same).
    pub fn enter_backend_side(self, n: usize) -> Result<Option<File>, String> {
        if self == Topology::Loopback {
            unshare(CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare: {e}"))?;
            lvs_agent::net::loopback::up().map_err(|e| e.to_string())?;
            return Ok(None);
        }
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare the prober's namespace: {e}"))?;
        lvs_agent::net::loopback::up().map_err(|e| e.to_string())?;
        let prober = File::open("/proc/self/ns/net").map_err(|e| format!("open /proc/self/ns/net: {e}"))?;
        // A mount namespace too, for a sysfs that shows this network
        // namespace's links (RPS is set there and nowhere else).
        unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)
            .map_err(|e| format!("unshare the backends' namespace: {e}"))?;
        private_sysfs()?;
        lvs_agent::net::loopback::up().map_err(|e| e.to_string())?;
        let prober_path = format!("/proc/{}/fd/{}", std::process::id(), prober.as_raw_fd());
        let mut script = format!("link add {BACKEND_LINK} type veth peer name {PROBER_LINK} netns {prober_path}\n");
        for a in 0..n.div_ceil(PORTS_PER_ADDRESS) {
            script += &format!("addr add 203.0.113.{}/24 dev {BACKEND_LINK}\n", a + 1);
        }
        script += &format!("link set {BACKEND_LINK} up\n");
        ip_batch(&script)?;
        if let Some(split) = self.split() {
            rps(BACKEND_LINK, split.backend)?;
        }
        Ok(Some(prober))
    }
}

/// Moves the calling thread into the prober's namespace and brings its end up.
pub fn enter_prober_side(prober: File) -> Result<(), String> {
    setns(&prober, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns to the prober's namespace: {e}"))?;
    ip_batch(&format!("addr add {PROBER_ADDR} dev {PROBER_LINK}\nlink set {PROBER_LINK} up\n"))
}

/// Pins the calling thread (and the threads it starts later).
pub fn pin(cpus: &CpuSet) -> Result<(), String> {
    sched_setaffinity(Pid::from_raw(0), cpus).map_err(|e| format!("sched_setaffinity: {e}"))
}

pub fn one_cpu(cpu: usize) -> CpuSet {
    let mut set = CpuSet::new();
    let _ = set.set(cpu);
    set
}

fn cpus(set: &CpuSet) -> String {
    let list: Vec<String> =
        (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).map(|c| c.to_string()).collect();
    list.join(",")
}

fn private_sysfs() -> Result<(), String> {
    use nix::mount::{mount, MsFlags};
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("make / private in the bench's mount namespace: {e}"))?;
    mount(Some("sysfs"), "/sys", Some("sysfs"), MsFlags::empty(), None::<&str>)
        .map_err(|e| format!("mount a sysfs for the backends' namespace on /sys: {e}"))
}

/// Steers every packet the backend link receives to `cpu`'s backlog.
fn rps(link: &str, cpu: usize) -> Result<(), String> {
    let queues = format!("/sys/class/net/{link}/queues");
    let entries = std::fs::read_dir(&queues).map_err(|e| format!("{queues}: {e}"))?;
    let mask = cpu_mask(cpu);
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("rx-") {
            let path = entry.path().join("rps_cpus");
            std::fs::write(&path, &mask).map_err(|e| format!("write {mask} to {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The sysfs form of a one-CPU mask: 32-bit hex words, commas between.
fn cpu_mask(cpu: usize) -> String {
    let words: Vec<String> =
        (0..=cpu / 32).rev().map(|w| format!("{:08x}", if w == cpu / 32 { 1u32 << (cpu % 32) } else { 0 })).collect();
    words.join(",")
}

fn ip_batch(script: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ip (iproute2): {e}"))?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(script.as_bytes()));
    let status = child.wait().map_err(|e| format!("ip: {e}"))?;
    match written {
        Some(Ok(())) if status.success() => Ok(()),
        _ => Err(format!("ip -batch failed ({status}) on:\n{script}")),
    }
}
