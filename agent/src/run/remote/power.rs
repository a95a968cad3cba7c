//! Reboot and power off over the API. Only the appliance's PID 1 (this same
//! program, `lvs-agent` as init) powers the machine off on SIGTERM and reboots
//! on SIGINT (see `init::supervise`), so only under it are they honoured;
//! elsewhere (a host running `lvs-agent run` under systemd or a shell) PID 1
//! is someone else's, and a signal to it would do who knows what.

use crate::manage::api::Done;
use crate::manage::{OpError, Power};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::Duration;

/// Long enough for the answer to get out before the agent is stopped.
const GRACE: Duration = Duration::from_secs(1);

/// The signal PID 1 takes for `what`.
pub fn signal(what: Power) -> Signal {
    match what {
        Power::Off => Signal::SIGTERM,
        Power::Reboot => Signal::SIGINT,
    }
}

/// Answers, then signals PID 1 after [`GRACE`]; refused unless `under_init`.
pub fn power(what: Power, under_init: bool) -> Result<Done, OpError> {
    let word = match what {
        Power::Off => "powers off",
        Power::Reboot => "reboots",
    };
    if !under_init {
        return Err(OpError::Refused(
            "this agent does not run as the appliance's init's child, so it neither reboots nor powers off its machine; do that on the machine itself"
                .to_string(),
        ));
    }
    crate::note!(warn, "management: the appliance {word} in {} s, as asked", GRACE.as_secs());
    let spawned = std::thread::Builder::new().name("lvs-power".into()).spawn(move || {
        std::thread::sleep(GRACE);
        if let Err(e) = kill(Pid::from_raw(1), signal(what)) {
            crate::note!(error, "management: cannot signal PID 1 ({e}); the appliance stays up");
        }
    });
    match spawned {
        Ok(_) => Ok(Done { message: format!("the appliance {word} in {} s", GRACE.as_secs()) }),
        Err(e) => Err(OpError::Failed(format!("cannot start the power thread: {e}; nothing done"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_outside_the_appliance_and_each_signal_is_what_pid_1_takes() {
        let refused = power(Power::Off, false).unwrap_err();
        assert!(matches!(&refused, OpError::Refused(m) if m.contains("does not run as the appliance's init")));
        assert_eq!(signal(Power::Off), Signal::SIGTERM, "init::supervise: SIGTERM powers off");
        assert_eq!(signal(Power::Reboot), Signal::SIGINT, "init::supervise: SIGINT reboots");
    }
}
