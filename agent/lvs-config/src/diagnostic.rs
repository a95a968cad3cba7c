//! Problems found in a config file, ready to be shown to a person:
//! file, line, column, what is wrong, and what to do.

use super::locate::Position;
use super::path::Path;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found by validation, before it is given a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub path: Path,
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    /// A problem whose message is printed as one line whatever values it quotes.
    pub fn error(path: Path, message: impl Into<String>) -> Problem {
        Problem { severity: Severity::Error, path, message: printable(message.into()), help: None }
    }

    pub fn warning(path: Path, message: impl Into<String>) -> Problem {
        Problem { severity: Severity::Warning, ..Problem::error(path, message) }
    }

    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(printable(help.into()));
        self
    }
}

/// Text with its control characters escaped (`\n`, `\r`, `\u{1b}`...), so
/// that a value quoted in a message cannot start a line of its own in
/// `check`'s output or in the agent's log, nor drive the terminal.
pub(crate) fn printable(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Values longer than this are cut short where a message quotes them.
const QUOTED_CHARS: usize = 80;

/// A value as a message quotes it: escaped as [`printable`] does, and cut
/// short when it is long, so that a huge value makes no huge line.
pub(crate) fn shown(value: &str) -> String {
    let count = value.chars().count();
    if count <= QUOTED_CHARS {
        return printable(value.to_string());
    }
    let head: String = value.chars().take(QUOTED_CHARS / 2).collect();
    format!("{}... ({count} characters)", printable(head))
}

/// A problem with its place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub position: Option<Position>,
    /// Where in the structure, when known (`role.services[0].real_servers[1]`).
    pub path: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: error: message`, then `  help: ...` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", printable(self.file.display().to_string()))?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {label}: {}", self.message)?;
        if let Some(path) = &self.path {
            write!(f, " (at {path})")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render(errors))]
    Invalid {
        /// Every error found, each with its position; at least one.
        errors: Vec<Diagnostic>,
        /// Warnings found on the way, shown with the errors.
        warnings: Vec<Diagnostic>,
    },
}

/// Why a config held in memory (a state file's copy of the table) is not
/// valid: it has no text, so the error names a path, not a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RawConfigError {
    /// The first error validation found.
    #[error("{}: {}", problem.path, problem.message)]
    Invalid { problem: Problem },
    /// Validation gave no model yet named no error (it never does).
    #[error("not valid")]
    NoModel,
}

fn render(errors: &[Diagnostic]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}
