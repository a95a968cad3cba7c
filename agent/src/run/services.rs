//! What runs on top of the network setup until the agent stops: a director's
//! IPVS thread, or a real server's HTTP server and workloads; and how they go
//! from one config to the next.

use super::{director, Current};
use crate::state::{StateFile, Store};
use lvs_config::model::Role;

/// What a real server runs until the agent stops: the built-in HTTP server and
/// the supervised workloads.
#[derive(Default)]
pub(super) struct Services {
    ipvs: Option<director::Keeper>,
    http: Option<crate::http::HttpServer>,
    workloads: Option<crate::workload::Handle>,
}

impl Services {
    pub(super) fn start(current: &Current, store: &Store, saved: Option<StateFile>) -> Services {
        match &current.loaded.model.role {
            Role::Director(d) => Services {
                ipvs: Some(director::Keeper::start(director::Start {
                    director: d.clone(),
                    config: current.saved(),
                    store: store.clone(),
                    saved,
                })),
                ..Services::default()
            },
            Role::RealServer(rs) => start_real_server(rs),
        }
    }

    /// From one config to the next with as little disturbance as it takes:
    /// a director's table changes as a diff (no flush, the health of its real
    /// servers kept); a real server restarts only what changed; a new role
    /// stops the old one's services and starts the new one's.
    pub(super) fn swap(mut self, old: &Current, new: &Current, store: &Store) -> Services {
        let path = new.path.display();
        match (&old.loaded.model.role, &new.loaded.model.role, self.ipvs.as_ref()) {
            (Role::Director(_), Role::Director(d), Some(keeper)) => {
                match keeper.reload(d.clone(), new.saved()) {
                    Ok(n) => crate::note!(info, "config: applied {path}: {n}"),
                    Err(e) => crate::note!(error, "config: applied {path}, but the IPVS table: {e}"),
                }
                self
            }
            (Role::RealServer(a), Role::RealServer(b), _) => {
                if a.http != b.http {
                    if let Some(http) = self.http.take() {
                        http.stop();
                    }
                    self.http = start_http(b);
                }
                if a.workloads != b.workloads {
                    if let Some(w) = self.workloads.take() {
                        crate::note!(info, "workloads stopped: {}", w.stop());
                    }
                    self.workloads = start_workloads(b);
                }
                crate::note!(info, "config: applied {path}");
                self
            }
            _ => {
                crate::note!(
                    info,
                    "config: {path} makes this a {}: stopping the {}'s services",
                    new.loaded.model.role.name(),
                    old.loaded.model.role.name()
                );
                self.stop();
                let started = Services::start(new, store, None);
                crate::note!(info, "config: applied {path}");
                started
            }
        }
    }

    /// An operator's weight for a director's real server.
    pub(super) fn set_weight(&self, request: super::weight::Request) -> Result<String, String> {
        match &self.ipvs {
            Some(keeper) => keeper.set_weight(request),
            None => Err("a real server has no IPVS table".to_string()),
        }
    }

    pub(super) fn stop(self) {
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

fn start_real_server(rs: &lvs_config::model::RealServer) -> Services {
    Services { ipvs: None, http: start_http(rs), workloads: start_workloads(rs) }
}

fn start_http(rs: &lvs_config::model::RealServer) -> Option<crate::http::HttpServer> {
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

fn start_workloads(rs: &lvs_config::model::RealServer) -> Option<crate::workload::Handle> {
    if rs.workloads.is_empty() {
        return None;
    }
    crate::workload::start(rs.workloads.clone()).map_err(|e| crate::note!(error, "{e}")).ok()
}
