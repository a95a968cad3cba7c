//! Exit statuses shared by the command line and the agent's run mode.

/// Input that is wrong: a config file or ipvsadm rules.
pub const INVALID: i32 = 2;
/// Anything else that failed.
pub const FAILED: i32 = 1;
