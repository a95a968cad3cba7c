//! Subcommands, one file each. The operational ones (status, apply, try,
//! confirm, weight, config, logs, reboot, poweroff) act on this machine, or
//! with `--endpoint` ask an appliance's management API (`remote`).

mod apply;
mod check;
mod config;
mod director;
mod export;
mod import;
mod logs;
mod persist;
mod pki;
mod power;
mod remote;
mod status;
mod swap;
mod weight;

use clap::{Parser, Subcommand, ValueEnum};
use lvs_agent::manage::Power;
use remote::Target;
use std::path::PathBuf;

pub use lvs_agent::cli_status::{FAILED as EXIT_FAILED, INVALID as EXIT_INVALID};

#[derive(Parser)]
#[command(
    name = "lvs-agent",
    version,
    about = "Configure a Linux Virtual Server director or real server from one RON file"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate config files: one line per file, warnings and errors with line and column.
    Check {
        /// RON files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print the normalized model each file becomes.
        #[arg(long)]
        print: bool,
    },
    /// Read rules in another tool's format and print a Director config.
    Import {
        #[arg(value_enum)]
        format: Format,
        /// The rules: `ipvsadm-save -n` output or ipvsadm command lines; `-` or nothing for stdin.
        file: Option<PathBuf>,
        /// Fail on lines the kernel would refuse (adding what exists, editing what does not)
        /// instead of skipping them with a warning.
        #[arg(long)]
        strict: bool,
        /// Write the config here instead of to stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run the agent: apply the config and keep it applied until SIGTERM.
    /// On the appliance, PID 1 starts and supervises this.
    Run {
        /// The appliance's RON file.
        #[arg(long)]
        config: PathBuf,
        /// Where state is kept (default: the config's state_dir).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Overrides the config's log_level: error, warn, info, debug or trace.
        #[arg(long)]
        log_level: Option<log::LevelFilter>,
        /// Where the ready marker and the agent's log are written.
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        /// The read-only mount point the config is on, remounted read-write to write a
        /// change that lasts (PID 1 passes /config for the config partition's file).
        #[arg(long)]
        config_mount: Option<PathBuf>,
        /// Started by the appliance's PID 1, which reboots and powers off for it.
        #[arg(long)]
        under_init: bool,
    },
    /// Print the changes that `apply` would send to the kernel's IPVS table, like a diff:
    /// `+` add, `~` edit, `-` delete. Sends nothing.
    Plan {
        /// A director's RON file.
        file: PathBuf,
    },
    /// Bring the kernel's IPVS table to what a director's config says, printing each change.
    /// If the kernel refuses one, the changes made before it are undone.
    /// With --endpoint: the appliance runs the config (any role) and writes it to its config
    /// partition, keeping the previous one; a refused config is told with its line:col.
    Apply {
        /// A director's RON file (with --endpoint: the appliance's whole config, 1 MiB at most).
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Print the kernel's IPVS table in the layout of `ipvsadm -Ln`. With --endpoint, the
    /// appliance's, then the health of each checked real server under "Health".
    Status(status::Args),
    /// Print the kernel's IPVS table as a state file (what `restore` and a booting
    /// agent read) or as ipvsadm rules.
    Save {
        #[arg(long, value_enum, default_value = "state")]
        format: persist::SaveFormat,
        /// Write here (atomically) instead of to stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Program the table of a state file or of ipvsadm rules into the kernel: its
    /// services are made as saved, others are left alone.
    Restore {
        /// Default: /state/state.ron, else /run/lvs/state/state.ron.
        file: Option<PathBuf>,
    },
    /// Run a new config on the running agent for a while: it goes back to its
    /// config file unless `lvs-agent confirm` comes first. With --endpoint, on the appliance.
    Try {
        /// The RON file to try (validated first; an invalid one changes nothing).
        file: PathBuf,
        /// How long until the agent goes back, e.g. 60s or 5m; at most 24h.
        #[arg(long, default_value = "60s", value_parser = swap::parse_within)]
        within: std::time::Duration,
        /// The running agent's run directory.
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Keep the config being tried: the agent writes it over its config file.
    Confirm {
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Set a real server's weight on the running director, or `clear` it back to the
    /// configured one, and print what the agent did or why not. Health still decides: a
    /// server that is down stays at 0 until it is up. The weight is kept in the state file
    /// until cleared.
    Weight {
        /// As the log and `status` name it: "TCP 192.0.2.80:80", "UDP [2001:db8::1]:53",
        /// "FWM 5"; a bare "192.0.2.80:80" means TCP.
        service: String,
        /// The real server's address; without a port, the service's.
        real_server: String,
        /// 0 to 2147483647, `clear`, or `drain` (0, and the answer says how many connections
        /// are still active).
        weight: String,
        /// The running agent's run directory.
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Print the config the running agent runs: the file it was started with, or the config
    /// being tried. The text goes to stdout as it is (save it, edit it, apply it); where it
    /// comes from, and a try's deadline, to stderr. With --endpoint, the appliance's.
    Config {
        /// The running agent's run directory.
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Print the last lines of the running agent's log (RUN_DIR/agent.log here; with
    /// --endpoint, the appliance's in-memory log of its last 1000 lines).
    Logs {
        /// Then print each new line as it is logged, until interrupted.
        #[arg(short, long)]
        follow: bool,
        /// How many of the last lines.
        #[arg(short = 'n', long, default_value_t = lvs_agent::manage::api::DEFAULT_LOG_LINES)]
        lines: usize,
        /// The running agent's run directory.
        #[arg(long, default_value = "/run/lvs")]
        run_dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Stop the agent cleanly and reboot the appliance. Here, only when PID 1 is lvs-agent.
    Reboot {
        #[command(flatten)]
        target: Target,
    },
    /// Stop the agent cleanly and power the appliance off. Here, only when PID 1 is lvs-agent.
    Poweroff {
        #[command(flatten)]
        target: Target,
    },
    /// Make and manage the identities of the management API: a CA, the appliance's
    /// certificate, operators' identities, revocations.
    #[command(subcommand)]
    Pki(pki::Command),
    /// Print the IPVS part of a config in another tool's format.
    Export {
        #[arg(value_enum)]
        format: Format,
        /// The config file.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// ipvsadm rules, as `ipvsadm-save -n` writes and `ipvsadm -R` reads them.
    Ipvsadm,
}

/// The kernel's IPVS, over generic netlink.
fn kernel() -> anyhow::Result<Box<dyn lvs_ipvs::Ipvs>> {
    Ok(Box::new(lvs_ipvs::netlink::IpvsNetlink::connect()?))
}

/// With an endpoint, `remote` asks the appliance (its errors told and turned
/// into the exit status here); without, `local` acts on this machine.
/// `stream`: the request lasts as long as the appliance sends (logs -f).
fn on(
    target: &Target,
    stream: bool,
    remote: impl FnOnce(&remote::Client) -> Result<i32, remote::RemoteError>,
    local: impl FnOnce() -> anyhow::Result<i32>,
) -> anyhow::Result<i32> {
    match target.client(stream) {
        Ok(Some(client)) => Ok(remote::finish(remote(&client))),
        Ok(None) => local(),
        Err(e) => Ok(remote::finish(Err(e))),
    }
}

/// Runs the command line and returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { files, print } => Ok(check::run(&files, print)),
        Command::Import { format: Format::Ipvsadm, file, strict, output } => {
            import::run(file.as_deref(), strict, output.as_deref())
        }
        Command::Export { format: Format::Ipvsadm, file } => Ok(export::run(&file)),
        Command::Plan { file } => apply::plan(&file, kernel),
        Command::Apply { file, target } => {
            on(&target, false, |c| remote::ops::apply(c, &file), || apply::apply(&file, kernel))
        }
        Command::Status(args) => {
            on(&args.target, false, |c| status::run_remote(&args, c), || status::run(&args, kernel))
        }
        Command::Save { format, output } => persist::save(format, output.as_deref(), kernel),
        Command::Restore { file } => persist::restore(file.as_deref(), kernel),
        Command::Try { file, within, run_dir, target } => on(
            &target,
            false,
            |c| remote::ops::try_config(c, &file, within),
            || swap::try_config(&file, within, &run_dir),
        ),
        Command::Confirm { run_dir, target } => on(&target, false, remote::ops::confirm, || swap::confirm(&run_dir)),
        Command::Weight { service, real_server, weight, run_dir, target } => on(
            &target,
            false,
            |c| remote::ops::weight(c, &service, &real_server, &weight),
            || weight::run(&service, &real_server, &weight, &run_dir),
        ),
        Command::Config { run_dir, target } => on(&target, false, remote::ops::config, || config::run(&run_dir)),
        Command::Logs { follow, lines, run_dir, target } => {
            on(&target, follow, |c| remote::ops::logs(c, lines, follow), || logs::run(&run_dir, lines, follow))
        }
        Command::Reboot { target } => {
            on(&target, false, |c| remote::ops::power(c, Power::Reboot), || power::run(Power::Reboot))
        }
        Command::Poweroff { target } => {
            on(&target, false, |c| remote::ops::power(c, Power::Off), || power::run(Power::Off))
        }
        Command::Pki(command) => pki::run(command),
        Command::Run { config, state_dir, log_level, run_dir, config_mount, under_init } => {
            Ok(lvs_agent::run::run(&lvs_agent::run::Options {
                config,
                state_dir,
                log_level,
                run_dir,
                config_mount,
                under_init,
            }))
        }
    };
    result.unwrap_or_else(|e: anyhow::Error| {
        eprintln!("lvs-agent: {e:#}");
        EXIT_FAILED
    })
}

#[cfg(test)]
mod tests_args;
