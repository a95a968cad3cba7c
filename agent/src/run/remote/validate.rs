//! `POST /v1/config/validate`, and the check before apply and try: the
//! candidate parsed as `lvs-agent check` parses a file (named
//! [`CANDIDATE`] in the diagnostics), its management TLS set up as the agent
//! would set it up (a candidate that would lock the operator out of the API
//! is refused), and for a director the plan against the kernel's table, as
//! `lvs-agent plan` prints it. Nothing is changed.

use crate::manage::api::Validation;
use crate::manage::OpError;
use lvs_config::model::Role;
use lvs_config::{ConfigError, Loaded};
use lvs_ipvs::{IpvsError, Table};
use std::path::Path;

/// The candidate's name in its diagnostics: "candidate.ron:3:7: error: ...".
pub const CANDIDATE: &str = "candidate.ron";

/// The candidate, or its errors as `check` prints them.
fn load(text: &str) -> Result<Loaded, String> {
    let loaded = match lvs_config::parse(text, Path::new(CANDIDATE)) {
        Ok(l) => l,
        Err(ConfigError::Invalid { errors, warnings }) => {
            let mut out: Vec<String> = warnings.iter().chain(&errors).map(ToString::to_string).collect();
            let n = errors.len();
            out.push(format!("{CANDIDATE}: invalid: {n} error{}", if n == 1 { "" } else { "s" }));
            return Err(out.join("\n"));
        }
        Err(e) => return Err(e.to_string()),
    };
    if let Err(e) = crate::manage::setup::tls(&loaded) {
        return Err(format!("{e}\n{CANDIDATE}: invalid: its management API could not start"));
    }
    Ok(loaded)
}

fn warnings(loaded: &Loaded) -> Vec<String> {
    let mut out: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    if loaded.model.management.is_none() {
        out.push(format!(
            "{CANDIDATE}: has no `management`: once it runs, the management API stops (the appliance is then changed only on its disk)"
        ));
    }
    out
}

/// Before apply and try: the candidate's warnings, or Refused with its errors.
pub fn check(text: &str) -> Result<Vec<String>, OpError> {
    load(text).map(|loaded| warnings(&loaded)).map_err(OpError::Refused)
}

/// The whole validation; `observed` reads the kernel's table for a director's plan.
pub fn validate(text: &str, observed: impl FnOnce() -> Result<Table, IpvsError>) -> Validation {
    let loaded = match load(text) {
        Ok(l) => l,
        Err(errors) => return Validation { valid: false, errors: Some(errors), warnings: Vec::new(), plan: None },
    };
    let mut warnings = warnings(&loaded);
    let plan = match &loaded.model.role {
        Role::RealServer(_) => None,
        Role::Director(d) => match observed() {
            Ok(table) => Some(plan_text(&lvs_ipvs::plan(&d.table(), &table, d.ownership()))),
            Err(e) => {
                warnings.push(format!("no plan: the kernel's IPVS table cannot be read: {e}"));
                None
            }
        },
    };
    Validation { valid: true, errors: None, warnings, plan }
}

/// As `lvs-agent plan` prints it: a line per change, then the count.
fn plan_text(changes: &[lvs_ipvs::Change]) -> String {
    let mut out: String = changes.iter().map(|c| format!("{c}\n")).collect();
    match changes.len() {
        0 => out.push_str("no changes\n"),
        1 => out.push_str("1 change\n"),
        n => out.push_str(&format!("{n} changes\n")),
    }
    out
}
