//! Host setup, in the order it must happen: the pid file, lo up, sysctls,
//! then links, addresses, routes and VIPs, then the sysctls the config no
//! longer sets put back; and the ready marker. A failure is logged and the
//! agent goes on: what could be set stays set, and the log says what is missing.

use lvs_config::model::Appliance;
use std::path::Path;

/// Before the config is read: the CLI finds the agent by it.
pub fn write_pid(run_dir: &Path) {
    let pid = run_dir.join("agent.pid");
    let written =
        std::fs::create_dir_all(run_dir).and_then(|()| std::fs::write(&pid, format!("{}\n", std::process::id())));
    if let Err(e) = written {
        crate::note!(warn, "cannot write {}: {e}", pid.display());
    }
}

/// What every config needs first: lo up, then the network setup.
pub fn set_up(model: &Appliance, run_dir: &Path) {
    if let Err(e) = crate::net::loopback::up() {
        crate::note!(error, "{e}");
    }
    apply_network(model, run_dir);
}

/// Sysctls, then links, addresses, routes and VIPs, then the sysctls the config
/// no longer sets are put back: ARP suppression must be in place before a real
/// server's VIP goes on lo, and stay until it is gone. A failure is logged and the agent
/// goes on: what could be set stays set, and the log says what is missing.
pub fn apply_network(model: &Appliance, run_dir: &Path) {
    let (proc_sys, sysctl_record) = (Path::new(crate::sysctl::PROC_SYS), run_dir.join("sysctl"));
    log_sysctl(crate::sysctl::apply(model, proc_sys, &sysctl_record));
    match crate::net::apply(model, &run_dir.join("net")) {
        Ok(report) => {
            for c in &report.changes {
                crate::note!(info, "network: {c}");
            }
            for n in &report.notes {
                crate::note!(warn, "network: {n}");
            }
            if report.changes.is_empty() {
                crate::note!(info, "network already as configured");
            }
        }
        Err(e) => crate::note!(error, "network: {e}"),
    }
    // After the network: a VIP leaves lo before ARP suppression is lifted.
    log_sysctl(crate::sysctl::put_back(model, proc_sys, &sysctl_record));
}

fn log_sysctl(result: Result<crate::sysctl::SysctlReport, crate::sysctl::SysctlError>) {
    let (changes, notes) = match result {
        Ok(report) => (report.changes, report.notes),
        Err(e) => {
            crate::note!(error, "sysctl: {e}");
            (e.applied, e.notes)
        }
    };
    for c in &changes {
        crate::note!(info, "sysctl: {c}");
    }
    for n in &notes {
        crate::note!(warn, "sysctl: {n}");
    }
}

pub fn mark_ready(run_dir: &Path) {
    let ready = run_dir.join("ready");
    let written = std::fs::create_dir_all(run_dir).and_then(|()| std::fs::write(&ready, b"ready\n"));
    if let Err(e) = written {
        crate::note!(warn, "cannot write {}: {e}", ready.display());
    }
}
