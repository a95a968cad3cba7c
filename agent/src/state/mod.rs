//! What the agent remembers across restarts and reboots: the config it last
//! applied, each checked real server's health, the operator's weights and the
//! IPVS table it programmed. Written after every change (coalesced) and read
//! once at start, so that after a reboot the table is back before the first
//! probe, and after a crash the new agent adopts the table as it stands.
//!
//! - `format`: the versioned file, framed by [`crate::record`] with a checksum
//!   so that damage is detected;
//! - `store`: its place on disk, written atomically (temp file, fsync, rename,
//!   fsync of the folder).
//!
//! What goes in it, from the keeper's terms, is `crate::keeper::saver` and
//! `crate::keeper::restore`.

pub mod format;
pub mod store;

pub use format::{SavedConfig, SavedHealth, SavedWeight, StateFile, VERSION};
pub use store::Store;

/// Unix time in milliseconds: the state's timestamps and a try's deadline.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The file's name in the state folder.
pub const FILE_NAME: &str = "state.ron";

/// The state file is one of the agent's records: its errors are theirs.
pub type StateError = crate::record::RecordError;
