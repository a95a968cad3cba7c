//! `lvs-agent run`: the agent itself, started and restarted by PID 1.
//! It loads the config, sets up the network and sysctls, then on a director
//! programs the IPVS table and keeps it so (health checks, drift repair, the
//! state file), or on a real server starts the HTTP server and workloads; says
//! it is ready, and then watches for a replaced config file (polled every
//! second, and at once on SIGHUP), for a `try` and for operator weights (at
//! once on SIGUSR1), until it is stopped.

mod director;
mod services;
pub mod swap;
pub mod weight;

use crate::state::format::fnv1a64;
use crate::state::{now_ms, SavedConfig, StateFile, Store};
use lvs_config::{self as config, Loaded};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use services::Services;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// How often the config file and a try's deadline are looked at.
const POLL_MS: u16 = 1000;

pub struct Options {
    pub config: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub log_level: Option<log::LevelFilter>,
    /// Where the ready marker, the pid, a try and the log go (/run/lvs on the appliance).
    pub run_dir: PathBuf,
}

/// The config that runs, and where it came from.
struct Current {
    path: PathBuf,
    text: String,
    loaded: Loaded,
}

impl Current {
    fn saved(&self) -> SavedConfig {
        SavedConfig {
            path: self.path.display().to_string(),
            hash: format!("{:016x}", fnv1a64(self.text.as_bytes())),
            applied_at_ms: now_ms(),
            text: self.text.clone(),
        }
    }
}

/// Runs until SIGTERM or SIGINT. Returns the exit status.
pub fn run(opts: &Options) -> i32 {
    crate::logging::init("lvs-agent", opts.log_level.unwrap_or(log::LevelFilter::Info));
    if let Err(e) = crate::logging::attach_file(&opts.run_dir.join("agent.log")) {
        crate::note!(warn, "cannot write {}/agent.log: {e}", opts.run_dir.display());
    }
    // Block the signals before anything else (threads inherit the mask), so
    // none is lost while starting; they are read from a signalfd.
    let mut mask = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGUSR1] {
        mask.add(s);
    }
    if let Err(e) = mask.thread_block() {
        crate::note!(error, "cannot block signals: {e}");
        return 1;
    }
    let signals = match SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => {
            crate::note!(error, "cannot read signals: {e}");
            return 1;
        }
    };
    write_pid(&opts.run_dir);

    let from_file = read_config(&opts.config);
    let state_dir = opts
        .state_dir
        .clone()
        .or_else(|| from_file.as_ref().ok().map(|c| c.loaded.model.state_dir.clone()))
        .unwrap_or_else(|| PathBuf::from(config::model::DEFAULT_STATE_DIR));
    let store = Store::new(&state_dir);
    let saved = load_state(&store);
    let current = match from_file {
        Ok(c) => c,
        Err(e) => match saved_config(saved.as_ref()) {
            Some(c) => {
                crate::note!(
                    error,
                    "config {} is not usable:\n{e}\ngoing on with the copy in the state file, of {} (fix the file; it is read again when it changes)",
                    opts.config.display(),
                    c.path.display()
                );
                c
            }
            None => {
                crate::note!(error, "config {} is not usable; not starting:\n{e}", opts.config.display());
                return crate::cli_status::INVALID;
            }
        },
    };
    if opts.log_level.is_none() {
        crate::logging::set_level(crate::logging::level_filter(current.loaded.model.log_level));
    }
    for w in &current.loaded.warnings {
        crate::note!(warn, "{w}");
    }
    crate::note!(
        info,
        "config {}: {}, state in {}",
        current.path.display(),
        current.loaded.model.role.name(),
        state_dir.display()
    );

    if let Err(e) = crate::net::loopback::up() {
        crate::note!(error, "{e}");
    }
    apply_network(&current.loaded.model, &opts.run_dir);
    let services = Services::start(&current, &store, saved);

    mark_ready(&opts.run_dir);
    crate::note!(info, "ready");

    let mut agent = Agent {
        opts,
        store,
        fingerprint: swap::fingerprint(&opts.config),
        current,
        services,
        trying: None,
        refused: None,
    };
    agent.serve(&signals)
}

struct Agent<'o> {
    opts: &'o Options,
    store: Store,
    /// Of the config file when it was last read.
    fingerprint: Option<swap::Fingerprint>,
    current: Current,
    services: Services,
    /// The deadline of the try that runs.
    trying: Option<u64>,
    /// The hash of the last text refused, so that a poll does not log it again.
    refused: Option<u64>,
}

impl Agent<'_> {
    fn serve(&mut self, signals: &SignalFd) -> i32 {
        loop {
            let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
            let woke = match poll(&mut fds, PollTimeout::from(POLL_MS)) {
                Ok(n) => n > 0,
                Err(nix::errno::Errno::EINTR) => false,
                Err(e) => {
                    crate::note!(error, "waiting for signals failed: {e}");
                    return 1;
                }
            };
            let signal = if woke { signals.read_signal().ok().flatten().map(|s| s.ssi_signo as i32) } else { None };
            self.weights();
            match signal.map(Signal::try_from) {
                Some(Ok(Signal::SIGHUP)) => self.look(true),
                Some(Ok(Signal::SIGUSR1)) => {}
                Some(Ok(sig)) => {
                    crate::note!(info, "received {sig}: stopping");
                    let _ = std::fs::remove_file(self.opts.run_dir.join("ready"));
                    std::mem::take(&mut self.services).stop();
                    return 0;
                }
                _ => self.look(false),
            }
        }
    }

    /// Applies the operators' weight requests waiting in the run directory;
    /// the log says what each did, or why not.
    fn weights(&mut self) {
        for request in weight::pending(&self.opts.run_dir) {
            let result = std::fs::read_to_string(&request)
                .map_err(|e| format!("cannot read {}: {e}", request.display()))
                .and_then(|text| weight::Request::from_text(&text))
                .and_then(|r| self.services.set_weight(r));
            if let Err(e) = result {
                crate::note!(warn, "weight: {e}");
            }
            let _ = std::fs::remove_file(&request);
        }
    }

    /// Looks at the try folder and the config file; applies what changed.
    fn look(&mut self, hup: bool) {
        let config = self.opts.config.clone();
        match swap::step(swap::read(&self.opts.run_dir), now_ms()) {
            swap::Step::Trying(t) => {
                if self.trying != Some(t.deadline_ms) {
                    let left = t.deadline_ms.saturating_sub(now_ms()) / 1000;
                    crate::note!(
                        info,
                        "config: trying {} for {left} s; `lvs-agent confirm` keeps it",
                        t.candidate.display()
                    );
                    if self.swap_to(&t.candidate, "a try") {
                        self.trying = Some(t.deadline_ms);
                    } else {
                        let _ = swap::clear(&self.opts.run_dir);
                    }
                }
                return;
            }
            swap::Step::Expired(t) => {
                let _ = swap::clear(&self.opts.run_dir);
                if self.trying.take().is_some() {
                    crate::note!(
                        warn,
                        "config: the try of {} was not confirmed in time; going back to {}",
                        t.candidate.display(),
                        config.display()
                    );
                    self.fingerprint = swap::fingerprint(&config);
                    self.swap_to(&config, "the try expired");
                }
                return;
            }
            swap::Step::Confirmed(_) => {
                let _ = swap::clear(&self.opts.run_dir);
                if self.trying.take().is_some() {
                    match crate::state::store::write_atomically(&config, self.current.text.as_bytes()) {
                        Ok(()) => crate::note!(info, "config: try confirmed; {} now holds it", config.display()),
                        Err(e) => crate::note!(
                            error,
                            "config: try confirmed, but {e}; it runs until the agent restarts, then {} does",
                            config.display()
                        ),
                    }
                    self.fingerprint = swap::fingerprint(&config);
                }
                return;
            }
            swap::Step::None => self.trying = None,
        }
        let now = swap::fingerprint(&config);
        if hup || now != self.fingerprint {
            self.fingerprint = now;
            self.swap_to(&config, if hup { "SIGHUP" } else { "the file changed" });
        }
    }

    /// Reads, validates and applies a config; false when it was not applied.
    fn swap_to(&mut self, path: &Path, why: &str) -> bool {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                crate::note!(error, "config: cannot read {} ({why}): {e}; the running config stays", path.display());
                return false;
            }
        };
        if text == self.current.text {
            if why == "SIGHUP" {
                crate::note!(info, "config: {} unchanged", path.display());
            }
            return true;
        }
        let hash = fnv1a64(text.as_bytes());
        crate::note!(info, "config: reloading {} ({why})", path.display());
        let loaded = match config::parse(&text, path) {
            Ok(l) => l,
            Err(e) => {
                if self.refused != Some(hash) || why == "SIGHUP" {
                    crate::note!(error, "config: invalid, the running config stays: {e}");
                }
                self.refused = Some(hash);
                return false;
            }
        };
        self.refused = None;
        for w in &loaded.warnings {
            crate::note!(warn, "{w}");
        }
        if self.opts.log_level.is_none() {
            crate::logging::set_level(crate::logging::level_filter(loaded.model.log_level));
        }
        let next = Current { path: path.to_path_buf(), text, loaded };
        apply_network(&next.loaded.model, &self.opts.run_dir);
        let old = std::mem::take(&mut self.services);
        self.services = old.swap(&self.current, &next, &self.store);
        self.current = next;
        true
    }
}

fn read_config(path: &Path) -> Result<Current, config::ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| config::ConfigError::Read { path: path.to_path_buf(), source })?;
    let loaded = config::parse(&text, path)?;
    Ok(Current { path: path.to_path_buf(), text, loaded })
}

/// The state file, or None with a line saying why.
fn load_state(store: &Store) -> Option<StateFile> {
    match store.load() {
        Ok(Some(state)) => {
            let age = now_ms().saturating_sub(state.written_at_ms) / 1000;
            crate::note!(info, "state: read {}, written {age} s ago", store.path().display());
            Some(state)
        }
        Ok(None) => {
            crate::note!(info, "state: no saved state in {}; starting from the config", store.path().display());
            None
        }
        Err(e) => {
            crate::note!(warn, "state: ignored {e}; starting from the config");
            None
        }
    }
}

fn saved_config(state: Option<&StateFile>) -> Option<Current> {
    let saved = state?.config.as_ref()?;
    let path = PathBuf::from(&saved.path);
    let loaded = config::parse(&saved.text, &path).ok()?;
    Some(Current { path, text: saved.text.clone(), loaded })
}

fn write_pid(run_dir: &Path) {
    let pid = run_dir.join("agent.pid");
    let written =
        std::fs::create_dir_all(run_dir).and_then(|()| std::fs::write(&pid, format!("{}\n", std::process::id())));
    if let Err(e) = written {
        crate::note!(warn, "cannot write {}: {e}", pid.display());
    }
}

/// Sysctls, then links, addresses, routes and VIPs, then the sysctls the config
/// no longer sets are put back: ARP suppression must be in place before a real
/// server's VIP goes on lo, and stay until it is gone. A failure is logged and the agent
/// goes on: what could be set stays set, and the log says what is missing.
fn apply_network(model: &lvs_config::model::Appliance, run_dir: &Path) {
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

fn mark_ready(run_dir: &Path) {
    let ready = run_dir.join("ready");
    let written = std::fs::create_dir_all(run_dir).and_then(|()| std::fs::write(&ready, b"ready\n"));
    if let Err(e) = written {
        crate::note!(warn, "cannot write {}: {e}", ready.display());
    }
}
