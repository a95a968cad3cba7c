//! The IPVS table as the kernel sees it: services, their destinations, timeouts
//! and sync daemons; the changes between two tables; and the seam ([`Ipvs`]) to
//! the kernel, with the netlink client and an in-memory fake behind it.
//!
//! `ipvsadm` reads and writes ipvsadm's text. The netlink client is behind the
//! `netlink` feature, so that what only handles tables (lvs-config, lvs-image)
//! links no socket code. This crate depends on no other crate of the workspace.

mod api;
mod change;
mod endpoint;
mod error;
pub mod fake;
pub mod ipvsadm;
#[cfg(feature = "netlink")]
pub mod netlink;
pub mod plan;
mod scheduler;
mod snapshot;
pub mod sync;
mod table;

pub use api::Ipvs;
pub use change::Change;
pub use endpoint::{Endpoint, EndpointError};
pub use error::{ApplyError, Command, Errno, IpvsError};
pub use fake::FakeIpvs;
pub use plan::{plan, Ownership};
pub use scheduler::{SchedFlags, Scheduler, SchedulerError};
pub use snapshot::{DestEntry, Info, ServiceEntry, Snapshot, Stats};
pub use sync::{sync, SyncError};
pub use table::{
    Dest, Family, Forward, PersistMask, PersistMaskError, Persistence, Protocol, Service, ServiceKey, SyncDaemon,
    SyncState, Table, Timeouts, TunnelCsum, TunnelKind, TunnelOptions, VirtualService,
};
