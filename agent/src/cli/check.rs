//! `lvs-agent check`: one summary line per file.

use super::{EXIT_FAILED, EXIT_INVALID};
use lvs_config::{model, ConfigError, Loaded, Severity};
use std::path::PathBuf;

pub fn run(files: &[PathBuf], print: bool) -> i32 {
    let mut status = 0;
    for file in files {
        match lvs_agent::capped::load_config(file) {
            Ok(mut loaded) => {
                // The pki folder is checked as the agent checks it at boot, where this machine has it.
                match lvs_agent::manage::setup::check_here(&loaded) {
                    Some(d) if d.severity == Severity::Error => {
                        for w in &loaded.warnings {
                            eprintln!("{w}");
                        }
                        eprintln!("{d}");
                        println!("{}: invalid: 1 error", file.display());
                        status = EXIT_INVALID;
                        continue;
                    }
                    Some(warning) => loaded.warnings.push(warning),
                    None => {}
                }
                for w in &loaded.warnings {
                    eprintln!("{w}");
                }
                println!("{}: ok: {}", file.display(), summary(&loaded));
                if print {
                    println!("{:#?}", loaded.model);
                }
            }
            Err(ConfigError::Invalid { errors, warnings }) => {
                for d in warnings.iter().chain(&errors) {
                    eprintln!("{d}");
                }
                let n = errors.len();
                println!("{}: invalid: {n} error{}", file.display(), if n == 1 { "" } else { "s" });
                status = EXIT_INVALID;
            }
            Err(e @ ConfigError::Read { .. }) => {
                eprintln!("{e}");
                println!("{}: unreadable", file.display());
                // An invalid file elsewhere in the list still decides the status.
                if status != EXIT_INVALID {
                    status = EXIT_FAILED;
                }
            }
        }
    }
    status
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary(loaded: &Loaded) -> String {
    let m = &loaded.model;
    // Quoted as Rust quotes it, so that a newline in it cannot start a line of its own.
    let host = m.hostname.as_deref().map(|h| format!(" {h:?}")).unwrap_or_default();
    let role = match &m.role {
        model::Role::Director(d) => format!(
            "director{host}, {}, {}",
            plural(d.services.len(), "service", "services"),
            plural(d.real_server_count(), "real server", "real servers"),
        ),
        model::Role::RealServer(r) => {
            let vips: Vec<String> = r.vips.iter().map(ToString::to_string).collect();
            let mode = match r.mode {
                lvs_ipvs::Forward::Tunnel => "tun",
                lvs_ipvs::Forward::Nat => "nat",
                _ => "dr",
            };
            let vips = if vips.is_empty() { String::new() } else { format!(", VIPs {}", vips.join(" ")) };
            format!("real server{host}, {mode} mode{vips}")
        }
    };
    format!("{role}, {}", plural(loaded.warnings.len(), "warning", "warnings"))
}
