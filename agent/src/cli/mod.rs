//! Subcommands, one file each.

mod check;
mod export;
mod import;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit status for input that is wrong (a config file, ipvsadm rules).
pub const EXIT_INVALID: i32 = 2;
/// Exit status for anything else that failed (a file that cannot be read or written).
pub const EXIT_FAILED: i32 = 1;

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

/// Runs the command line and returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { files, print } => Ok(check::run(&files, print)),
        Command::Import { format: Format::Ipvsadm, file, strict, output } => {
            import::run(file.as_deref(), strict, output.as_deref())
        }
        Command::Export { format: Format::Ipvsadm, file } => Ok(export::run(&file)),
    };
    result.unwrap_or_else(|e: anyhow::Error| {
        eprintln!("lvs-agent: {e:#}");
        EXIT_FAILED
    })
}
