//! lvs-image: builds what an appliance boots from. For now it only validates
//! the RON file it would build; kernel, initramfs and disk image come next.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "lvs-image", version, about = "Build bootable LVS appliance images")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an image for a RON file (not implemented yet: validates the file only).
    Build {
        /// The appliance's RON file.
        config: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build { config } => {
            let loaded = lvs_agent::config::load(&config)?;
            eprintln!(
                "{}: valid {}; image building is not implemented yet",
                config.display(),
                loaded.model.role.name()
            );
            std::process::exit(1);
        }
    }
}
