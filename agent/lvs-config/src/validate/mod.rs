//! From the file as written to the model the agent acts on. Every check that
//! can fail names the path of the offending value; `load` turns paths into
//! line and column.

mod address;
mod director;
mod health;
mod management;
mod network;
mod real_server;
mod servers;
mod service;
mod workload;

use super::diagnostic::{shown, Problem, Severity};
use super::file;
use super::model::{self, DEFAULT_STATE_DIR};
use super::path::Path;
use std::path::PathBuf;

/// Problems found so far; a check adds to it and goes on, so that one run
/// reports every mistake in the file, not just the first.
#[derive(Default)]
pub(crate) struct Findings {
    pub problems: Vec<Problem>,
}

impl Findings {
    pub fn error(&mut self, path: Path, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(Problem::error(path, message).help(help));
    }

    pub fn warning(&mut self, path: Path, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(Problem::warning(path, message).help(help));
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Validates a parsed file. The model is returned only when there is no error;
/// the problems (errors and warnings) always are.
pub fn validate(file: &file::Appliance) -> (Option<model::Appliance>, Vec<Problem>) {
    let mut f = Findings::default();
    let root = Path::root();

    if let Some(name) = &file.hostname {
        network::check_hostname(&mut f, root.field("hostname"), name);
    }
    let interfaces = network::interfaces(&mut f, &root.field("interfaces"), &file.interfaces);
    let routes = network::routes(&mut f, &root.field("routes"), &file.routes, &interfaces);
    let role_path = root.field("role");
    let role = match &file.role {
        file::Role::Director(d) => model::Role::Director(director::director(&mut f, &role_path, d, &interfaces)),
        file::Role::RealServer(r) => {
            model::Role::RealServer(real_server::real_server(&mut f, &role_path, r, file.hostname.as_deref(), &routes))
        }
    };
    let state_dir = match &file.state_dir {
        Some(dir) if !dir.is_absolute() => {
            f.error(
                root.field("state_dir"),
                format!("state_dir `{}` is not an absolute path", shown(&dir.to_string_lossy())),
                "write the full path, e.g. \"/var/lib/lvs-agent\"",
            );
            dir.clone()
        }
        Some(dir) if has_control(&dir.to_string_lossy()) => {
            f.error(
                root.field("state_dir"),
                format!("state_dir `{}` holds a control character", shown(&dir.to_string_lossy())),
                "the agent logs this path: write it without control characters, e.g. \"/var/lib/lvs-agent\"",
            );
            dir.clone()
        }
        Some(dir) => dir.clone(),
        None => PathBuf::from(DEFAULT_STATE_DIR),
    };

    let management = file.management.as_ref().map(|m| management::management(&mut f, &root.field("management"), m));
    let model = (!f.has_errors()).then(|| model::Appliance {
        hostname: file.hostname.clone(),
        interfaces,
        routes,
        role,
        log_level: file.log_level,
        state_dir,
        management,
    });
    (model, f.problems)
}

/// Whether text holds a control character (a NUL, a newline, an escape...):
/// what the agent logs or a kernel call takes must not.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Whether text holds a control character other than a tab, which prints as
/// blank space and is harmless where a value is only logged.
pub(crate) fn has_control_but_tab(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\t')
}

/// A ceiling on whole seconds, and why it is there.
pub(crate) struct MaxSeconds {
    pub secs: u64,
    /// The ceiling as a person reads it, and whose it is.
    pub said: &'static str,
}

/// Whole seconds in [1, max]: what IPVS timeouts accept.
pub(crate) fn whole_seconds(
    f: &mut Findings,
    path: Path,
    what: &str,
    span: &super::values::Span,
    max: MaxSeconds,
) -> u32 {
    let d = span.0;
    let MaxSeconds { secs: max_secs, said } = max;
    if d.subsec_nanos() != 0 || d.as_secs() == 0 || d.as_secs() > max_secs {
        f.error(
            path,
            format!("{what} is {span}, but IPVS takes whole seconds from 1s to {max_secs}s ({said})"),
            format!(
                "write a whole number of seconds from 1 to {max_secs}, e.g. \"{}s\"",
                d.as_secs().clamp(1, max_secs)
            ),
        );
    }
    // The clamp keeps the model in range; the error above refuses the file.
    u32::try_from(d.as_secs().clamp(1, max_secs)).unwrap_or(u32::MAX)
}
