//! `lvs-agent` as PID 1 of the appliance: mount, load modules, find the config,
//! supervise the agent, shut down cleanly. The order and the console lines are
//! in docs/BOOT.md. PID 1 never exits and never panics: every step logs its
//! failure and the boot goes on with what it has.

mod agent_args;
mod backoff;
pub mod child;
mod cmdline;
mod modules;
mod mount;
mod shutdown;
mod supervise;
pub mod system;

pub use agent_args::CONFIG_MOUNT;
pub use backoff::Backoff;
pub use cmdline::Cmdline;
pub use modules::{load_all, Report};
pub use mount::find_partition;

use std::path::{Path, PathBuf};
use std::time::Duration;
use supervise::{Running, Stop, Supervisor};
use system::{Linux, System};

pub const MODULE_LIST: &str = "/etc/lvs/modules";
pub const BUILT_IN_CONFIG: &str = "/etc/lvs/appliance.ron";
pub const PARTITION_CONFIG: &str = "/config/appliance.ron";
pub const RUN_DIR: &str = "/run/lvs";

/// Entry point when the process is PID 1.
pub fn main() -> ! {
    let mut running = Running { agent: None, hook: None, config: None };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| boot(&mut running)));
    match outcome {
        Ok(stop) => shutdown::shutdown(&running, stop),
        Err(_) => {
            crate::note!(error, "PID 1 hit a bug and lost its supervisor; reaping only. Please report it.");
            loop {
                shutdown::reap_all();
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn boot(running: &mut Running) -> Stop {
    let mut sys = Linux;
    mount::mount_pseudo(&mut sys);
    attach_console();
    crate::logging::init("lvs-init", log::LevelFilter::Info);
    if let Err(e) = crate::logging::attach_file(&Path::new(RUN_DIR).join("init.log")) {
        crate::note!(warn, "cannot write {RUN_DIR}/init.log: {e}");
    }
    crate::note!(info, "started");
    // ctrl-alt-del becomes SIGINT to us rather than an immediate reboot.
    if let Err(e) = nix::sys::reboot::set_cad_enabled(false) {
        crate::note!(warn, "cannot route ctrl-alt-del to PID 1: {e}");
    }

    let cmdline = Cmdline::parse(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default());
    for p in &cmdline.problems {
        crate::note!(warn, "{p}");
    }
    if let Some(level) = cmdline.loglevel {
        crate::logging::set_level(level);
    }

    let list = std::fs::read_to_string(MODULE_LIST).unwrap_or_else(|e| {
        crate::note!(warn, "cannot read {MODULE_LIST}: {e}; loading no modules");
        String::new()
    });
    let report = load_all(&mut sys, &list);
    crate::note!(info, "modules loaded ({} ok, {} failed)", report.ok, report.failed.len());

    let patience = Duration::from_secs(2);
    let sysfs = Path::new("/sys");
    let dev = Path::new("/dev");
    let has_config =
        mount::mount_by_label(&mut sys, sysfs, dev, mount::CONFIG_LABEL, Path::new(CONFIG_MOUNT), true, patience);
    let has_state =
        mount::mount_by_label(&mut sys, sysfs, dev, mount::STATE_LABEL, Path::new("/state"), false, patience);

    let config = cmdline.config.clone().unwrap_or_else(|| {
        if has_config && Path::new(PARTITION_CONFIG).exists() {
            PathBuf::from(PARTITION_CONFIG)
        } else {
            PathBuf::from(BUILT_IN_CONFIG)
        }
    });
    let state_dir = if has_state { PathBuf::from("/state") } else { Path::new(RUN_DIR).join("state") };
    apply_identity(&mut sys, &config, cmdline.loglevel.is_some());
    running.config = Some(config.clone());

    let program = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/init"));
    let agent = agent_args::agent_args(&agent_args::Found {
        program: &program,
        config: &config,
        config_partition: has_config,
        state_dir: &state_dir,
        log_level: cmdline.loglevel,
    });
    let supervisor = Supervisor {
        agent,
        run: cmdline.run.clone(),
        ready_file: Path::new(RUN_DIR).join("ready"),
        pid_file: Path::new(RUN_DIR).join("agent.pid"),
    };
    match supervisor.run(running) {
        Ok(stop) => stop,
        Err(e) => {
            crate::note!(error, "cannot watch signals ({e}); reaping only, and no clean shutdown");
            loop {
                shutdown::reap_all();
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// The kernel opens /dev/console for init only if the initramfs has the node;
/// after mounting devtmpfs we make sure stdin, stdout and stderr are the console.
fn attach_console() {
    if let Ok(console) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/console") {
        let _ = nix::unistd::dup2_stdin(&console);
        let _ = nix::unistd::dup2_stdout(&console);
        let _ = nix::unistd::dup2_stderr(&console);
    }
}

/// Hostname and log level from the config. An invalid config is logged here
/// and again by the agent, which will not start with it.
fn apply_identity(sys: &mut dyn System, config: &Path, level_from_cmdline: bool) {
    match crate::capped::load_config(config) {
        Ok(loaded) => {
            if let Some(name) = &loaded.model.hostname {
                match sys.set_hostname(name) {
                    Ok(()) => crate::note!(info, "hostname {name}"),
                    Err(e) => crate::note!(warn, "cannot set hostname {name}: {e}"),
                }
            }
            if !level_from_cmdline {
                crate::logging::set_level(crate::logging::level_filter(loaded.model.log_level));
            }
        }
        Err(e) => crate::note!(error, "config {}: {e}", config.display()),
    }
}
