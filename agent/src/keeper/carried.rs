//! What the keeper knows that the config does not say, carried from one
//! config to the next and from one agent to the next.

use crate::health::state::Status;
use lvs_config::model::Slot;
use lvs_ipvs::ServiceKey;
use std::collections::BTreeMap;

/// Each checked real server's status and the operator's weights, carried
/// over a reload and saved in the state file for the next agent; and each
/// service's quorum state, carried over a reload (a new agent reads it back
/// from the kernel's table: `restore::adopt_quorum`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    pub health: BTreeMap<Slot, Status>,
    pub weights: BTreeMap<Slot, u32>,
    /// Without it, a reload would judge every service as new, and one whose
    /// healthy weight sits inside its hysteresis band would go down and hand
    /// its traffic to the sorry server although nothing changed.
    pub quorum: BTreeMap<ServiceKey, bool>,
}
