//! The one error type of the lab harness. Every variant names what it was
//! doing (which VM, which command, which marker) so that a failing lab test
//! explains itself without a rerun; VM errors carry the last console lines.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// How many console lines a VM error quotes.
pub const TAIL_LINES: usize = 40;

#[derive(thiserror::Error)]
pub enum LabError {
    /// The lab cannot run here (no root, no `ip`, no qemu). See [`crate::lab::require`].
    #[error("{0}")]
    Unavailable(String),

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },

    #[error("{what}: `{command}` {status}{}", stderr_block(.stderr))]
    Command { what: String, command: String, status: String, stderr: String },

    #[error("{}:{line}: {message}", .path.display())]
    Lock { path: PathBuf, line: usize, message: String },

    #[error("Debian package {package} {version}: {message}")]
    Package { package: String, version: String, message: String },

    #[error("VM {vm}: {message}")]
    Spec { vm: String, message: String },

    #[error("VM {vm}: qemu did not start: {message}")]
    Start { vm: String, message: String },

    #[error("VM {vm}: marker {marker:?} not seen within {timeout:?}{}", tail_block(.tail))]
    MarkerTimeout { vm: String, marker: String, timeout: Duration, tail: String },

    #[error("VM {vm}: qemu exited ({status}) before marker {marker:?} appeared{}", tail_block(.tail))]
    ExitedBeforeMarker { vm: String, marker: String, status: String, tail: String },

    #[error("VM {vm}: qemu still running {timeout:?} after we started waiting for it to exit{}", tail_block(.tail))]
    ExitTimeout { vm: String, timeout: Duration, tail: String },

    #[error(
        "{addr} is outside the lab's address ranges (192.0.2.0/24, 198.51.100.0/24, \
         203.0.113.0/24, 2001:db8::/32, loopback): lab traffic never leaves the lab"
    )]
    Address { addr: String },

    #[error("{what} (inside namespace {netns}): {message}")]
    Netns { netns: String, what: String, message: String },

    /// A guest's captured output (ttyS1) lacks what a test asked for.
    #[error("captured output: {message}\n--- capture ---\n{capture}\n--- end ---")]
    Capture { message: String, capture: String },
}

// `cargo test` prints a test's `Err` with `{:?}`; the derived Debug would bury
// the console tail in one escaped line.
impl fmt::Debug for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn stderr_block(stderr: &str) -> String {
    let s = stderr.trim_end();
    if s.is_empty() {
        String::new()
    } else {
        format!("; stderr:\n{s}")
    }
}

fn tail_block(tail: &str) -> String {
    format!("\n--- last {TAIL_LINES} console lines ---\n{tail}\n--- end ---")
}

impl LabError {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        LabError::Io { what: what.into(), source }
    }
}

pub type Result<T, E = LabError> = std::result::Result<T, E>;
