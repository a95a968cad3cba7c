//! The README's "Operate an appliance" commands, run as written against what
//! `make run` boots (issue 14: "the README's commands work as written against
//! `make run`").
//!
//! `make run` is the Makefile calling `lab-run` with its defaults; this test
//! calls the same binary the same way, from a folder laid out like the
//! repository's top (`out/lvs-agent`, `out/pki`, `out/img`), inside a lab
//! namespace, so that its 127.0.0.1:9443 is the test's own. Then it takes the
//! block between `<!-- operate` and `<!-- /operate -->` in README.md and runs
//! each line with `sh` in that folder, the `export` line first, as a user
//! pastes them into a terminal. Every line must exit 0; a few outputs are
//! checked for what the README says they show. The last line reboots the
//! VM, which must come back ready and answer `status` again.
//!
//! Needs root and `make tools` (the static agent and lvs-image).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lvs_tests::lab::Lab;
use lvs_tests::watch::console::is_ready;

/// Building the image (a pki, lvs-image) and booting the kernel under TCG.
const BOOT: Duration = Duration::from_secs(300);
/// Longer than any answer the API gives (a weight may wait 40 s for the IPVS thread).
const COMMAND: Duration = Duration::from_secs(60);

/// The shell lines of the README's operate block.
fn readme_block() -> Vec<String> {
    let readme = std::fs::read_to_string(lvs_tests::repo_root().join("README.md")).expect("README.md");
    let start = readme.find("<!-- operate").expect("README.md has no `<!-- operate` marker");
    let end = readme[start..].find("<!-- /operate -->").expect("README.md has no `<!-- /operate -->` marker");
    let block = &readme[start..start + end];
    let body = block.split_once("```sh\n").expect("the operate block has no ```sh fence").1;
    let body = body.split("```").next().unwrap_or_default();
    body.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// `make run`'s process: qemu's console (its stdout) read into lines.
struct MakeRun {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Where the console is kept when the run ends.
    log: Option<PathBuf>,
}

impl MakeRun {
    /// `lab-run` with the arguments the Makefile's `run` target gives it, in `top`.
    fn start(lab: &Lab, top: &Path) -> MakeRun {
        let repo = lvs_tests::repo_root();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", lab.netns(), env!("CARGO_BIN_EXE_lab-run")]);
        cmd.arg("--config").arg(repo.join("examples/001-dr-wrr-director.ron"));
        cmd.args(["--out", "out/img", "--pki", "out/pki", "--agent", "out/lvs-agent"]);
        cmd.arg("--image-tool").arg(repo.join("target/release/lvs-image"));
        cmd.args(["--port", "9443"]);
        cmd.current_dir(top).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start lab-run");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            });
        }
        MakeRun { child, lines, log: Some(lab.log_dir().to_path_buf()) }
    }

    fn so_far(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits for the agent's ready line after line `from`.
    fn ready_after(&mut self, from: usize, what: &str) {
        let deadline = Instant::now() + BOOT;
        while Instant::now() < deadline {
            if self.lines.lock().unwrap()[from..].iter().any(|l| is_ready(l)) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("make run ended ({status}) before {what}:\n{}", self.tail());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no ready line within {BOOT:?} for {what}:\n{}", self.tail());
    }

    fn tail(&self) -> String {
        let lines = self.lines.lock().unwrap();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for MakeRun {
    fn drop(&mut self) {
        if let Some(dir) = &self.log {
            let _ = std::fs::write(dir.join("make-run.log"), self.lines.lock().unwrap().join("\n"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One README line, after the export line, in `top`, inside the lab's namespace.
fn paste(lab: &Lab, top: &Path, export: &str, line: &str) -> (i32, String, String) {
    let script = format!("{export}\n{line}\n");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", lab.netns(), "timeout", &COMMAND.as_secs().to_string(), "sh", "-c", &script]);
    for var in ["LVS_ENDPOINT", "LVS_IDENTITY", "LVS_CA"] {
        cmd.env_remove(var);
    }
    let out = cmd.current_dir(top).output().expect("cannot run sh");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// A folder laid out like the repository's top for the README's paths.
fn top_folder(lab: &Lab) -> PathBuf {
    let top = lab.log_dir().join("top");
    let _ = std::fs::remove_dir_all(&top);
    std::fs::create_dir_all(top.join("out")).unwrap();
    let agent = lvs_tests::repo_root().join("out/lvs-agent");
    assert!(agent.is_file(), "{} is missing: run `make tools` first", agent.display());
    std::os::unix::fs::symlink(&agent, top.join("out/lvs-agent")).unwrap();
    top
}

#[test]
fn the_readme_operate_commands_work_as_written_against_make_run() {
    let lab = Lab::new("readme_operate").unwrap_or_else(|e| panic!("the lab: {e}"));
    let top = top_folder(&lab);
    let lines = readme_block();
    let (export, commands) = lines.split_first().expect("the operate block is empty");
    assert!(export.starts_with("export LVS_ENDPOINT=127.0.0.1:9443 "), "the block starts with the export: {export}");
    assert!(commands.last().is_some_and(|l| l.starts_with("out/lvs-agent reboot")), "the block ends with reboot");

    let mut run = MakeRun::start(&lab, &top);
    run.ready_after(0, "the first boot");
    let mut report = Vec::new();
    for line in commands {
        let mark = run.so_far();
        let (code, stdout, stderr) = paste(&lab, &top, export, line);
        report.push(format!("$ {line}\n(exit {code})\n{stdout}{stderr}"));
        assert_eq!(
            code,
            0,
            "`{line}` as the README writes it:\n{}\nmake run's console:\n{}",
            report.join("\n"),
            run.tail()
        );
        let command = line.split('#').next().unwrap_or_default().trim();
        if command == "out/lvs-agent status" {
            assert!(stdout.contains("TCP  192.168.56.185:80 wrr"), "status shows the service:\n{stdout}");
            assert!(stdout.contains("192.168.56.183:80"), "status shows rs1:\n{stdout}");
        } else if command.starts_with("out/lvs-agent config") {
            let running = std::fs::read_to_string(top.join("running.ron")).unwrap();
            lvs_config::parse(&running, Path::new("running.ron"))
                .unwrap_or_else(|e| panic!("`config` wrote a running.ron that does not validate: {e}\n{running}"));
            assert!(running.contains("weight: 2"), "the sed line after it has something to change:\n{running}");
        } else if command.ends_with(" drain") {
            assert!(stdout.contains("connection"), "drain says how many connections remain:\n{stdout}");
        } else if command.starts_with("out/lvs-agent logs") {
            assert!(stdout.lines().count() >= 5, "logs prints the last lines:\n{stdout}");
        } else if command.starts_with("out/lvs-agent reboot") {
            run.ready_after(mark, "the boot after `reboot`");
            let (code, stdout, stderr) = paste(&lab, &top, export, "out/lvs-agent status");
            assert_eq!(code, 0, "status after the reboot:\n{stdout}{stderr}");
            assert!(stdout.contains("192.168.56.185:80"), "the table is back after the reboot:\n{stdout}");
        }
    }
    let _ = std::fs::write(lab.log_dir().join("report.txt"), report.join("\n"));
}
