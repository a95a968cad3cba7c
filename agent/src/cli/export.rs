//! `lvs-agent export ipvsadm`: the IPVS part of a config as `ipvsadm -R` input.

use super::EXIT_INVALID;
use lvs_agent::config::{self, model::Role};
use lvs_agent::ipvsadm;
use std::path::Path;

pub fn run(file: &Path) -> i32 {
    let loaded = match config::load(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_INVALID;
        }
    };
    let Role::Director(director) = &loaded.model.role else {
        eprintln!("{}: a real server has no IPVS rules to export", file.display());
        return EXIT_INVALID;
    };
    let (text, warnings) = ipvsadm::export(&director.table());
    for w in warnings {
        eprintln!("{}: warning: {w}", file.display());
    }
    print!("{text}");
    0
}
