//! `lvs-agent run`: the agent itself, started and restarted by PID 1.
//! It loads the config, sets up the network and sysctls, then on a director
//! programs the IPVS table and keeps it so (health checks, drift repair), or on
//! a real server starts the HTTP server and workloads; says it is ready, and
//! waits to be stopped. Reloading a replaced file comes with issue 7.

mod director;

use crate::config::{self, file::LogLevel, model::Role};
use nix::sys::signal::{SigSet, Signal};
use std::path::{Path, PathBuf};

pub fn level_filter(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    }
}

pub struct Options {
    pub config: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub log_level: Option<log::LevelFilter>,
    /// Where the ready marker and the log go (/run/lvs on the appliance).
    pub run_dir: PathBuf,
}

/// Runs until SIGTERM or SIGINT. Returns the exit status.
pub fn run(opts: &Options) -> i32 {
    crate::logging::init("lvs-agent", opts.log_level.unwrap_or(log::LevelFilter::Info));
    if let Err(e) = crate::logging::attach_file(&opts.run_dir.join("agent.log")) {
        crate::note!(warn, "cannot write {}/agent.log: {e}", opts.run_dir.display());
    }
    // Block the stop signals before anything else so none is lost while starting.
    let mut stop = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        stop.add(s);
    }
    if let Err(e) = stop.thread_block() {
        crate::note!(error, "cannot block signals: {e}");
        return 1;
    }

    let loaded = match config::load(&opts.config) {
        Ok(l) => l,
        Err(e) => {
            crate::note!(error, "config {} is not usable; not starting:\n{e}", opts.config.display());
            return crate::cli_status::INVALID;
        }
    };
    if opts.log_level.is_none() {
        crate::logging::set_level(level_filter(loaded.model.log_level));
    }
    for w in &loaded.warnings {
        crate::note!(warn, "{w}");
    }
    let state_dir = opts.state_dir.clone().unwrap_or_else(|| loaded.model.state_dir.clone());
    crate::note!(info, "config {}: {}, state in {}", opts.config.display(), loaded.model.role.name(), state_dir.display());

    if let Err(e) = crate::net::loopback::up() {
        crate::note!(error, "{e}");
    }
    apply_network(&loaded.model, &opts.run_dir);
    let mut services = Services::default();
    match &loaded.model.role {
        Role::Director(director) => services.ipvs = Some(director::Keeper::start(director.clone())),
        Role::RealServer(rs) => services = start_real_server(rs),
    }

    mark_ready(&opts.run_dir);
    crate::note!(info, "ready");

    loop {
        match stop.wait() {
            Ok(Signal::SIGHUP) => crate::note!(info, "SIGHUP: reloading the config is not implemented yet"),
            Ok(sig) => {
                crate::note!(info, "received {sig}: stopping");
                let _ = std::fs::remove_file(opts.run_dir.join("ready"));
                services.stop();
                return 0;
            }
            Err(e) => {
                crate::note!(error, "waiting for signals failed: {e}");
                return 1;
            }
        }
    }
}

/// Sysctls, then links, addresses, routes and VIPs: ARP suppression must be in
/// place before a real server's VIP goes on lo. A failure is logged and the agent
/// goes on: what could be set stays set, and the log says what is missing.
fn apply_network(model: &crate::config::model::Appliance, run_dir: &Path) {
    match crate::sysctl::apply(model, Path::new(crate::sysctl::PROC_SYS)) {
        Ok(changes) => {
            for c in &changes {
                crate::note!(info, "sysctl: {c}");
            }
        }
        Err(e) => crate::note!(error, "sysctl: {e}"),
    }
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
}

/// What a real server runs until the agent stops: the built-in HTTP server and
/// the supervised workloads.
#[derive(Default)]
struct Services {
    ipvs: Option<director::Keeper>,
    http: Option<crate::http::HttpServer>,
    workloads: Option<crate::workload::Handle>,
}

impl Services {
    fn stop(self) {
        if let Some(ipvs) = self.ipvs {
            ipvs.stop();
        }
        if let Some(http) = self.http {
            http.stop();
        }
        if let Some(workloads) = self.workloads {
            let report = workloads.stop();
            crate::note!(info, "workloads stopped: {report}");
        }
    }
}

fn start_real_server(rs: &crate::config::model::RealServer) -> Services {
    let http = rs.http.as_ref().and_then(|spec| match crate::http::serve(spec) {
        Ok(server) => {
            crate::note!(info, "http: serving on {}", server.local_addr());
            Some(server)
        }
        Err(e) => {
            crate::note!(error, "http: {e}");
            None
        }
    });
    let workloads = if rs.workloads.is_empty() {
        None
    } else {
        match crate::workload::start(rs.workloads.clone()) {
            Ok(handle) => Some(handle),
            Err(e) => {
                crate::note!(error, "{e}");
                None
            }
        }
    };
    Services { ipvs: None, http, workloads }
}

fn mark_ready(run_dir: &Path) {
    let ready = run_dir.join("ready");
    let written = std::fs::create_dir_all(run_dir).and_then(|()| std::fs::write(&ready, b"ready\n"));
    if let Err(e) = written {
        crate::note!(warn, "cannot write {}: {e}", ready.display());
    }
}
