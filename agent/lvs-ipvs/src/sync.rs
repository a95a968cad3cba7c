//! Bringing the kernel to a desired table in one step that either happens or
//! leaves the table as it was: dump, plan, apply, and on a refusal put back what
//! was changed (planned from the dump taken before, so nothing is guessed).

use super::plan::{plan, Ownership};
use super::{ApplyError, Change, Ipvs, IpvsError, Table};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Dump(#[source] IpvsError),
    /// The kernel refused a change; what had been applied was undone.
    #[error("{error}; the {undone} changes made before it were undone, the table is as it was")]
    RolledBack { error: ApplyError, undone: usize },
    /// The kernel refused a change, and undoing the ones before it failed too.
    #[error("{error}; undoing the changes made before it failed too ({rollback}): the table is partly changed")]
    Partial { error: ApplyError, rollback: String },
}

impl SyncError {
    /// The change the kernel refused, if that was the failure.
    pub fn refused(&self) -> Option<&IpvsError> {
        match self {
            SyncError::Dump(_) => None,
            SyncError::RolledBack { error, .. } | SyncError::Partial { error, .. } => Some(&error.error),
        }
    }
}

/// Applies `plan(desired, kernel)` and returns the changes sent (empty: nothing to do).
pub fn sync(ipvs: &mut dyn Ipvs, desired: &Table, owns: Ownership) -> Result<Vec<Change>, SyncError> {
    let before = ipvs.dump().map_err(SyncError::Dump)?;
    let changes = plan(desired, &before, owns);
    if changes.is_empty() {
        return Ok(changes);
    }
    match ipvs.apply(&changes) {
        Ok(()) => Ok(changes),
        Err(error) => Err(undo(ipvs, &before, error)),
    }
}

fn undo(ipvs: &mut dyn Ipvs, before: &Table, error: ApplyError) -> SyncError {
    let now = match ipvs.dump() {
        Ok(now) => now,
        Err(e) => return SyncError::Partial { error, rollback: e.to_string() },
    };
    let back = plan(before, &now, Ownership::WholeTable);
    match ipvs.apply(&back) {
        Ok(()) => SyncError::RolledBack { error, undone: back.len() },
        Err(e) => SyncError::Partial { error, rollback: e.to_string() },
    }
}
