//! The IPVS table as the kernel sees it: services, their destinations, timeouts
//! and sync daemons.
//!
//! This module depends on nothing else in the agent (only std and serde), so that
//! it can become a crate of its own once the netlink client lives here too.

pub mod family;
mod scheduler;
mod table;

pub use scheduler::{SchedFlags, Scheduler};
pub use table::{
    Dest, Family, Forward, PersistMask, Persistence, Protocol, Service, ServiceKey, SyncDaemon,
    SyncState, Table, Timeouts, TunnelCsum, TunnelKind, TunnelOptions, VirtualService,
};
