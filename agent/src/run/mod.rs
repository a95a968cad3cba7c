//! `lvs-agent run`: the agent itself, started and restarted by PID 1. From
//! top to bottom: signals, the config (or the state file's copy of it), the
//! host setup (`host`), what the role runs (`services`: a director's keeper,
//! a real server's HTTP server and workloads), ready; then the main loop,
//! which watches for a replaced config file (polled every second, and at
//! once on SIGHUP), for a `try` and for operator weights (`control`, at once
//! on SIGUSR1), until it is stopped.

mod control;
mod current;
mod host;
mod services;

pub use control::{try_folder, weight_requests};

use current::Current;
use lvs_config as config;
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
    /// The read-only mount the config is on, remounted read-write to write
    /// a change that lasts (`crate::config_file::ConfigFile::remount`).
    pub config_mount: Option<PathBuf>,
    /// Whether the appliance's PID 1 started the agent (it reboots and powers off).
    pub under_init: bool,
}

/// Runs until SIGTERM or SIGINT. Returns the exit status.
pub fn run(opts: &Options) -> i32 {
    crate::logging::init("lvs-agent", opts.log_level.unwrap_or(log::LevelFilter::Info));
    if let Err(e) = crate::logging::attach_file(&opts.run_dir.join("agent.log")) {
        crate::note!(warn, "cannot write {}/agent.log: {e}", opts.run_dir.display());
    }
    let signals = match block_signals() {
        Ok(fd) => fd,
        Err(e) => {
            crate::note!(error, "cannot read signals: {e}");
            return crate::cli_status::FAILED;
        }
    };
    host::write_pid(&opts.run_dir);

    let from_file = current::read_or_prev(&opts.config);
    let state_dir = opts
        .state_dir
        .clone()
        .or_else(|| from_file.as_ref().ok().map(|c| c.loaded.model.state_dir.clone()))
        .unwrap_or_else(|| PathBuf::from(config::model::DEFAULT_STATE_DIR));
    let store = crate::state::Store::new(&state_dir);
    let saved = current::load_state(&store);
    let current = match from_file {
        Ok(c) => c,
        Err(e) => match Current::from_state(saved.as_ref()) {
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

    host::set_up(&current.loaded.model, &opts.run_dir);
    let services = Services::start(&current, &store, saved);
    host::mark_ready(&opts.run_dir);
    crate::note!(info, "ready");

    let mut agent = Agent {
        opts,
        store,
        fingerprint: current::fingerprint(&opts.config),
        current,
        services: Some(services),
        trying: None,
        refused: None,
    };
    agent.serve(&signals)
}

/// Blocks the signals before anything else (threads inherit the mask), so
/// that none is lost while starting; they are read from a signalfd.
fn block_signals() -> nix::Result<SignalFd> {
    let mut mask = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGUSR1] {
        mask.add(s);
    }
    mask.thread_block()?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)
}

struct Agent<'o> {
    opts: &'o Options,
    store: crate::state::Store,
    /// Of the config file when it was last read.
    fingerprint: Option<current::Fingerprint>,
    current: Current,
    /// None only while one config's services give way to the next's.
    services: Option<Services>,
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
                    return crate::cli_status::FAILED;
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
                    if let Some(services) = self.services.take() {
                        services.stop();
                    }
                    return 0;
                }
                _ => self.look(false),
            }
        }
    }

    /// Looks at the try folder, then the config file; applies what changed.
    fn look(&mut self, hup: bool) {
        if self.tries() {
            return;
        }
        let config = self.opts.config.clone();
        let now = current::fingerprint(&config);
        if hup || now != self.fingerprint {
            self.fingerprint = now;
            self.swap_to(&config, if hup { "SIGHUP" } else { "the file changed" });
        }
    }

    /// Reads, validates and applies a config; false when it was not applied.
    fn swap_to(&mut self, path: &Path, why: &str) -> bool {
        let text = match crate::capped::read_config(path) {
            Ok(t) => t,
            Err(e @ config::ConfigError::Read { .. }) => {
                crate::note!(error, "config: {e} ({why}); the running config stays");
                return false;
            }
            Err(e) => {
                crate::note!(error, "config: invalid, the running config stays: {e}");
                return false;
            }
        };
        if text == self.current.text() {
            if why == "SIGHUP" {
                crate::note!(info, "config: {} unchanged", path.display());
            }
            return true;
        }
        let hash = crate::state::format::fnv1a64(text.as_bytes());
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
        let next = Current { path: path.to_path_buf(), loaded };
        host::apply_network(&next.loaded.model, &self.opts.run_dir);
        if let Some(services) = self.services.take() {
            self.services = Some(services.swap(&self.current, &next, &self.store));
        }
        self.current = next;
        true
    }
}
