//! What goes over the wire, as serde types: the server writes them, the CLI
//! reads them. Fields are added, never renamed or removed, within `/v1/`.

use serde::{Deserialize, Serialize};

/// Every path starts with this.
pub const PREFIX: &str = "/v1";
/// The largest request body: a config of 1 MiB (the config file itself may be
/// 4 MiB, but one that large is generated, and goes onto the disk image).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The most log lines one answer holds: what the ring keeps.
pub const MAX_LOG_LINES: usize = 1000;
/// Log lines when the query does not say.
pub const DEFAULT_LOG_LINES: usize = 100;

/// `GET /v1/status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// The text `lvs-agent status` prints on the appliance, with the query's options.
    pub listing: String,
    /// The document `lvs-agent status --json` prints.
    pub table: serde_json::Value,
    /// Each checked real server's health; empty on a real server or without checks.
    pub health: Vec<HealthRow>,
}

/// One checked real server of one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRow {
    /// As the log names it: "TCP 192.0.2.80:80".
    pub service: String,
    /// "198.51.100.1:80".
    pub real_server: String,
    /// "up", "down" or "unknown" (not probed yet).
    pub state: String,
}

/// The options of `lvs-agent status`, as query flags of `GET /v1/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusQuery {
    pub stats: bool,
    pub rate: bool,
    pub exact: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub tun_info: bool,
    pub nosort: bool,
    pub timeout: bool,
    pub daemon: bool,
}

/// `GET /v1/config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigAnswer {
    /// The config file the agent runs from (the running text may be a try).
    pub path: String,
    /// The running config, as it was written.
    pub text: String,
    /// FNV-1a 64 of `text`, 16 hex digits: what `lvs-agent` logs and the state file keeps.
    pub hash: String,
    /// The try that runs, if one does.
    pub trying: Option<Trying>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trying {
    /// When the agent goes back to its config file, in ms since the Unix epoch.
    pub deadline_ms: u64,
}

/// `POST /v1/config/validate`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub valid: bool,
    /// The diagnostics as `lvs-agent check` prints them (with line:col); None when valid.
    pub errors: Option<String>,
    pub warnings: Vec<String>,
    /// What applying it would send to the kernel, as `lvs-agent plan` prints it;
    /// None for a real server, or when the kernel's table could not be read (then a warning says why).
    pub plan: Option<String>,
}

/// What an action did: apply, try, confirm, weight, reboot, power off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// One or more lines, as the local command prints them.
    pub message: String,
}

/// `POST /v1/weight`, as `lvs-agent weight SERVICE REALSERVER WEIGHT` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightAsk {
    pub service: String,
    pub real_server: String,
    /// 0 to 2147483647, `clear`, or `drain` (0, and the answer says how many connections are still active).
    pub weight: String,
}

/// `GET /v1/logs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsAnswer {
    pub lines: Vec<String>,
}

/// Any answer but 200.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    /// What happened and what to do; config errors with line:col.
    pub error: String,
}
