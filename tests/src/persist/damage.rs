//! Issue 7's lab line (e): a state file cut short or corrupted at several
//! offsets, as after a power cut, and the boot still succeeds: the agent is
//! ready, its table is programmed from the config, and its log says the
//! state was ignored.
//!
//! ds boots alone on a disk holding only an empty `lvs-state` partition, with
//! dump.sh as its hook: once the agent is ready the hook writes the table and
//! the agent's log to ttyS1 and exits, and PID 1 stops the agent (which saves
//! its state) and powers off. That first state file must be sound. The test
//! then writes damaged copies of it ([`super::damages`]) into copies of the
//! disk from the host, with the image crate's FAT code, and boots ds on each,
//! a few at a time. Each director has a NIC of its own on a segment of its
//! own (its real servers are nowhere: every check fails and the table is the
//! config's, every real server quiesced), so that the same address can be
//! booted several times at once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::lab::{self as plab, boot_director, DirectorBoot, Images, BOOT, DUMP_HOOK};
use super::reboot::{read_state, state_disk, STATE_FILE};
use super::{check_state, damages, Damage, Plan, Rules, IGNORED, NO_STATE, RESTORED};
use crate::lab::{Lab, Sections, Vm};
use crate::watch::console::{agent, agent_lines, is_ready};
use crate::watch::secs;

/// How many damaged boots run at once: each is one guest, and four share
/// two cores well enough for a test that measures no time.
pub const AT_ONCE: usize = 4;

#[derive(Clone, Debug)]
pub struct Outcome {
    pub problems: Vec<String>,
    pub report: String,
    pub summary: String,
}

/// What one boot left: its console's agent and init lines, and what dump.sh
/// captured (the `status` and `log` sections), or why not.
pub struct Boot {
    pub lines: Vec<String>,
    pub sections: Result<Sections, String>,
}

/// The rules for one boot on a damaged file, pure: the problems, each
/// starting with the variant's name.
pub fn judge_damaged(d: &Damage, boot: &Boot, expected: &Rules) -> Vec<String> {
    let mut p = Vec::new();
    let say = |m: String| format!("{} ({}): {m}", d.name, d.what);
    let has = |s: &str| boot.lines.iter().any(|l| agent(l).is_some_and(|(_, t)| t.starts_with(s)));
    if !boot.lines.iter().any(|l| is_ready(l)) {
        p.push(say("the agent never said ready".into()));
    }
    if !has(IGNORED) {
        p.push(say(format!("no `{}` line", IGNORED.trim())));
    }
    for wrong in [RESTORED, NO_STATE] {
        if has(wrong) {
            p.push(say(format!("the agent said `{}`", wrong.trim())));
        }
    }
    if !boot.lines.iter().any(|l| l.contains("run exited status=0")) {
        p.push(say("dump.sh did not finish (no `run exited status=0`)".into()));
    }
    match &boot.sections {
        Ok(s) => {
            match s.text("status").map_err(|e| e.to_string()).and_then(Rules::parse) {
                Ok(r) if r == *expected => {}
                Ok(r) => p.push(say(format!(
                    "the table is {}, not the config's {}",
                    r.render(&Default::default()),
                    expected.render(&Default::default())
                ))),
                Err(e) => p.push(say(format!("no table from dump.sh: {e}"))),
            }
            if !s.text("log").is_ok_and(|l| l.contains(IGNORED)) {
                p.push(say(format!("/run/lvs/agent.log has no `{}` line", IGNORED.trim())));
            }
        }
        Err(e) => p.push(say(format!("dump.sh's output: {e}"))),
    }
    p
}

fn boot_of(vm: &Vm) -> Boot {
    Boot { lines: agent_lines(vm), sections: vm.sections().map_err(|e| e.to_string()) }
}

fn dump_boot(lab: &Lab, images: &Images, name: &str, disk: &Path) -> Result<Vm, String> {
    // Each on a segment of its own: the same address, booted several times at once.
    let nic = lab.multicast().map_err(|e| e.to_string())?;
    boot_director(
        lab,
        &images.ds,
        &DirectorBoot { name, hook: DUMP_HOOK, nic: &nic, state_disk: Some(disk), capture: true },
    )
}

/// Boots the lab named `test_name`: ds once to save a sound state, then once
/// per damaged copy.
pub fn run(plan: &Plan, images: &Images, test_name: &str, say: &(dyn Fn(&str) + Sync)) -> Result<Outcome, String> {
    let t0 = Instant::now();
    let lab = Lab::new(test_name).map_err(|e| e.to_string())?;
    let dir: PathBuf = lab.log_dir().to_path_buf();
    let names = plan.names();
    let mut problems = Vec::new();
    let mut report = String::new();

    // A sound state file, as the agent writes it.
    let disk = dir.join("ds-state.img");
    state_disk(&disk)?;
    let saver = dump_boot(&lab, images, "ds-save", &disk)?;
    let exit = saver.wait_exit(BOOT).map_err(|e| e.to_string());
    let saved = boot_of(&saver);
    report.push_str(&plab::report_vms(&[&saver]));
    if let Err(e) = exit {
        return Ok(Outcome {
            problems: vec![format!("the first boot (saving a state) did not power off: {e}")],
            report,
            summary: String::new(),
        });
    }
    if !saved.lines.iter().any(|l| agent(l).is_some_and(|(_, t)| t.starts_with(NO_STATE))) {
        problems.push(format!("ds-save, on an empty state partition: no `{NO_STATE}` line"));
    }
    match saved.sections.clone().and_then(|s| s.text("status").map_err(|e| e.to_string()).and_then(Rules::parse)) {
        Ok(r) if r == plan.base_down => {}
        Ok(r) => problems.push(format!(
            "ds-save: the table is {}, not the config's {}",
            r.render(&names),
            plan.base_down.render(&names)
        )),
        Err(e) => problems.push(format!("ds-save: no table from dump.sh: {e}")),
    }
    let sound = read_state(&disk).and_then(|good| match check_state(&good) {
        Ok(header) => Ok((good, header)),
        Err(e) => {
            Err(format!("the {STATE_FILE} it left is not sound: {e}; its text:\n{}", String::from_utf8_lossy(&good)))
        }
    });
    let (good, header) = match sound {
        Ok(sound) => sound,
        Err(e) => {
            problems.push(format!("ds-save, stopped by PID 1 after dump.sh, must leave a sound state file on its state partition, so that there is one to damage: {e}"));
            return Ok(Outcome { problems, report, summary: String::new() });
        }
    };
    say(&format!(
        "{:7.3}  ds-save left a sound {STATE_FILE}: {} bytes (header {}, body {})",
        secs(t0),
        good.len(),
        header.header_len,
        header.body_len
    ));
    let _ = std::fs::write(dir.join(STATE_FILE), &good);

    let variants = damages(&good)?;
    let mut results: Vec<(Damage, Boot)> = Vec::new();
    for batch in variants.chunks(AT_ONCE) {
        let mut vms = Vec::new();
        for d in batch {
            let copy = dir.join(format!("ds-{}.img", d.name));
            std::fs::copy(&disk, &copy)
                .map_err(|e| format!("copying {} to {}: {e}", disk.display(), copy.display()))?;
            lvs_image::disk::replace_file(&copy, lvs_image::disk::STATE, STATE_FILE, &d.bytes)
                .map_err(|e| format!("writing the damaged {STATE_FILE} into {}: {e}", copy.display()))?;
            vms.push((d.clone(), dump_boot(&lab, images, &format!("ds-{}", d.name), &copy)?));
        }
        say(&format!(
            "{:7.3}  booting {}",
            secs(t0),
            batch.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
        for (d, vm) in vms {
            let exited = vm.wait_exit(BOOT);
            let mut boot = boot_of(&vm);
            if let Err(e) = exited {
                boot.sections = Err(format!("qemu did not exit within {BOOT:?}: {e}"));
            }
            report.push_str(&plab::report_vms(&[&vm]));
            results.push((d, boot));
        }
    }

    report.push_str("--- each damaged state file and what the agent said of it ---\n");
    for (d, boot) in &results {
        let said = boot
            .lines
            .iter()
            .find_map(|l| agent(l).filter(|(_, t)| t.starts_with("state: ")).map(|(_, t)| t.to_string()))
            .unwrap_or_else(|| "(no `state:` line)".into());
        report.push_str(&format!("  {:<16} {:<70} -> {said}\n", d.name, d.what));
        problems.extend(judge_damaged(d, boot, &plan.base_down));
    }
    report.push_str(&format!(
        "--- logs, the disks and the sound {STATE_FILE} in {}; whole run {:.1} s ---\n",
        dir.display(),
        secs(t0)
    ));
    let _ = std::fs::write(dir.join("report.txt"), &report);
    let summary = format!("{} damaged state files, each ignored at boot; whole run {:.1} s", results.len(), secs(t0));
    Ok(Outcome { problems, report, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(status: &str, log: &str) -> Result<Sections, String> {
        let text =
            format!("=== BEGIN status\n{status}=== END status status=0\n=== BEGIN log\n{log}=== END log status=0\n");
        Sections::parse(&text).map_err(|e| e.to_string())
    }

    /// The config's table: rs1 and rs2 down, quiesced.
    fn down() -> String {
        crate::watch::status::sample(&[("192.0.2.21:80", 0, 0, 0), ("192.0.2.22:80", 0, 0, 0)])
    }

    #[test]
    fn an_ignored_state_and_the_configs_table_pass_anything_else_does_not() {
        let p = crate::persist::plan().unwrap();
        let d = Damage { name: "cut-0".into(), what: "an empty file".into(), bytes: Vec::new() };
        let lines = |state: &str| {
            vec![
                format!("lvs-agent: T=2.0 {state}"),
                "lvs-agent: T=2.5 ready".to_string(),
                "lvs-init: T=3.0 run exited status=0".to_string(),
            ]
        };
        let ignored = "state: ignored /state/state.ron: cut short";
        let good =
            Boot { lines: lines(ignored), sections: sections(&down(), &format!("lvs-agent: T=2.0 {ignored}\n")) };
        assert!(judge_damaged(&d, &good, &p.base_down).is_empty(), "{:#?}", judge_damaged(&d, &good, &p.base_down));

        let restored = Boot {
            lines: lines("state: restored 1 service"),
            sections: sections(&down().replace("Route   0", "Route   1"), ""),
        };
        let problems = judge_damaged(&d, &restored, &p.base_down);
        for needle in [
            "cut-0 (an empty file): no `state: ignored` line",
            "said `state: restored`",
            "not the config's",
            "agent.log has no `state: ignored` line",
        ] {
            assert!(problems.iter().any(|x| x.contains(needle)), "{needle}: {problems:#?}");
        }
        let dead = Boot { lines: vec![], sections: Err("qemu did not exit".into()) };
        let problems = judge_damaged(&d, &dead, &p.base_down);
        assert!(
            problems.iter().any(|x| x.contains("never said ready"))
                && problems.iter().any(|x| x.contains("qemu did not exit")),
            "{problems:#?}"
        );
    }
}
