//! Health checks: probes of the real servers, rise/fall states, and the IPVS
//! table they lead to (weights quiesced or restored, sorry server, quorum).
//!
//! `target` is the contract between the two halves: the probe engine (which
//! sends probes and reports raw outcomes) and the pure core (which turns
//! outcomes into states and states into a desired table).

pub mod desired;
pub mod engine;
mod known;
pub mod probe;
pub mod reconcile;
pub mod state;
pub mod target;
pub mod targets;
