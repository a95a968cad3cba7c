//! What a lab test needs from the machine. A lab test that cannot run fails
//! with the reason and what to do: it never passes or skips silently, in CI
//! (`CI=true`) or anywhere else, so a missing lab is never mistaken for a
//! green one.

use std::path::Path;

use super::command::on_path;
use super::error::{LabError, Result};

/// Ok when this machine can run lab tests; else `LabError::Unavailable`
/// listing every missing piece. [`crate::lab::Lab::new`] calls it first.
pub fn require() -> Result<()> {
    let problems = missing();
    if problems.is_empty() {
        return Ok(());
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let msg = unavailable_message(&problems, in_ci);
    Err(LabError::Unavailable(msg))
}

fn unavailable_message(problems: &[String], in_ci: bool) -> String {
    let mut msg = String::from("lab tests cannot run on this machine:\n");
    for p in problems {
        msg.push_str("  - ");
        msg.push_str(p);
        msg.push('\n');
    }
    msg.push_str(if in_ci {
        "CI=true: a lab test that cannot run fails the build; fix the CI machine \
         (it must run .ci/run as root with iproute2, apt-get and /dev/net/tun)."
    } else {
        "This test fails rather than skips. Run the tests as root (`sudo make test`), \
         or leave the lab tests out with `cargo test -p lvs-tests --lib --test examples`."
    });
    msg
}

fn missing() -> Vec<String> {
    let mut problems = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        problems.push(
            "lab tests need root for network namespaces, bridges and taps: \
             run `make test` as root"
                .to_string(),
        );
    }
    if on_path("ip").is_none() {
        problems.push("`ip` (iproute2) is not on PATH: apt-get install iproute2".to_string());
    }
    if !Path::new("/dev/net/tun").exists() {
        problems.push("/dev/net/tun is missing: the VMs' tap NICs need it".to_string());
    }
    if on_path("qemu-system-x86_64").is_none() && (on_path("apt-get").is_none() || on_path("dpkg-deb").is_none()) {
        problems.push(
            "qemu-system-x86_64 is not on PATH, and without apt-get and dpkg-deb the lab \
             cannot fetch Debian's (tests/qemu.lock)"
                .to_string(),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_what_to_do_in_and_out_of_ci() {
        let problems = vec!["lab tests need root for network namespaces".to_string()];
        let local = unavailable_message(&problems, false);
        assert!(local.contains("  - lab tests need root"), "{local}");
        assert!(local.contains("sudo make test"), "{local}");
        let ci = unavailable_message(&problems, true);
        assert!(ci.contains("CI=true") && ci.contains("fails the build"), "{ci}");
    }
}
