//! Workloads of a real server: programs the agent runs and keeps running.

use super::{has_control, has_control_but_tab, Findings};
use crate::diagnostic::shown;
use crate::file;
use crate::model::Workload;
use crate::path::Path;
use std::time::Duration;

/// The longest a shutdown waits for one workload before SIGKILL.
const MAX_STOP_TIMEOUT: Duration = Duration::from_secs(3600);

pub fn workloads(f: &mut Findings, at: &Path, list: &[file::Workload]) -> Vec<Workload> {
    let mut out: Vec<Workload> = Vec::new();
    for (i, w) in list.iter().enumerate() {
        let wat = at.index(i);
        let command = w.command.to_string_lossy();
        if !w.command.is_absolute() {
            f.error(
                wat.field("command"),
                format!("workload command `{}` is not an absolute path", shown(&command)),
                "the appliance has no shell and no PATH search: write the program's full path in the image, e.g. \"/bin/busybox\"",
            );
        } else if has_control(&command) {
            f.error(
                wat.field("command"),
                format!("workload command `{}` holds a control character", shown(&command)),
                "a program's path holds no NUL, newline or other control character: write its full path in the image",
            );
        }
        if let Some(name) = w.name.as_deref().filter(|n| n.is_empty() || has_control(n)) {
            f.error(
                wat.field("name"),
                format!("workload name `{}` is empty or holds a control character", shown(name)),
                "logs and state tell workloads apart by name: give a short one such as \"web\"",
            );
        }
        for (j, arg) in w.args.iter().enumerate() {
            if has_control_but_tab(arg) {
                f.error(
                    wat.field("args").index(j),
                    format!("argument `{}` holds a NUL, a newline or another control character", shown(arg)),
                    "a program cannot receive a NUL, and a newline or escape is printed as it is wherever \
                     the command line is shown: remove the control characters (a tab is fine)",
                );
            }
        }
        let name = w.name.clone().unwrap_or_else(|| {
            w.command.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| format!("workload{i}"))
        });
        if out.iter().any(|o| o.name == name) {
            f.error(
                wat.field(if w.name.is_some() { "name" } else { "command" }),
                format!("two workloads are named `{name}`"),
                "give each workload its own `name`: logs and state tell them apart by it",
            );
        }
        if let Some(bad) = w.env.keys().find(|k| k.is_empty() || k.contains('=') || has_control(k)) {
            f.error(
                wat.field("env"),
                format!(
                    "environment variable name `{}` is empty or holds `=` or a NUL or control character",
                    shown(bad)
                ),
                "use names such as \"PORT\" or \"LANG\"",
            );
        }
        if let Some(key) = w.env.iter().find_map(|(k, v)| has_control_but_tab(v).then_some(k)) {
            f.error(
                wat.field("env"),
                format!("environment variable {} holds a NUL, a newline or another control character", shown(key)),
                "a program cannot receive a NUL in its environment, and a newline or escape is printed as it is \
                 wherever the value is shown: remove the control characters (a tab is fine)",
            );
        }
        if w.stop_timeout.0.is_zero() {
            f.error(
                wat.field("stop_timeout"),
                "a stop_timeout of 0 kills the workload without letting it finish",
                "give it time to stop cleanly, e.g. \"5s\" (the default); at most 1h",
            );
        } else if w.stop_timeout.0 > MAX_STOP_TIMEOUT {
            f.error(
                wat.field("stop_timeout"),
                format!("stop_timeout {} is longer than 1h", w.stop_timeout),
                "shutdown waits this long before SIGKILL: give the workload at most 1h, e.g. \"5s\" (the default)",
            );
        }
        out.push(Workload {
            name,
            command: w.command.clone(),
            args: w.args.clone(),
            env: w.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            restart: w.restart,
            stop_timeout: w.stop_timeout.0,
        });
    }
    out
}
