//! The guests' consoles as the labs read them: the agent's and PID 1's log
//! lines (`lvs-agent: T=12.345 text`, `lvs-init: T=...`), found anywhere in
//! a console line, since the first line after firmware text may carry other
//! bytes before it (`Booting from ROM..lvs-init: T=1.572 started`).

use std::time::Instant;

use crate::lab::Vm;

/// A line `who` (`lvs-agent`, `lvs-init`) logged: the guest uptime and the text.
pub fn logged<'a>(line: &'a str, who: &str) -> Option<(f64, &'a str)> {
    let at = line.find(&format!("{who}: T="))?;
    let rest = &line[at + who.len() + 4..];
    let (t, text) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((t.parse().ok()?, text))
}

/// The agent's text of a log line, if it is one.
pub fn agent(line: &str) -> Option<(f64, &str)> {
    logged(line, "lvs-agent")
}

/// The agent's ready line.
pub fn is_ready(line: &str) -> bool {
    agent(line).is_some_and(|(_, text)| text.trim_end() == "ready")
}

/// A line of the agent's or PID 1's: what a report keeps of a console, the
/// kernel's lines being noise there.
pub fn is_agent_line(line: &str) -> bool {
    line.contains("lvs-agent: T=") || line.contains("lvs-init: T=")
}

/// A console's agent and PID 1 lines.
pub fn agent_lines(vm: &Vm) -> Vec<String> {
    vm.console_lines().into_iter().filter(|l| is_agent_line(l)).collect()
}

/// A VM's console lines on a run's clock (seconds since `t0`): the log file
/// stamps each line with qemu-relative seconds as it arrives, and the VM
/// knows when its qemu started. The harness's `[lab]` lines and qemu's
/// stderr are left out.
pub fn host_lines(vm: &Vm, t0: Instant) -> Vec<(f64, String)> {
    let offset = vm.started().saturating_duration_since(t0).as_secs_f64();
    vm.stamped_lines()
        .into_iter()
        .filter(|(_, l)| !l.starts_with("[lab]") && !l.starts_with("[qemu stderr]"))
        .map(|(t, l)| (t + offset, l))
        .collect()
}

/// Waits for the agent's next ready line; its guest uptime. Fails at once
/// if qemu exits first.
pub fn wait_ready(vm: &Vm, timeout: std::time::Duration) -> Result<f64, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = vm.wait_for_next(" ready", left).map_err(|e| e.to_string())?;
        if let Some((t, _)) = agent(&line).filter(|(_, text)| text.trim_end() == "ready") {
            return Ok(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_log_lines() {
        assert_eq!(
            agent("lvs-agent: T=3.25 state: restored 2 real servers"),
            Some((3.25, "state: restored 2 real servers"))
        );
        assert_eq!(agent("Booting from ROM..lvs-agent: T=1.000 ready"), Some((1.0, "ready")));
        assert!(is_ready("lvs-agent: T=1.000 ready") && !is_ready("lvs-agent: T=1.000 not ready yet"));
        assert_eq!(
            logged("lvs-init: T=9.5 agent exited (killed by SIGKILL); restarting in 1s", "lvs-init").map(|l| l.1),
            Some("agent exited (killed by SIGKILL); restarting in 1s")
        );
        assert_eq!(agent("[    2.1] virtio_net virtio0 eth0: renamed"), None);
        assert!(
            is_agent_line("Booting from ROM..lvs-init: T=1.572 started")
                && !is_agent_line("[    2.1] virtio_net virtio0 eth0: renamed")
        );
    }
}
