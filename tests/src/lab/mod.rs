//! The qemu lab: boots appliance images as VMs inside a network namespace of
//! the test's own, on private L2 networks, and watches their serial consoles.
//! docs/LAB.md tells how it works, what it fetches and where logs go.
//!
//! ```no_run
//! use std::time::Duration;
//! use lvs_tests::lab::{Lab, VmSpec};
//! # fn main() -> Result<(), lvs_tests::lab::LabError> {
//! let lab = Lab::new("nat_director")?; // fails with what to do when not root
//! let lan = lab.bridge(Some("192.0.2.1/24"))?;
//! let vm = lab.boot(
//!     VmSpec::kernel("director", "out/vmlinux".as_ref(), Some("out/initrd.img".as_ref()),
//!                    "console=ttyS0 quiet panic=-1").nic(&lan),
//! )?;
//! vm.wait_for("lvs-agent: T=", Duration::from_secs(30))?;
//! let reply = lab.http_get("192.0.2.10:80".parse().expect("addr"), "/", Duration::from_secs(5))?;
//! assert_eq!(reply.status, 200);
//! # Ok(()) }
//! ```

mod capture;
mod client;
mod command;
mod console;
pub mod debs;
mod error;
mod guest_tools;
pub mod images;
pub use images::Image;
mod netns;
mod qemu;
mod require;
mod testbed;
mod usernet;
mod vm;

pub use capture::{Section, Sections};
pub use client::{ensure_lab_address, HttpResponse};
pub use command::describe as describe_command;
pub use error::{LabError, Result, TAIL_LINES};
pub use guest_tools::{busybox, ipvsadm_extras, GUEST_TOOLS_PACKAGES, IPVSADM_PACKAGES};
pub use netns::Netns;
pub use qemu::{Ovmf, Qemu, OVMF_PACKAGES, QEMU_PACKAGES};
pub use require::require;
pub use testbed::{logs_root, Lab, Network};
pub use usernet::{free_port, UserNet};
pub use vm::{Boot, Nic, Vm, VmSpec};
