//! Network setup: links up with their MTU, interface addresses, routes and VIPs,
//! from the config model, through rtnetlink.
//!
//! desired (pure, from the model) → observed (one dump) → plan (pure, with the
//! record of what the agent added) → executor. Re-applying sends nothing; the
//! agent removes only addresses and routes that it added and the config no
//! longer names. Links are never taken down and MTUs never put back: a link is
//! not the agent's to own.
//!
//! rtnetlink is async; `apply` runs it on a current-thread tokio runtime of its
//! own, so callers stay synchronous. `loopback` is older and synchronous (neli):
//! the run mode calls it before anything else.

pub mod desired;
mod error;
pub mod exec;
pub mod loopback;
pub mod observed;
pub mod plan;
pub mod record;

pub use desired::{Address, Desired, Route};
pub use error::NetError;
pub use plan::Change;

use lvs_config::model::Appliance;
use std::path::Path;

/// What one apply did, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetReport {
    /// In the order they were made; empty when the kernel already matched.
    pub changes: Vec<Change>,
    /// Things left alone on purpose, and a garbled record; one line each.
    pub notes: Vec<String>,
}

/// Makes the kernel's links, addresses and routes match `appliance`, and
/// records what it added under `record_dir` (created if needed).
///
/// The record is written again after each change that adds or removes an
/// address or route, so a crash part way leaves what was added recorded (at
/// worst the one change in flight is missing from it: then it is left in
/// place later, never something another added taken away). Stops at the
/// first change the kernel refuses, or at a record that cannot be written;
/// what went through before is recorded where it could be, and listed in
/// the error.
pub fn apply(appliance: &Appliance, record_dir: &Path) -> Result<NetReport, NetError> {
    let desired = desired::desired(appliance);
    let (owned, warning) = record::load(record_dir);
    let garbled = warning.is_some();
    let mut report = NetReport { notes: warning.into_iter().collect(), ..NetReport::default() };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(NetError::Runtime)?;
    let (connection, handle, _) = {
        // The socket registers with the runtime's reactor, so it is made inside it.
        let _inside = runtime.enter();
        rtnetlink::new_connection().map_err(NetError::Connect)?
    };
    runtime.spawn(connection);

    let observed = runtime.block_on(observed::dump(&handle)).map_err(|e| NetError::Dump(e.to_string()))?;
    let plan = plan::plan(&desired, &observed, &owned).map_err(NetError::NoSuchInterface)?;
    for (address, why) in &plan.kept {
        report.notes.push(format!("kept {address}, which the config no longer names: {why}"));
    }

    // What is on disk, and what the record should say now.
    let mut stored = if garbled { None } else { Some(owned.clone()) };
    let mut next = plan::owned_after(&owned, &observed, &[]);
    let mut store = |next: &record::Owned, applied: &[Change]| -> Result<(), NetError> {
        if stored.as_ref() == Some(next) {
            return Ok(());
        }
        record::store(record_dir, next).map_err(|source| NetError::Record { source, applied: applied.to_vec() })?;
        stored = Some(next.clone());
        Ok(())
    };
    // Forget what is gone before adding anything, so that an address a
    // person puts back later is not taken for the agent's.
    store(&next, &report.changes)?;
    for change in &plan.changes {
        match runtime.block_on(exec::execute(&handle, &observed, change)) {
            Ok(()) => {
                report.changes.push(change.clone());
                plan::record(&mut next, change);
                store(&next, &report.changes)?;
            }
            Err(failure) => {
                let hint = error::hint(change, &failure);
                return Err(NetError::Refused {
                    change: Box::new(change.clone()),
                    failure,
                    hint,
                    applied: report.changes,
                });
            }
        }
    }
    Ok(report)
}
