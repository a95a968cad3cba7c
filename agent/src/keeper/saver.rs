//! The state file's writer: what the reconciler knows, in the state file's
//! terms (services by their `ipvsadm -Ln` name, the table as a config),
//! written only when something changed; a failure is logged once until a
//! write succeeds again.

use super::carried::Carried;
use super::reconcile::Reconciler;
use crate::health::state::Status;
use crate::state::{now_ms, SavedConfig, SavedHealth, SavedWeight, StateFile, Store};
use lvs_ipvs::Table;

pub struct Saver {
    pub store: Store,
    /// The config that runs, kept in the file for a boot whose config is unusable.
    pub config: SavedConfig,
    failing: bool,
}

impl Saver {
    pub fn new(store: Store, config: SavedConfig) -> Saver {
        Saver { store, config, failing: false }
    }

    pub fn save(&mut self, reconciler: &Reconciler) {
        let state = state_file(now_ms(), Some(self.config.clone()), &reconciler.carried(), reconciler.known());
        match self.store.save(&state) {
            Ok(()) if self.failing => {
                self.failing = false;
                crate::note!(info, "state: written again to {}", self.store.path().display());
            }
            Ok(()) => log::debug!("state: written to {}", self.store.path().display()),
            Err(e) if !self.failing => {
                self.failing = true;
                crate::note!(error, "state: {e}; the next boot starts from the config alone");
            }
            Err(_) => {}
        }
    }
}

/// The state file for what a keeper knows (`lvs-agent save` writes one with
/// nothing but a table).
pub fn state_file(
    written_at_ms: u64,
    config: Option<SavedConfig>,
    carried: &Carried,
    table: Option<&Table>,
) -> StateFile {
    StateFile {
        config,
        health: carried
            .health
            .iter()
            .map(|(slot, status)| SavedHealth {
                service: slot.service.to_string(),
                real_server: slot.real_server,
                up: *status == Status::Up,
            })
            .collect(),
        weights: carried
            .weights
            .iter()
            .map(|(slot, weight)| SavedWeight {
                service: slot.service.to_string(),
                real_server: slot.real_server,
                weight: *weight,
            })
            .collect(),
        table: table.map(lvs_config::from_table::director_file),
        ..StateFile::new(written_at_ms)
    }
}
