//! lvs-image: builds what an LVS appliance boots from — kernel, initramfs, UKI
//! and a GPT disk image — from one RON file. docs/BOOT.md is the contract;
//! docs/IMAGE.md says how this crate meets it.

pub mod agent;
pub mod apt;
pub mod build;
pub mod command;
pub mod disk;
pub mod error;
pub mod fetch;
pub mod index;
pub mod initramfs;
pub mod kernel;
pub mod lock;
pub mod modinfo;
pub mod modules;
pub mod pki;
pub mod progress;
pub mod rootfs;
pub mod stale;
pub mod uki;
pub mod vmlinux;

pub use error::{Error, Result};
