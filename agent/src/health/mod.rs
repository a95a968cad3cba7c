//! Health checks: probes of the real servers and their rise/fall states.
//!
//! `target` is the contract between the two halves: the probe engine (which
//! sends probes and reports raw outcomes) and `watches` (which turns outcomes
//! into each checked real server's status). What a status does to the IPVS
//! table is the keeper's business (`crate::keeper`).

pub mod engine;
pub mod probe;
pub mod state;
pub mod target;
pub mod targets;
pub mod watches;
