//! Prints the boot table of docs/BOOT-TIMES.md from the lab's console logs
//! (target/lab-logs/*/*.log, written by `make test`): guest uptime when PID 1
//! starts, when the modules are loaded, and when the agent is ready.

use std::path::{Path, PathBuf};

#[derive(Debug)]
struct Boot {
    log: String,
    method: &'static str,
    started: f64,
    modules: f64,
    ready: f64,
}

fn t(line: &str) -> Option<f64> {
    line.split("T=").nth(1)?.split_whitespace().next()?.parse().ok()
}

fn read(path: &Path) -> Option<Boot> {
    let text = std::fs::read_to_string(path).ok()?;
    let method =
        if text.lines().next()?.contains("-kernel") { "PVH: vmlinux + initramfs" } else { "OVMF: GPT disk + UKI" };
    let started = text.lines().find(|l| l.contains("lvs-init: T=") && l.ends_with(" started")).and_then(t)?;
    let modules = text.lines().find(|l| l.contains("lvs-init: T=") && l.contains("modules loaded (")).and_then(t)?;
    let ready = text.lines().find(|l| l.contains("lvs-agent: T=") && l.ends_with(" ready")).and_then(t)?;
    Some(Boot { log: path.display().to_string(), method, started, modules, ready })
}

fn main() {
    let root = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(lvs_tests::lab::logs_root);
    let mut boots = Vec::new();
    for test in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for log in std::fs::read_dir(test.path()).into_iter().flatten().flatten() {
            if let Some(b) = read(&log.path()) {
                boots.push(b);
            }
        }
    }
    boots.sort_by(|a, b| (a.method, &a.log).cmp(&(b.method, &b.log)));
    println!("| boot | log | PID 1 started | modules loaded | agent ready |");
    println!("|---|---|---|---|---|");
    for b in &boots {
        let log = b.log.strip_prefix(&format!("{}/", root.display())).unwrap_or(&b.log);
        println!("| {} | {log} | {:.3} s | {:.3} s | {:.3} s |", b.method, b.started, b.modules, b.ready);
    }
    if boots.is_empty() {
        eprintln!("boot-table: no boot logs with all three markers under {}: run make test first", root.display());
        std::process::exit(1);
    }
}
