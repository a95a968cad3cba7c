//! The management server beside the main loop: started when the config has
//! `management`, restarted when a swap changes it (a changed pki folder with
//! the same config is taken up at the next restart of the agent), stopped
//! first when the agent stops. A server that cannot start is logged and the
//! agent runs on without it: the load balancer never depends on the API.

use super::remote::Remote;
use crate::manage::{self, ManageServer, Operations};
use lvs_config::Loaded;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a listen address that is not on the machine is tried again.
const RETRY: Duration = Duration::from_secs(5);

pub struct Management {
    /// What the server serves; None when the agent has no queue for it.
    remote: Option<Arc<Remote>>,
    server: Option<ManageServer>,
    /// The config's management the server was (or failed to be) started for.
    started_for: Option<lvs_config::model::Management>,
    /// The server being replaced stops on a thread of its own: its requests
    /// may be waiting on the main loop, which must go on answering them.
    stopping: Option<JoinHandle<()>>,
    /// When to try again to listen on an address that was not there.
    retry_at: Option<Instant>,
}

impl Management {
    pub fn new(remote: Option<Arc<Remote>>) -> Management {
        Management { remote, server: None, started_for: None, stopping: None, retry_at: None }
    }

    /// Starts what `loaded` asks for, if anything.
    pub fn start(&mut self, loaded: &Loaded) {
        self.started_for = loaded.model.management.clone();
        let retrying = self.retry_at.take().is_some();
        let (Some(m), Some(remote)) = (&loaded.model.management, &self.remote) else {
            return;
        };
        if m.listen.is_empty() {
            crate::note!(warn, "management: no address to listen on; no management API");
            return;
        }
        let tls = match manage::setup::tls(loaded) {
            Ok(Some(tls)) => tls,
            Ok(None) => return,
            Err(e) => {
                crate::note!(error, "management: {e}\nthe agent runs on without its management API");
                return;
            }
        };
        let ops: Arc<dyn Operations> = remote.clone();
        match manage::serve(&m.listen, tls, ops) {
            Ok(server) => {
                let addrs: Vec<String> = server.local_addrs().iter().map(ToString::to_string).collect();
                crate::note!(info, "management: serving on {}", addrs.join(" "));
                self.server = Some(server);
            }
            Err(e) if e.address_missing() => {
                if !retrying {
                    crate::note!(
                        error,
                        "{e}; the agent runs on without its management API, and tries again every {} s until the address is there",
                        RETRY.as_secs()
                    );
                }
                self.retry_at = Some(crate::deadline::after(Instant::now(), RETRY));
            }
            Err(e) => crate::note!(error, "{e}; the agent runs on without its management API"),
        }
    }

    /// After each turn of the main loop: when the config's management
    /// changed, the server is stopped and, once it has, started again.
    pub fn keep_up(&mut self, loaded: &Loaded) {
        if let Some(stopping) = self.stopping.take() {
            if !stopping.is_finished() {
                self.stopping = Some(stopping);
                return;
            }
            let _ = stopping.join();
            self.start(loaded);
            return;
        }
        if loaded.model.management == self.started_for {
            if self.retry_at.is_some_and(|at| Instant::now() >= at) {
                self.start(loaded);
            }
            return;
        }
        self.retry_at = None;
        self.started_for = loaded.model.management.clone();
        match self.server.take() {
            Some(server) => {
                crate::note!(info, "management: the config's management changed; restarting the API");
                let stopper = std::thread::Builder::new().name("lvs-manage-stop".into()).spawn(move || server.stop());
                match stopper {
                    Ok(handle) => self.stopping = Some(handle),
                    Err(e) => {
                        crate::note!(error, "management: cannot stop the API on a thread ({e}); it stays as it was")
                    }
                }
            }
            None => self.start(loaded),
        }
    }

    /// Stops the server (the main loop's queue is gone: whoever waits on it is answered).
    pub fn stop(&mut self) {
        if let Some(stopping) = self.stopping.take() {
            let _ = stopping.join();
        }
        if let Some(server) = self.server.take() {
            server.stop();
            crate::note!(info, "management: stopped");
        }
    }
}
