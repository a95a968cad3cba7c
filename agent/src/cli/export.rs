//! `lvs-agent export ipvsadm`: the IPVS part of a config as `ipvsadm -R` input.

use lvs_ipvs::ipvsadm;
use std::path::Path;

pub fn run(file: &Path) -> i32 {
    let director = match super::director::load(file, "export") {
        Ok(d) => d,
        Err(status) => return status,
    };
    let (text, warnings) = ipvsadm::export(&director.table());
    for w in warnings {
        eprintln!("{}: warning: {w}", file.display());
    }
    print!("{text}");
    0
}
