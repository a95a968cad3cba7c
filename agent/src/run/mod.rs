//! `lvs-agent run`: the agent itself, started and restarted by PID 1. From
//! top to bottom: signals, the config (or the state file's copy of it), the
//! host setup (`host`), what the role runs (`services`: a director's keeper,
//! a real server's HTTP server and workloads), ready; then the main loop,
//! which watches for a replaced config file (polled every second, and at
//! once on SIGHUP), for a `try` and for operator weights (`control`, at once
//! on SIGUSR1), and for what the management API asks (`asks`, woken by
//! the queue's own wake in the same poll), until it is stopped. The
//! management server (`manage`, serving `remote`) runs beside it when the
//! config has one; nothing else depends on it.

mod asks;
mod control;
mod current;
mod host;
mod manage;
pub mod remote;
mod services;

pub use control::{try_folder, weight_requests};

use current::Current;
use lvs_config as config;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use remote::AskQueue;
use services::{Services, Swap};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the config file and a try's deadline are looked at.
const POLL: Duration = Duration::from_secs(1);

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
    run_with(opts, remote::channel(opts.under_init))
}

/// [`run`] with the management API's queue and operations made by the caller
/// (a test runs the agent on a thread and asks it directly); they are
/// served when the config has management. Without them (no socket pair for
/// the wake) the agent runs without the API.
pub fn run_with(opts: &Options, api: std::io::Result<(AskQueue, std::sync::Arc<remote::Remote>)>) -> i32 {
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

    let (queue, remote) = match api {
        Ok((queue, remote)) => (Some(queue), Some(remote)),
        Err(e) => {
            crate::note!(error, "management: cannot make the main loop's wake ({e}); no management API");
            (None, None)
        }
    };
    let mut agent = Agent {
        opts,
        store,
        fingerprint: current::fingerprint(&opts.config),
        current,
        services: Some(services),
        trying: None,
        refused: None,
        looked: Instant::now(),
        queue,
        manage: manage::Management::new(remote),
    };
    // Ready means operable too: the API listens (or said why not) before it.
    agent.manage.start(&agent.current.loaded);
    host::mark_ready(&opts.run_dir);
    crate::note!(info, "ready");
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
    /// When the config file and the try folder were last looked at.
    looked: Instant,
    /// What the management API asks; None once stopping.
    queue: Option<AskQueue>,
    manage: manage::Management,
}

impl Agent<'_> {
    fn serve(&mut self, signals: &SignalFd) -> i32 {
        loop {
            let (signalled, asked) = match self.wait(signals) {
                Ok(woke) => woke,
                Err(e) => {
                    crate::note!(error, "waiting for signals failed: {e}");
                    self.stop();
                    return crate::cli_status::FAILED;
                }
            };
            let signal =
                if signalled { signals.read_signal().ok().flatten().map(|s| s.ssi_signo as i32) } else { None };
            self.weights();
            let stop = asked && self.answer_asks();
            match signal.map(Signal::try_from) {
                _ if stop => {
                    crate::note!(info, "asked to stop");
                    self.stop();
                    return 0;
                }
                Some(Ok(Signal::SIGHUP)) => self.look(true),
                Some(Ok(Signal::SIGUSR1)) => {}
                Some(Ok(sig)) => {
                    crate::note!(info, "received {sig}: stopping");
                    self.stop();
                    return 0;
                }
                _ => {}
            }
            // Asks coming in all the time must not hold up the poll.
            if self.looked.elapsed() >= POLL {
                self.look(false);
            }
            self.manage.keep_up(&self.current.loaded);
        }
    }

    /// Waits for a signal, an ask or the poll's second: which of the first two came.
    fn wait(&self, signals: &SignalFd) -> nix::Result<(bool, bool)> {
        let queue = self.queue.as_ref().map(AskQueue::wake_fd);
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        fds.extend(queue.map(|fd| PollFd::new(fd, PollFlags::POLLIN)));
        let left = POLL.saturating_sub(self.looked.elapsed());
        match poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::ZERO)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => Ok((false, false)),
            Ok(_) => {
                let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
                Ok((ready(&fds[0]), fds.get(1).is_some_and(ready)))
            }
            Err(e) => Err(e),
        }
    }

    /// The API first (whoever waits on it is told at once that the agent
    /// stops), then the services; the table stays in the kernel.
    fn stop(&mut self) {
        let _ = std::fs::remove_file(self.opts.run_dir.join("ready"));
        self.queue = None;
        self.manage.stop();
        if let Some(services) = self.services.take() {
            services.stop();
        }
    }

    /// Looks at the try folder, then the config file; applies what changed.
    fn look(&mut self, hup: bool) {
        self.looked = Instant::now();
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

    /// Reads, validates and applies a config; says how it went.
    fn swap_to(&mut self, path: &Path, why: &str) -> Swap {
        let text = match crate::capped::read_config(path) {
            Ok(t) => t,
            Err(e @ config::ConfigError::Read { .. }) => {
                let line = format!("config: {e} ({why}); the running config stays");
                crate::note!(error, "{line}");
                return Swap::Refused(line);
            }
            Err(e) => {
                let line = format!("config: invalid, the running config stays: {e}");
                crate::note!(error, "{line}");
                return Swap::Refused(line);
            }
        };
        if text == self.current.text() {
            if why == "SIGHUP" {
                crate::note!(info, "config: {} unchanged", path.display());
            }
            return Swap::Unchanged;
        }
        let hash = crate::state::format::fnv1a64(text.as_bytes());
        crate::note!(info, "config: reloading {} ({why})", path.display());
        let loaded = match config::parse(&text, path) {
            Ok(l) => l,
            Err(e) => {
                let line = format!("config: invalid, the running config stays: {e}");
                if self.refused != Some(hash) || why == "SIGHUP" {
                    crate::note!(error, "{line}");
                }
                self.refused = Some(hash);
                return Swap::Refused(line);
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
        let mut swap = Swap::Applied(format!("config: applied {}", path.display()));
        if let Some(services) = self.services.take() {
            let (services, swapped) = services.swap(&self.current, &next, &self.store);
            self.services = Some(services);
            swap = swapped;
        }
        self.current = next;
        swap
    }

    /// The config file as the API and a confirmed try write it.
    fn config_file(&self) -> crate::config_file::ConfigFile {
        crate::config_file::ConfigFile { path: self.opts.config.clone(), remount: self.opts.config_mount.clone() }
    }
}
