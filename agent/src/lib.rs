//! lvs-agent: configures a Linux Virtual Server director or real server from one
//! RON file, and keeps it that way.
//!
//! The pure core (config, model, ipvsadm text) is here; side effects sit behind
//! small traits so that most of it is tested without a kernel.

pub mod atomic_file;
pub mod capped;
pub mod cli_status;
pub mod config_file;
pub mod deadline;
pub mod health;
pub mod http;
pub mod init;
pub mod keeper;
pub mod logging;
pub mod manage;
pub mod net;
pub mod pki;
pub mod record;
pub mod run;
pub mod state;
pub mod status;
pub mod sysctl;
pub mod workload;
