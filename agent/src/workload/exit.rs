//! How a workload ended, and whether its restart policy starts it again.

use lvs_config::file::Restart;
use nix::sys::signal::Signal;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It called exit with this status.
    Code(i32),
    /// A signal killed it (the raw number: not every number has a `Signal`).
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "status {code}"),
            Exit::Signal(n) => match Signal::try_from(n) {
                Ok(sig) => write!(f, "killed by {sig}"),
                Err(_) => write!(f, "killed by signal {n}"),
            },
        }
    }
}

/// Whether a workload that ended with `exit` is started again; `None` is a
/// program that could not be started at all, which counts as a failure.
pub fn restarts(policy: Restart, exit: Option<Exit>) -> bool {
    match policy {
        Restart::Always => true,
        Restart::OnFailure => !exit.is_some_and(Exit::success),
        Restart::Never => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let ok = Some(Exit::Code(0));
        let failed = Some(Exit::Code(1));
        let killed = Some(Exit::Signal(9));
        let cases = [
            (Restart::Always, [true, true, true, true]),
            (Restart::OnFailure, [false, true, true, true]),
            (Restart::Never, [false, false, false, false]),
        ];
        for (policy, expected) in cases {
            let got = [ok, failed, killed, None].map(|e| restarts(policy, e));
            assert_eq!(got, expected, "{policy:?}");
        }
    }

    #[test]
    fn describes_exits_as_people_say_them() {
        assert_eq!(Exit::Code(3).to_string(), "status 3");
        assert_eq!(Exit::Signal(15).to_string(), "killed by SIGTERM");
        assert_eq!(Exit::Signal(99).to_string(), "killed by signal 99");
    }
}
