//! Issue 4's lab tests: `lvs-agent apply`, `plan` and `status` against a real
//! IPVS table in a guest kernel, with Debian's ipvsadm as the independent
//! peer that programs and reads the same table (tests/tests/lab_ipvsadm.rs).
//!
//! Every guest writes its command output as sections on the capture port
//! (docs/LAB.md); a failing test prints every problem it found, then every
//! section, so that one run says what to fix.

use lvs_tests::lab::{busybox, images, ipvsadm_extras, Image, Lab, Sections, VmSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// From qemu's start to the script's end, on two busy cores under TCG.
const RUN: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    lvs_tests::repo_root()
}

/// One image for the four tests. Its own config is ipvs-features.ron: the
/// image builder loads ip_vs_pe_sip only for a config that uses it.
fn image() -> Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let mut extras = vec![(busybox().map_err(|e| e.to_string())?, "/bin/busybox".to_string())];
            extras.extend(ipvsadm_extras().map_err(|e| e.to_string())?);
            extras.push(images::agent_cli_link().map_err(|e| e.to_string())?);
            for file in [
                "lib.sh",
                "ipvs-apply.sh",
                "ipvsadm-rules.sh",
                "ipvs-edits.sh",
                "ipvs-features.ron",
                "director.ron",
                "director-weight.ron",
                "ipvs-edit-1.ron",
                "ipvs-edit-2.ron",
            ] {
                extras.push((repo().join("tests/lab").join(file), format!("/lab/{file}")));
            }
            extras.push((repo().join("examples"), "/lab/examples".to_string()));
            images::build("ipvs", "tests/lab/ipvs-features.ron", &extras).map_err(|e| e.to_string())
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What one guest script left behind.
struct Run {
    sections: Sections,
    /// PID 1's `run exited status=N` line.
    exit_line: String,
    console_tail: String,
}

/// Boots the image with `lvs.run=/bin/busybox,sh,SCRIPT,ARGS...`, waits for
/// the guest to power off, and returns its sections.
fn run_script(test: &str, script: &str, args: &[String]) -> Run {
    let image = image();
    let lab = Lab::new(test).unwrap_or_else(|e| panic!("{e}"));
    // The guest routes real servers out of this NIC (lab_route in lib.sh);
    // the bridge has no address and no uplink: it all stays in the namespace.
    let lan = lab.bridge(None).unwrap_or_else(|e| panic!("{e}"));
    let mut run = vec!["/bin/busybox".to_string(), "sh".into(), script.into()];
    run.extend(args.iter().cloned());
    let cmdline = format!("console=ttyS0 panic=-1 lvs.run={}", run.join(","));
    let started = Instant::now();
    let vm = lab
        .boot(VmSpec::kernel("director", &image.vmlinux, Some(&image.initramfs), &cmdline).nic(&lan).capture())
        .unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("run exited status=", RUN).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_exit(Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{test}: the VM ran {:.1} s", started.elapsed().as_secs_f64());
    let exit_line = vm.console_lines().into_iter().find(|l| l.contains("run exited status=")).unwrap_or_default();
    let sections = vm.sections().unwrap_or_else(|e| panic!("{e}\n--- console ---\n{}", vm.tail()));
    Run { sections, exit_line, console_tail: vm.tail() }
}

/// Problems found so far; the test fails once, at the end, with all of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.0.push(problem());
        }
    }

    fn equal(&mut self, what: &str, got: &str, want: &str) {
        self.check(got == want, || format!("{what}: got\n{}\nwant\n{}", indent(got), indent(want)));
    }

    /// The section's text if it is there, complete, and its command exited 0.
    fn section<'a>(&mut self, run: &'a Run, name: &str) -> Option<&'a str> {
        match run.sections.get(name) {
            None => {
                self.0.push(format!("section {name} is missing"));
                None
            }
            Some(s) if !s.complete => {
                self.0.push(format!("section {name} was cut short"));
                None
            }
            Some(s) => {
                if s.status != Some(0) {
                    let stderr = run.sections.get(&format!("{name}.stderr")).map(|e| e.text.as_str()).unwrap_or("");
                    self.0.push(format!("{name} exited with {:?}; stderr:\n{}", s.status, indent(stderr)));
                }
                Some(&s.text)
            }
        }
    }

    fn finish(self, run: &Run) {
        if self.0.is_empty() {
            return;
        }
        let mut message = format!("{} problem(s):\n", self.0.len());
        for (i, p) in self.0.iter().enumerate() {
            message.push_str(&format!("\n{}. {p}\n", i + 1));
        }
        message.push_str(&format!(
            "\n--- {} ---\n--- every section the guest wrote ---\n{}--- last console lines ---\n{}\n",
            run.exit_line,
            run.sections.render(),
            run.console_tail
        ));
        panic!("{message}");
    }
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)".into();
    }
    text.lines().map(|l| format!("    |{l}")).collect::<Vec<_>>().join("\n")
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    lines.sort();
    lines
}

/// `lvs-agent export ipvsadm FILE` on the host, with the static agent the image has.
fn export(file: &Path) -> Result<String, String> {
    let agent = images::agent_binary().map_err(|e| e.to_string())?;
    let out = Command::new(&agent)
        .args(["export", "ipvsadm"])
        .arg(file)
        .output()
        .map_err(|e| format!("running {}: {e}", agent.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`lvs-agent export ipvsadm {}` failed ({}): {}",
            file.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `Timeout (tcp tcpfin udp): 900 120 300` as numbers.
fn timeouts(text: &str) -> Option<[u64; 3]> {
    let numbers: Vec<u64> =
        text.trim().rsplit_once(':')?.1.split_whitespace().map(|n| n.parse().ok()).collect::<Option<_>>()?;
    numbers.try_into().ok()
}

/// `applied N changes` / `applied 1 change` / `no changes` last, diff lines
/// before it: the number of diff lines, or why the text is not that.
fn applied_count(text: &str, verb: &str) -> Result<usize, String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some((last, changes)) = lines.split_last() else {
        return Err("printed nothing".into());
    };
    for line in changes {
        if !(line.starts_with("+ ") || line.starts_with("~ ") || line.starts_with("- ")) {
            return Err(format!("{line:?} is not a change line (`+ `, `~ ` or `- `)"));
        }
    }
    let n = if *last == "no changes" {
        0
    } else {
        let count = last.strip_prefix(verb).and_then(|rest| rest.strip_prefix(' ')).unwrap_or("");
        let count = count.strip_suffix(" changes").or_else(|| count.strip_suffix(" change"));
        count
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("last line {last:?} is not `{verb} N changes` or `no changes`"))?
    };
    if n != changes.len() {
        return Err(format!("says {n} changes but lists {}", changes.len()));
    }
    Ok(n)
}

/// The director configs to apply: every director example but the one that
/// is invalid on purpose, and ipvs-features.ron. (host path, guest path)
fn director_configs() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = lvs_tests::example_files()
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with("-director.ron") && name != "001-dr-portmap-8099-refused.ron"
        })
        .map(|p| {
            let guest = format!("/lab/examples/{}", p.file_name().and_then(|n| n.to_str()).unwrap_or(""));
            (p, guest)
        })
        .collect();
    assert!(files.len() >= 5, "expected the director examples in examples/, found {files:?}");
    files.push((repo().join("tests/lab/ipvs-features.ron"), "/lab/ipvs-features.ron".into()));
    files
}

#[test]
fn apply_programs_every_director_config_as_ipvsadm_reads_it_back() {
    let configs = director_configs();
    let guest_paths: Vec<String> = configs.iter().map(|(_, g)| g.clone()).collect();
    let run = run_script("ipvs_apply", "/lab/ipvs-apply.sh", &guest_paths);
    let mut p = Problems::default();
    p.check(run.exit_line.ends_with("run exited status=0"), || {
        format!("the guest script ended with {:?}", run.exit_line)
    });

    for (host, guest) in &configs {
        let n = guest.rsplit('/').next().unwrap_or(guest).trim_end_matches(".ron");
        let section = |p: &mut Problems, what: &str| p.section(&run, &format!("{n}/{what}")).map(str::to_string);

        if let Some(apply) = section(&mut p, "apply") {
            match applied_count(&apply, "applied") {
                Ok(0) => p.0.push(format!("{n}/apply: applied nothing to an empty table")),
                Ok(_) => {}
                Err(why) => p.0.push(format!("{n}/apply: {why}")),
            }
        }

        // Two renderings made independently: ipvsadm's of the kernel's table,
        // and ours of the config.
        let exported = export(host).unwrap_or_else(|e| {
            p.0.push(e);
            String::new()
        });
        let (settings, rules): (Vec<&str>, Vec<&str>) = exported.lines().partition(|l| l.starts_with("--"));
        if let Some(save) = section(&mut p, "save") {
            // ipvsadm -S leaves out the thresholds, which export writes: they
            // are compared with `ipvsadm -Ln --thresholds` below.
            let ours: Vec<String> = rules.iter().map(|l| without_thresholds(l)).collect();
            let got = sorted_lines(&save);
            let want = sorted_lines(&ours.join("\n"));
            p.check(got == want, || {
                format!(
                    "{n}: ipvsadm -S -n (sorted) differs from lvs-agent export ipvsadm (sorted):\n{}",
                    line_diff(&got, &want)
                )
            });
        }
        if let Some(thresholds) = section(&mut p, "thresholds") {
            for line in &rules {
                if let Some((addr, upper, lower)) = dest_thresholds(line) {
                    let found = thresholds.lines().any(|l| {
                        let w: Vec<&str> = l.split_whitespace().collect();
                        // `  -> ADDR  Uthreshold Lthreshold ActiveConn InActConn`
                        w.len() >= 4 && w[0] == "->" && w[1] == addr && w[2] == upper && w[3] == lower
                    });
                    p.check(found, || {
                        format!(
                            "{n}: ipvsadm -Ln --thresholds shows no {addr} with thresholds {upper}/{lower} ({line})"
                        )
                    });
                }
            }
        }

        if let (Some(list), Some(status)) = (section(&mut p, "list"), section(&mut p, "status")) {
            p.equal(&format!("{n}: lvs-agent status vs ipvsadm -Ln"), &status, &list);
        }

        if let (Some(before), Some(after)) = (section(&mut p, "timeout-before"), section(&mut p, "timeout")) {
            match (timeouts(&before), timeouts(&after)) {
                (Some(before), Some(after)) => {
                    let set =
                        settings.iter().find_map(|l| l.strip_prefix("--set ")).map(|s| timeouts(&format!(":{s}")));
                    let mut want = before;
                    if let Some(Some(set)) = set {
                        // 0 in `--set` keeps the kernel's value, as ipvsadm does.
                        for (w, s) in want.iter_mut().zip(set) {
                            if s != 0 {
                                *w = s;
                            }
                        }
                    }
                    p.check(after == want, || {
                        format!("{n}: timeouts (tcp tcpfin udp) are {after:?} after apply, want {want:?} (before: {before:?}, file: {set:?})")
                    });
                }
                _ => p.0.push(format!("{n}: cannot read `ipvsadm -L --timeout`: {before:?} / {after:?}")),
            }
        }

        for again in ["reapply", "plan"] {
            if let Some(text) = section(&mut p, again) {
                p.equal(&format!("{n}/{again}: a second look at an applied config"), &text, "no changes\n");
            }
        }

        // `save --format ipvsadm` reads the kernel as ipvsadm -S does (plus
        // thresholds, which ipvsadm -S leaves out), and `restore` of either
        // format gives back what ipvsadm listed.
        if let (Some(ours), Some(save)) = (section(&mut p, "save-ipvsadm"), section(&mut p, "save")) {
            let ours: Vec<String> = ours.lines().filter(|l| !l.starts_with("--")).map(without_thresholds).collect();
            let (got, want) = (sorted_lines(&ours.join("\n")), sorted_lines(&save));
            p.check(got == want, || {
                format!("{n}: lvs-agent save --format ipvsadm differs from ipvsadm -S -n:\n{}", line_diff(&got, &want))
            });
        }
        for from in ["state", "rules"] {
            if let (Some(restore), Some(list)) = (section(&mut p, &format!("restore-{from}")), section(&mut p, "list"))
            {
                p.check(restore.contains("restored "), || {
                    format!("{n}: lvs-agent restore of the saved {from} said:\n{restore}")
                });
                if let Some(restored) = section(&mut p, &format!("restored-{from}")) {
                    p.equal(&format!("{n}: ipvsadm -Ln after restoring the saved {from}"), &restored, &list);
                }
            }
        }
    }
    p.finish(&run);
}

/// An export rule line without its ` -x N` and ` -y N`.
fn without_thresholds(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if (words[i] == "-x" || words[i] == "-y") && i + 1 < words.len() {
            i += 2;
        } else {
            out.push(words[i]);
            i += 1;
        }
    }
    out.join(" ")
}

/// `(real server, upper, lower)` of an export `-a` line that has thresholds.
fn dest_thresholds(line: &str) -> Option<(&str, &str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).copied();
    if words.first() != Some(&"-a") || (after("-x").is_none() && after("-y").is_none()) {
        return None;
    }
    Some((after("-r")?, after("-x").unwrap_or("0"), after("-y").unwrap_or("0")))
}

/// Lines only in one of two sorted lists.
fn line_diff(got: &[String], want: &[String]) -> String {
    let mut out = String::new();
    for l in got.iter().filter(|l| !want.contains(l)) {
        out.push_str(&format!("    only in ipvsadm -S: {l}\n"));
    }
    for l in want.iter().filter(|l| !got.contains(l)) {
        out.push_str(&format!("    only in export:     {l}\n"));
    }
    if out.is_empty() {
        out.push_str("    (the same lines, a different number of times)\n");
    }
    out
}

#[test]
fn status_reads_rules_made_by_ipvsadm_as_ipvsadm_lists_them() {
    let run = run_script("ipvs_status", "/lab/ipvsadm-rules.sh", &[]);
    let mut p = Problems::default();
    p.check(run.exit_line.ends_with("run exited status=0"), || {
        format!("the guest script ended with {:?}", run.exit_line)
    });
    for s in &run.sections.sections {
        if s.name.starts_with("rule-") && !s.name.ends_with(".stderr") {
            p.check(s.status == Some(0), || format!("ipvsadm refused {} (see its section)", s.name));
        }
    }
    // The three issue 4 names, then the other views status offers.
    for (name, what) in [
        ("list", "status vs ipvsadm -Ln"),
        ("stats", "status --stats vs ipvsadm -Ln --stats"),
        ("rate", "status --rate vs ipvsadm -Ln --rate"),
        ("exact", "status --stats --exact vs ipvsadm -Ln --stats --exact"),
        ("thresholds", "status --thresholds vs ipvsadm -Ln --thresholds"),
        ("persistent-conn", "status --persistent-conn vs ipvsadm -Ln --persistent-conn"),
        ("tun-info", "status --tun-info vs ipvsadm -Ln --tun-info"),
        ("timeout", "status --timeout vs ipvsadm -L --timeout"),
        ("daemon", "status --daemon vs ipvsadm -L --daemon"),
    ] {
        let Some(stable) = p.section(&run, &format!("{name}/stable")).map(str::trim) else { continue };
        if stable.is_empty() {
            p.0.push(format!("{what}: ipvsadm's own two readings never agreed in 5 tries"));
            continue;
        }
        let ipvsadm = p.section(&run, &format!("{name}/{stable}/ipvsadm"));
        let agent = p.section(&run, &format!("{name}/{stable}/agent"));
        if let (Some(ipvsadm), Some(agent)) = (ipvsadm, agent) {
            p.equal(what, agent, ipvsadm);
        }
    }
    // The traffic reached IPVS, or the counters compared were all zero.
    if let Some(stats) = run.sections.get("stats/1/ipvsadm") {
        let counted = stats
            .text
            .lines()
            .any(|l| l.starts_with("TCP  192.0.2.9:8080") && l.split_whitespace().nth(2) != Some("0"));
        p.check(counted, || {
            "no connections counted on 192.0.2.9:8080: the guest's traffic did not go through IPVS".into()
        });
    }
    p.finish(&run);
}

/// ipvs-edits.sh, run once for the two tests that read it: one boot, not two.
fn edits() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run_script("ipvs_edits", "/lab/ipvs-edits.sh", &[]))
}

#[test]
fn one_changed_weight_is_applied_as_one_edit() {
    let run = edits();
    let mut p = Problems::default();
    p.check(run.exit_line.ends_with("run exited status=0"), || {
        format!("the guest script ended with {:?}", run.exit_line)
    });
    if let Some(first) = p.section(run, "first") {
        let adds = applied_count(first, "applied");
        let only_adds = first.lines().rev().skip(1).all(|l| l.starts_with("+ "));
        p.check(matches!(adds, Ok(n) if n > 0) && only_adds, || {
            format!("first apply, to an empty table: want only `+ ` lines ({adds:?}):\n{}", indent(first))
        });
    }
    for (name, verb) in [("plan", ""), ("second", "applied")] {
        let Some(text) = p.section(run, name) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        let total = if verb.is_empty() { ["1 change", "1 changes"] } else { ["applied 1 change", "applied 1 changes"] };
        let ok = lines.len() == 2 && lines[0].starts_with("~ ") && total.contains(&lines[1]);
        p.check(ok, || format!("{name}: want exactly one `~ ` line and `{}`, got\n{}", total[1], indent(text)));
        p.check(text.contains("192.0.2.21"), || {
            format!("{name}: the edit does not name the real server 192.0.2.21:\n{}", indent(text))
        });
    }
    if let Some(list) = p.section(run, "list-second") {
        let weight = list.lines().find(|l| l.contains("-> 192.0.2.21:80")).and_then(|l| l.split_whitespace().nth(3));
        p.check(weight == Some("5"), || {
            format!("after the second apply, ipvsadm shows 192.0.2.21:80 with weight {weight:?}, want 5")
        });
    }
    p.finish(run);
}

/// The second half of ipvs-edits.sh: a whole table with a master sync daemon
/// that sets every multicast setting and a backup that sets none, then a
/// second file that edits one service, deletes one real server and one
/// service, and keeps the daemons.
#[test]
fn an_edited_config_is_applied_as_exactly_its_edits_and_keeps_the_sync_daemons() {
    let run = edits();
    let mut p = Problems::default();
    p.check(run.exit_line.ends_with("run exited status=0"), || {
        format!("the guest script ended with {:?}", run.exit_line)
    });

    // Debian's ipvsadm reads the daemons back from the kernel: the master as
    // configured, the backup with the kernel's defaults (eth0's MTU of 1500
    // less 28 bytes of IPv4 and UDP headers, 224.0.0.81:8848, TTL 1).
    let want_daemons = "master sync daemon (mcast=eth0, syncid=7, maxlen=1400, group=239.0.2.1, port=8849, ttl=3)\n\
                        backup sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n";
    if let Some(daemons) = p.section(run, "edit/daemon") {
        p.equal("ipvsadm -L --daemon after the first apply", daemons, want_daemons);
    }
    if let Some(status) = p.section(run, "edit/status-daemon") {
        p.equal("lvs-agent status --daemon vs the daemons ipvsadm should list", status, want_daemons);
    }
    if let Some(text) = p.section(run, "edit/first") {
        for line in [
            "+ sync daemon master on eth0 id 7 maxlen 1400 group 239.0.2.1 port 8849 ttl 3",
            "+ sync daemon backup on eth0 id 7",
        ] {
            p.check(text.lines().any(|l| l == line), || format!("edit/first: no line {line:?} in\n{}", indent(text)));
        }
    }
    // The kernel's defaults for the backup, and the master's own values, read
    // back as what the file asked for.
    for again in ["edit/replan", "edit/again"] {
        if let Some(text) = p.section(run, again) {
            p.equal(&format!("{again}: planning an applied file"), text, "no changes\n");
        }
    }

    // Exactly the three edits, in the plan and in the apply.
    let edits = [
        "~ TCP 192.0.2.50:80 scheduler wlc persistent 300s mask 255.255.255.255",
        "- TCP 192.0.2.50:80 -> 192.0.2.52:80",
        "- UDP 192.0.2.70:53",
    ];
    for (name, total) in [("edit/plan", "3 changes"), ("edit/second", "applied 3 changes")] {
        let Some(text) = p.section(run, name) else { continue };
        let want = format!("{}\n{total}\n", edits.join("\n"));
        p.equal(&format!("{name}: SET_SERVICE, DEL_DEST and DEL_SERVICE, nothing else"), text, &want);
    }
    if let Some(save) = p.section(run, "edit/save") {
        let exported = export(&repo().join("tests/lab/ipvs-edit-2.ron")).unwrap_or_else(|e| {
            p.0.push(e);
            String::new()
        });
        let rules: Vec<&str> = exported.lines().filter(|l| !l.starts_with("--")).collect();
        let (got, want) = (sorted_lines(save), sorted_lines(&rules.join("\n")));
        p.check(got == want, || {
            format!(
                "ipvsadm -S -n after the second apply differs from lvs-agent export ipvsadm ipvs-edit-2.ron:\n{}",
                line_diff(&got, &want)
            )
        });
    }
    if let Some(after) = p.section(run, "edit/daemon-second") {
        p.equal("ipvsadm -L --daemon after the second apply (the daemons were not touched)", after, want_daemons);
    }
    p.finish(run);
}
