//! The state file: one header line, then a RON body, framed and checked by
//! [`crate::record`].
//!
//! ```text
//! lvs-agent-state 1 <body length in bytes> <FNV-1a 64 of the body, hex>
//! State(version: 1, written_at_ms: ..., config: ..., health: [...], weights: [...], table: ...)
//! ```
//!
//! The lab (tests/src/persist) reads and damages this file with its own FNV:
//! its header and body stay as they are.

use lvs_config::file;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

pub use crate::record::fnv1a64;
use crate::record::{self, DecodeError, Kind};

pub const VERSION: u32 = 1;
/// The state file's cap is the records' (16 MiB): a bigger file is damaged.
pub const KIND: Kind =
    Kind { magic: "lvs-agent-state", version: VERSION, what: "state file", max_bytes: crate::record::RECORD_MAX_BYTES };

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "State", deny_unknown_fields)]
pub struct StateFile {
    pub version: u32,
    /// Unix time in milliseconds.
    pub written_at_ms: u64,
    #[serde(default)]
    pub config: Option<SavedConfig>,
    /// Every checked real server's status when the file was written.
    #[serde(default)]
    pub health: Vec<SavedHealth>,
    /// Runtime weight overrides.
    #[serde(default)]
    pub weights: Vec<SavedWeight>,
    /// The IPVS table as the agent last programmed it, written as a Director
    /// config (the form `import ipvsadm` prints), so it reads like one.
    #[serde(default)]
    pub table: Option<file::Appliance>,
}

/// The config the agent runs: a copy, so that it can go on with it when the
/// file is replaced by an invalid one while it is down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Config", deny_unknown_fields)]
pub struct SavedConfig {
    pub path: String,
    /// FNV-1a 64 of `text`, hex: tells at a glance whether two copies differ.
    pub hash: String,
    pub applied_at_ms: u64,
    pub text: String,
}

/// Services are named as `ipvsadm -Ln` names them (`TCP 192.0.2.80:80`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Health", deny_unknown_fields)]
pub struct SavedHealth {
    pub service: String,
    pub real_server: SocketAddr,
    pub up: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Weight", deny_unknown_fields)]
pub struct SavedWeight {
    pub service: String,
    pub real_server: SocketAddr,
    pub weight: u32,
}

impl StateFile {
    pub fn new(written_at_ms: u64) -> StateFile {
        StateFile {
            version: VERSION,
            written_at_ms,
            config: None,
            health: Vec::new(),
            weights: Vec::new(),
            table: None,
        }
    }
}

pub fn encode(state: &StateFile) -> String {
    // Serializing our own plain data cannot fail; if it did, the body would
    // be a comment that no agent reads as a state: ignored, not believed.
    record::encode(&KIND, state).unwrap_or_else(|e| record::frame(&KIND, &format!("// cannot write the state: {e}")))
}

/// Checks the header, then parses. The error says what is wrong, for the log.
pub fn decode(text: &[u8]) -> Result<StateFile, DecodeError> {
    let state: StateFile = record::decode(&KIND, text)?;
    if state.version != VERSION {
        return Err(DecodeError::BodyVersion { found: state.version, reads: VERSION });
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StateFile {
        let table = lvs_config::parse(
            r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80", scheduler: Wrr,
                real_servers: [RealServer(address: "192.0.2.21:80", weight: 0), RealServer(address: "192.0.2.22:80", weight: 3)])]))"#,
            std::path::Path::new("t.ron"),
        )
        .expect("valid")
        .raw;
        StateFile {
            version: VERSION,
            written_at_ms: 1_763_700_000_123,
            config: Some(SavedConfig {
                path: "/config/appliance.ron".into(),
                hash: format!("{:016x}", fnv1a64(b"Appliance()")),
                applied_at_ms: 1_763_700_000_000,
                text: "// a \"quoted\" comment\nAppliance()\n".into(),
            }),
            health: vec![SavedHealth {
                service: "TCP 192.0.2.80:80".into(),
                real_server: "192.0.2.21:80".parse().unwrap(),
                up: false,
            }],
            weights: vec![SavedWeight {
                service: "TCP 192.0.2.80:80".into(),
                real_server: "192.0.2.22:80".parse().unwrap(),
                weight: 3,
            }],
            table: Some(table),
        }
    }

    #[test]
    fn encode_then_decode_gives_the_same_state() {
        let state = sample();
        let text = encode(&state);
        assert!(text.starts_with("lvs-agent-state 1 "), "{text}");
        assert_eq!(decode(text.as_bytes()), Ok(state));
    }

    #[test]
    fn a_file_cut_short_at_any_offset_is_refused() {
        let text = encode(&sample());
        for cut in 0..text.len() {
            assert!(decode(&text.as_bytes()[..cut]).is_err(), "cut at {cut} was accepted");
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_is_refused() {
        let text = encode(&sample()).into_bytes();
        for at in 0..text.len() {
            let mut damaged = text.clone();
            damaged[at] ^= 0x20;
            assert!(decode(&damaged).is_err(), "a flip at {at} was accepted");
            damaged[at] = 0;
            assert!(decode(&damaged).is_err(), "a zero at {at} was accepted");
        }
    }

    #[test]
    fn another_version_is_refused_with_its_number() {
        let text = encode(&sample()).replacen("lvs-agent-state 1 ", "lvs-agent-state 2 ", 1);
        assert_eq!(decode(text.as_bytes()).unwrap_err().to_string(), "format version 2; this agent reads version 1");
    }
}
