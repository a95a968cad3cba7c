//! What runs on top of the network setup until the agent stops: a director's
//! keeper, or a real server's HTTP server and workloads; and how they go
//! from one config to the next.

use super::current::Current;
use crate::keeper::{self, Keeper, KeeperError, WeightRequest};
use crate::state::{StateFile, Store};
use lvs_config::model::{RealServer, Role};

pub enum Services {
    /// The keeper of the IPVS table.
    Director(Keeper),
    /// The built-in HTTP server and the supervised workloads, each when configured.
    RealServer { http: Option<crate::http::HttpServer>, workloads: Option<crate::workload::Handle> },
}

/// Why an operator's weight was not set.
#[derive(Debug, thiserror::Error)]
pub enum WeightRefused {
    #[error("a real server has no IPVS table")]
    NotADirector,
    #[error(transparent)]
    Keeper(#[from] KeeperError),
}

impl WeightRefused {
    /// The request names what the running config does not have, as opposed
    /// to something that failed.
    pub fn is_wrong_input(&self) -> bool {
        matches!(self, WeightRefused::NotADirector | WeightRefused::Keeper(KeeperError::Weight(_)))
    }
}

/// How a swap from one config to the next ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swap {
    /// The new config runs; the line the log got ("config: applied ...: 3 IPVS changes").
    Applied(String),
    /// The new config runs, but the kernel refused part of its table (tried
    /// again at the next full check); the line the log got.
    TableRefused(String),
    /// The text is the one running already.
    Unchanged,
    /// Unreadable or invalid: the running config stays; why.
    Refused(String),
}

impl Swap {
    /// Whether the config asked for is the one running now.
    pub fn runs(&self) -> bool {
        !matches!(self, Swap::Refused(_))
    }
}

impl Services {
    pub fn start(current: &Current, store: &Store, saved: Option<StateFile>) -> Services {
        match &current.loaded.model.role {
            Role::Director(d) => Services::Director(Keeper::start(keeper::Start {
                director: d.clone(),
                config: current.saved(),
                store: store.clone(),
                saved,
            })),
            Role::RealServer(rs) => Services::RealServer { http: start_http(rs), workloads: start_workloads(rs) },
        }
    }

    /// From one config to the next with as little disturbance as it takes:
    /// a director's table changes as a diff (no flush, the health of its real
    /// servers kept); a real server restarts only what changed; a new role
    /// stops the old one's services and starts the new one's.
    pub fn swap(self, old: &Current, new: &Current, store: &Store) -> (Services, Swap) {
        let path = new.path.display();
        let applied = || {
            let line = format!("config: applied {path}");
            crate::note!(info, "{line}");
            Swap::Applied(line)
        };
        match (self, &old.loaded.model.role, &new.loaded.model.role) {
            (Services::Director(keeper), Role::Director(_), Role::Director(d)) => {
                let swap = match keeper.reload(d.clone(), new.saved()) {
                    Ok(n) => {
                        let line = format!("config: applied {path}: {n}");
                        crate::note!(info, "{line}");
                        Swap::Applied(line)
                    }
                    Err(e) => {
                        let line = format!("config: applied {path}, but the IPVS table: {e}");
                        crate::note!(error, "{line}");
                        Swap::TableRefused(line)
                    }
                };
                (Services::Director(keeper), swap)
            }
            (Services::RealServer { mut http, mut workloads }, Role::RealServer(a), Role::RealServer(b)) => {
                if a.http != b.http {
                    if let Some(server) = http.take() {
                        server.stop();
                    }
                    http = start_http(b);
                }
                if a.workloads != b.workloads {
                    if let Some(w) = workloads.take() {
                        crate::note!(info, "workloads stopped: {}", w.stop());
                    }
                    workloads = start_workloads(b);
                }
                (Services::RealServer { http, workloads }, applied())
            }
            (running, _, _) => {
                crate::note!(
                    info,
                    "config: {path} makes this a {}: stopping the {}'s services",
                    new.loaded.model.role.name(),
                    old.loaded.model.role.name()
                );
                running.stop();
                let started = Services::start(new, store, None);
                (started, applied())
            }
        }
    }

    /// An operator's weight for a director's real server; says what it did.
    pub fn set_weight(&self, request: WeightRequest) -> Result<String, WeightRefused> {
        match self {
            Services::Director(keeper) => Ok(keeper.set_weight(request)?),
            Services::RealServer { .. } => Err(WeightRefused::NotADirector),
        }
    }

    /// Each checked real server's health, answered on `done` by the keeper
    /// thread (empty at once on a real server, or when the keeper is gone).
    pub fn health(&self, done: std::sync::mpsc::Sender<Vec<crate::manage::api::HealthRow>>) {
        match self {
            Services::Director(keeper) => {
                if let Err(e) = keeper.health(done) {
                    log::debug!("health: {e}");
                }
            }
            Services::RealServer { .. } => drop(done.send(Vec::new())),
        }
    }

    pub fn stop(self) {
        match self {
            Services::Director(keeper) => keeper.stop(),
            Services::RealServer { http, workloads } => {
                if let Some(http) = http {
                    http.stop();
                }
                if let Some(workloads) = workloads {
                    crate::note!(info, "workloads stopped: {}", workloads.stop());
                }
            }
        }
    }
}

fn start_http(rs: &RealServer) -> Option<crate::http::HttpServer> {
    rs.http.as_ref().and_then(|spec| match crate::http::serve(spec) {
        Ok(server) => {
            crate::note!(info, "http: serving on {}", server.local_addr());
            Some(server)
        }
        Err(e) => {
            crate::note!(error, "http: {e}");
            None
        }
    })
}

fn start_workloads(rs: &RealServer) -> Option<crate::workload::Handle> {
    if rs.workloads.is_empty() {
        return None;
    }
    crate::workload::start(rs.workloads.clone()).map_err(|e| crate::note!(error, "{e}")).ok()
}
