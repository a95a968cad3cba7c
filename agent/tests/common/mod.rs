//! Helpers shared by the agent's tests: config text (the same helpers as
//! lvs-config's tests), the agent binary, hosts in namespaces.

#![allow(dead_code)]

pub mod agent;
pub mod host;
pub mod netns;

#[path = "../../lvs-config/tests/common/config.rs"]
mod config;

#[allow(unused_imports)]
pub use config::*;
