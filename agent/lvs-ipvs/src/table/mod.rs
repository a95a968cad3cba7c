//! One IPVS table: its services with their destinations, the timeouts and
//! the sync daemons.
//!
//! - `service`: what keys a service (protocol, address, port or fwmark) and its settings.
//! - `persistence`: persistence and its netmask.
//! - `dest`: destinations (real servers), their forwarding and tunnels.
//! - `daemon`: connection synchronisation daemons.

mod daemon;
mod dest;
mod persistence;
mod service;

pub use daemon::{SyncDaemon, SyncState};
pub use dest::{Dest, Forward, TunnelCsum, TunnelKind, TunnelOptions};
pub use persistence::{PersistMask, PersistMaskError, Persistence};
pub use service::{Family, Protocol, Service, ServiceKey};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VirtualService {
    pub service: Service,
    pub dests: Vec<Dest>,
}

/// Connection timeouts in seconds, as `ipvsadm --set tcp tcpfin udp`: 0 leaves a value as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

impl Timeouts {
    pub fn is_unset(&self) -> bool {
        *self == Timeouts::default()
    }
}

/// Everything of IPVS that a director's config sets, or that one kernel dump shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub services: Vec<VirtualService>,
    pub timeouts: Timeouts,
    pub daemons: Vec<SyncDaemon>,
}

impl Table {
    pub fn service(&self, key: &ServiceKey) -> Option<&VirtualService> {
        self.services.iter().find(|vs| vs.service.key == *key)
    }

    pub fn service_mut(&mut self, key: &ServiceKey) -> Option<&mut VirtualService> {
        self.services.iter_mut().find(|vs| vs.service.key == *key)
    }
}
