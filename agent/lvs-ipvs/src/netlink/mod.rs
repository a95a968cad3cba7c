//! The IPVS generic netlink client: every command of include/uapi/linux/ip_vs.h.
//!
//! - [`attrs`]: the header's numbers.
//! - [`wire`]: netlink framing through neli.
//! - `service`, `dest`, `daemon`, `config`: one nested attribute each, both ways.
//! - [`Request`]: every command as a value, encoded and decoded.
//! - `batch`: many requests per `send`, their acks matched by sequence number.
//! - [`IpvsNetlink`]: the client, an [`Ipvs`](crate::Ipvs).
//!
//! Nothing here depends on the agent outside `crate`.

pub mod attrs;
mod batch;
mod client;
mod config;
mod daemon;
mod dest;
pub mod family;
mod request;
mod service;
pub mod wire;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod fixtures;

pub use batch::{Transport, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES};
pub use client::IpvsNetlink;
pub use request::Request;
