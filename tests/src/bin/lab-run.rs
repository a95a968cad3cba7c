//! `make run`: builds an image of CONFIG with the management API on, boots
//! it with the serial console on this terminal (ctrl-a x quits qemu), and
//! prints the command that reaches the API from this machine.
//!
//!     lab-run --config FILE --out DIR --pki DIR --agent FILE --image-tool FILE [--port N] [--disk]
//!
//! The VM's one NIC is on qemu's user-mode network, restricted (the guest
//! reaches nothing through it); only the API's port is forwarded to it, from
//! 127.0.0.1:N (9443, or a free port if that one is taken). The config booted
//! is CONFIG with an address for that NIC and `management` added
//! (lvs_tests::make_run), written beside the image. The pki is made with
//! `lvs-agent pki init` if DIR has none, and goes onto the image with
//! `lvs-image build --pki`; booted without --disk (the kernel and initramfs),
//! the appliance's ca.pem and server.pem are put into the initramfs at the
//! same path instead, since there is no config partition then.

use lvs_tests::lab::{free_port, Ovmf, Qemu, UserNet};
use lvs_tests::make_run::{self, RunConfig};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

struct Args {
    config: PathBuf,
    out: PathBuf,
    pki: PathBuf,
    agent: PathBuf,
    image_tool: PathBuf,
    port: u16,
    disk: bool,
}

const USAGE: &str =
    "usage: lab-run --config FILE --out DIR --pki DIR --agent FILE --image-tool FILE [--port N] [--disk]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut config, mut out, mut pki, mut agent, mut image_tool) = (None, None, None, None, None);
    let (mut port, mut disk) = (make_run::GUEST_PORT, false);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value; {USAGE}"));
        match a.as_str() {
            "--config" => config = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--pki" => pki = Some(PathBuf::from(value()?)),
            "--agent" => agent = Some(PathBuf::from(value()?)),
            "--image-tool" => image_tool = Some(PathBuf::from(value()?)),
            "--port" => port = value()?.parse().map_err(|_| format!("--port takes a port number; {USAGE}"))?,
            "--disk" => disk = true,
            _ => return Err(format!("unknown argument {a:?}; {USAGE}")),
        }
    }
    let need = |v: Option<PathBuf>, name: &str| v.ok_or_else(|| format!("{name} is needed; {USAGE}"));
    Ok(Args {
        config: need(config, "--config")?,
        out: need(out, "--out")?,
        pki: need(pki, "--pki")?,
        agent: need(agent, "--agent")?,
        image_tool: need(image_tool, "--image-tool")?,
        port,
        disk,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("lab-run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<std::convert::Infallible, String> {
    let a = parse_args()?;
    let loaded = lvs_config::load(&a.config).map_err(|e| format!("{}: {e}", a.config.display()))?;
    let source = a.config.display().to_string();
    let run = make_run::derive(loaded.raw.clone(), &loaded.text, &source)?;
    let hostname = loaded.model.hostname.clone().unwrap_or_else(|| "lvs-appliance".into());
    let run_config = a.out.with_extension("ron");
    write(&run_config, &run.text)?;
    lvs_config::parse(&run.text, &run_config).map_err(|e| format!("the config make run derived is invalid: {e}"))?;

    pki_init(&a, &hostname, &run)?;
    build_image(&a, &run_config, &run)?;

    let port = free_port(a.port).map_err(|e| e.to_string())?;
    let net = UserNet::new(run.net).and_then(|n| n.forward(port, run.guest)).map_err(|e| e.to_string())?;
    let mut cmd = qemu(&a, &net, run.nics)?;
    let pem = |f: &str| a.pki.join(f).display().to_string();
    let endpoint = format!("127.0.0.1:{port}");
    eprintln!("lab-run: booting {} (ctrl-a x quits; `lvs-agent reboot` reboots the VM)", a.out.display());
    eprintln!("lab-run: config {} (management on {}, forwarded from {endpoint})", run_config.display(), run.guest);
    eprintln!("lab-run: once the console says ready, from another terminal in this folder:");
    eprintln!();
    eprintln!(
        "    {} status --endpoint {endpoint} --identity {} --ca {}",
        a.agent.display(),
        pem("admin.pem"),
        pem("ca.pem")
    );
    eprintln!();
    eprintln!(
        "lab-run: or export LVS_ENDPOINT={endpoint} LVS_IDENTITY={} LVS_CA={} and leave the flags out",
        pem("admin.pem"),
        pem("ca.pem")
    );
    let e = cmd.exec();
    Err(format!("cannot start qemu: {e}"))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    lvs_tests::write_file(path, text)
}

/// `lvs-agent pki init` unless the folder has a CA already.
fn pki_init(a: &Args, hostname: &str, run: &RunConfig) -> Result<(), String> {
    if a.pki.join("ca.pem").is_file() {
        eprintln!("lab-run: using the pki in {} (delete it for a new one)", a.pki.display());
        return Ok(());
    }
    let mut cmd = Command::new(&a.agent);
    cmd.args(["pki", "init"]).arg(&a.pki).args(["--name", hostname]);
    cmd.args(["--address", "127.0.0.1", "--address", &run.guest.ip().to_string()]);
    checked(cmd, "lvs-agent pki init")
}

fn build_image(a: &Args, run_config: &Path, run: &RunConfig) -> Result<(), String> {
    let mut cmd = Command::new(&a.image_tool);
    cmd.arg("build").arg("--config").arg(run_config).arg("--agent").arg(&a.agent);
    cmd.arg("--out").arg(&a.out).arg("--pki").arg(&a.pki);
    if !a.disk {
        // No config partition without the disk: the same files, in the initramfs.
        for f in ["ca.pem", "server.pem"] {
            cmd.arg("--extra").arg(format!("{}:{}/{f}", a.pki.join(f).display(), run.pki));
        }
    }
    checked(cmd, "lvs-image build")
}

fn checked(mut cmd: Command, what: &str) -> Result<(), String> {
    let status =
        cmd.status().map_err(|e| format!("{what}: cannot start {}: {e}", cmd.get_program().to_string_lossy()))?;
    status.success().then_some(()).ok_or_else(|| format!("{what} failed ({status})"))
}

fn qemu(a: &Args, net: &UserNet, nics: usize) -> Result<Command, String> {
    let qemu = Qemu::locate().map_err(|e| e.to_string())?;
    let mut cmd = qemu.command();
    cmd.args(["-accel", "tcg", "-m", "256", "-nodefaults", "-no-user-config", "-nographic"]);
    // No -no-reboot: `lvs-agent reboot` boots the VM again; a power-off ends qemu.
    cmd.args(["-serial", "mon:stdio"]);
    cmd.args(["-netdev", &net.netdev("n0"), "-device", "virtio-net-pci,netdev=n0,romfile="]);
    // The config's other ethN, each on a hub of its own: they exist, and lead nowhere.
    for i in 1..nics {
        cmd.arg("-netdev").arg(format!("hubport,id=h{i},hubid={i}"));
        cmd.arg("-device").arg(format!("virtio-net-pci,netdev=h{i},romfile="));
    }
    if a.disk {
        let ovmf = Ovmf::locate().map_err(|e| e.to_string())?;
        let vars = ovmf.vars_copy(&a.out.join("OVMF_VARS.run.fd")).map_err(|e| e.to_string())?;
        cmd.arg("-drive").arg(format!("if=pflash,format=raw,unit=0,readonly=on,file={}", ovmf.code.display()));
        cmd.arg("-drive").arg(format!("if=pflash,format=raw,unit=1,file={}", vars.display()));
        // snapshot: running the demo must not change the image on disk (a
        // config applied through the API lasts until qemu ends).
        cmd.arg("-drive").arg(format!("if=virtio,format=raw,snapshot=on,file={}", a.out.join("disk.img").display()));
    } else {
        cmd.arg("-kernel").arg(a.out.join("vmlinux"));
        cmd.arg("-initrd").arg(a.out.join("initramfs.cpio.gz"));
        cmd.args(["-append", "console=ttyS0 panic=-1 quiet"]);
    }
    Ok(cmd)
}
