//! The IPVS table as the kernel sees it: services, their destinations, timeouts
//! and sync daemons; the changes between two tables; and the seam ([`Ipvs`]) to
//! the kernel, with the netlink client and an in-memory fake behind it.
//!
//! This module depends on nothing else in the agent (std, serde, thiserror and
//! neli only), so that it can become a crate of its own.

mod api;
mod change;
mod error;
pub mod fake;
pub mod family;
pub mod netlink;
pub mod plan;
mod scheduler;
mod snapshot;
pub mod sync;
mod table;

pub use api::Ipvs;
pub use change::Change;
pub use error::{ApplyError, Command, Errno, IpvsError};
pub use fake::FakeIpvs;
pub use plan::{plan, Ownership};
pub use scheduler::{SchedFlags, Scheduler};
pub use snapshot::{DestEntry, Info, ServiceEntry, Snapshot, Stats};
pub use sync::{sync, SyncError};
pub use table::{
    Dest, Family, Forward, PersistMask, Persistence, Protocol, Service, ServiceKey, SyncDaemon, SyncState, Table,
    Timeouts, TunnelCsum, TunnelKind, TunnelOptions, VirtualService,
};
