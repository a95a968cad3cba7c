//! Helpers for the config tests.

#![allow(dead_code)]

mod config;
#[path = "../../../lvs-ipvs/tests/common/tables.rs"]
pub mod tables;

#[allow(unused_imports)]
pub use config::*;
