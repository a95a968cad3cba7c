//! `lvs-agent import ipvsadm`: rules in, a Director config out.

use super::EXIT_INVALID;
use anyhow::{Context, Result};
use lvs_config::{self as config, from_table};
use lvs_ipvs::ipvsadm::{self, ImportOptions};
use std::io::Read;
use std::path::Path;

pub fn run(file: Option<&Path>, strict: bool, output: Option<&Path>) -> Result<i32> {
    let (name, input) = match file.filter(|f| *f != Path::new("-")) {
        Some(f) => (
            f.display().to_string(),
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        ),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("cannot read standard input")?;
            ("<stdin>".to_string(), s)
        }
    };
    let imported = match ipvsadm::import(&input, &ImportOptions { strict }) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{name}:{e}");
            return Ok(EXIT_INVALID);
        }
    };
    for w in &imported.warnings {
        eprintln!("{name}:{w}");
    }
    let text = format!("{}{}", from_table::IMPORT_HEADER, config::to_ron(&from_table::director_file(&imported.table)));
    match output {
        Some(path) => std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}
