//! The table as the lines read so far made it: indexed by service key and
//! real-server address, so that a line costs the same however many lines came
//! before it, and remembering which line made each object.

use super::{Origin, Origins, ServiceOrigin};
use crate::{Dest, Service, ServiceKey, SyncDaemon, Table, Timeouts, VirtualService};
use std::collections::HashMap;
use std::net::SocketAddr;

/// One service and its real servers. A deleted entry leaves `None` behind, so
/// that the indexes of the others stay as they are.
pub(super) struct ServiceSlot {
    pub service: Service,
    pub origin: Origin,
    dests: Vec<Option<(Dest, Origin)>>,
    dest_index: HashMap<SocketAddr, usize>,
}

impl ServiceSlot {
    pub fn dest_mut(&mut self, addr: &SocketAddr) -> Option<&mut (Dest, Origin)> {
        let i = *self.dest_index.get(addr)?;
        self.dests[i].as_mut()
    }

    pub fn add_dest(&mut self, dest: Dest, line: usize) {
        self.dest_index.insert(dest.addr, self.dests.len());
        self.dests.push(Some((dest, Origin::at(line))));
    }

    pub fn remove_dest(&mut self, addr: &SocketAddr) -> bool {
        match self.dest_index.remove(addr) {
            Some(i) => self.dests[i].take().is_some(),
            None => false,
        }
    }
}

#[derive(Default)]
pub(super) struct Replay {
    services: Vec<Option<ServiceSlot>>,
    index: HashMap<ServiceKey, usize>,
    pub timeouts: Timeouts,
    /// The last `--set` line that changed a timeout.
    pub timeouts_line: Option<usize>,
    /// At most one master and one backup.
    pub daemons: Vec<(SyncDaemon, Origin)>,
}

impl Replay {
    pub fn service_mut(&mut self, key: &ServiceKey) -> Option<&mut ServiceSlot> {
        let i = *self.index.get(key)?;
        self.services[i].as_mut()
    }

    pub fn add_service(&mut self, service: Service, line: usize) {
        self.index.insert(service.key, self.services.len());
        self.services.push(Some(ServiceSlot {
            service,
            origin: Origin::at(line),
            dests: Vec::new(),
            dest_index: HashMap::new(),
        }));
    }

    pub fn remove_service(&mut self, key: &ServiceKey) -> bool {
        match self.index.remove(key) {
            Some(i) => self.services[i].take().is_some(),
            None => false,
        }
    }

    /// Removes every service; says how many there were.
    pub fn clear_services(&mut self) -> usize {
        let n = self.index.len();
        self.services.clear();
        self.index.clear();
        n
    }

    /// The table, in the order the objects were added, and where each came from.
    pub fn finish(self) -> (Table, Origins) {
        let mut table = Table { timeouts: self.timeouts, ..Table::default() };
        let mut origins = Origins { timeouts: self.timeouts_line, ..Origins::default() };
        for slot in self.services.into_iter().flatten() {
            let (dests, dest_origins) = slot.dests.into_iter().flatten().unzip();
            table.services.push(VirtualService { service: slot.service, dests });
            origins.services.push(ServiceOrigin { origin: slot.origin, dests: dest_origins });
        }
        (table.daemons, origins.daemons) = self.daemons.into_iter().unzip();
        (table, origins)
    }
}
