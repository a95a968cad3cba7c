//! `lvs-agent plan` and `lvs-agent apply`: the changes between a director's
//! config and the kernel's table, printed like a diff, and sent.

use super::EXIT_FAILED;
use lvs_ipvs::{self as ipvs, Change, Ipvs};
use std::path::Path;

fn count(n: usize) -> String {
    format!("{n} change{}", if n == 1 { "" } else { "s" })
}

/// One write for the lot: stdout is line-buffered, and a big table has thousands of lines.
fn print_changes(changes: &[Change]) {
    use std::io::Write;
    let text: String = changes.iter().map(|c| format!("{c}\n")).collect();
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

pub fn plan(file: &Path, kernel: impl FnOnce() -> anyhow::Result<Box<dyn Ipvs>>) -> anyhow::Result<i32> {
    let director = match super::director::load(file, "plan") {
        Ok(d) => d,
        Err(status) => return Ok(status),
    };
    let observed = kernel()?.dump()?;
    let changes = ipvs::plan(&director.table(), &observed, director.ownership());
    print_changes(&changes);
    println!("{}", if changes.is_empty() { "no changes".to_string() } else { count(changes.len()) });
    Ok(0)
}

pub fn apply(file: &Path, kernel: impl FnOnce() -> anyhow::Result<Box<dyn Ipvs>>) -> anyhow::Result<i32> {
    let director = match super::director::load(file, "apply") {
        Ok(d) => d,
        Err(status) => return Ok(status),
    };
    let mut kernel = kernel()?;
    match ipvs::sync(kernel.as_mut(), &director.table(), director.ownership()) {
        Ok(changes) if changes.is_empty() => println!("no changes"),
        Ok(changes) => {
            print_changes(&changes);
            println!("applied {}", count(changes.len()));
        }
        Err(e) => {
            eprintln!("lvs-agent: {}: {e}", file.display());
            return Ok(EXIT_FAILED);
        }
    }
    Ok(0)
}
