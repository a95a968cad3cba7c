//! The one seam between IPVS logic and the kernel: the netlink client implements
//! it, and so does the in-memory fake the planner and probes are tested with.

use super::{ApplyError, Change, IpvsError, Snapshot, Table};

pub trait Ipvs {
    /// One dump of services, destinations, timeouts and sync daemons, with counters.
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError>;

    /// The table without counters.
    fn dump(&mut self) -> Result<Table, IpvsError> {
        Ok(self.snapshot()?.table())
    }

    /// Sends the changes in order and stops at the first one refused. Changes
    /// before it have taken effect; [`ApplyError::applied`] says how many.
    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError>;
}
