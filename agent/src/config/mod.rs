//! The one RON file an appliance is configured by: its schema (`file`), the
//! model it is validated into (`model`), and the errors a person sees.

mod diagnostic;
pub mod from_table;
pub mod file;
mod locate;
pub mod model;
mod path;
mod validate;
pub mod values;

pub use diagnostic::{ConfigError, Diagnostic, Problem, Severity};
pub use locate::Position;
pub use path::{Path as ValuePath, Seg};

use ron::extensions::Extensions;
use std::path::{Path, PathBuf};

/// A config file that passed validation.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub file: PathBuf,
    pub raw: file::Appliance,
    pub model: model::Appliance,
    pub warnings: Vec<Diagnostic>,
}

/// How we read RON: optional fields without `Some(...)`, and enum variants
/// that wrap a struct written as `Director(vips: ...)` rather than `Director((vips: ...))`.
pub fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Validates config text; `file` is the name errors are reported under.
pub fn parse(text: &str, file: &Path) -> Result<Loaded, ConfigError> {
    let options = ron_options();
    let raw: file::Appliance = options.from_str(text).map_err(|e| ConfigError::Invalid {
        errors: vec![syntax_diagnostic(file, &e)],
        warnings: Vec::new(),
    })?;
    let (model, problems) = validate::validate(&raw);
    let (errors, warnings): (Vec<_>, Vec<_>) = problems
        .into_iter()
        .map(|p| place(text, &options, file, p))
        .partition(|d| d.severity == Severity::Error);
    match model {
        Some(model) if errors.is_empty() => Ok(Loaded {
            file: file.to_path_buf(),
            raw,
            model,
            warnings,
        }),
        _ => Err(ConfigError::Invalid { errors, warnings }),
    }
}

/// Writes a config as RON text, in the form `parse` reads back.
pub fn to_ron(appliance: &file::Appliance) -> String {
    let pretty = ron::ser::PrettyConfig::new()
        .struct_names(true)
        .indentor("    ".to_string())
        .extensions(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES);
    // Serializing our own plain data types cannot fail.
    let mut text = ron::Options::default()
        .to_string_pretty(appliance, pretty)
        .unwrap_or_else(|e| format!("// could not write the config: {e}"));
    text.push('\n');
    text
}

fn place(text: &str, options: &ron::Options, file: &Path, p: Problem) -> Diagnostic {
    Diagnostic {
        severity: p.severity,
        file: file.to_path_buf(),
        position: locate::locate(text, options, &p.path),
        path: Some(p.path.to_string()).filter(|s| !s.is_empty()),
        message: p.message,
        help: p.help,
    }
}

/// ron's own errors, with a hint of what to do where ron's message does not say.
fn syntax_diagnostic(file: &Path, e: &ron::error::SpannedError) -> Diagnostic {
    use ron::Error as E;
    let help = match &e.code {
        E::NoSuchStructField { expected, found, .. } => Some(match suggest(found, expected) {
            Some(s) => format!("did you mean `{s}`? Otherwise remove the field"),
            None => format!("remove the field; the fields here are {}", list(expected)),
        }),
        E::NoSuchEnumVariant { expected, found, outer } => Some(match suggest(found, expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None if outer.as_deref() == Some("Scheduler") => format!(
                "the schedulers are {} (the kernel names them {})",
                list(expected),
                crate::ipvs::Scheduler::known_names()
            ),
            None => format!("use one of {}", list(expected)),
        }),
        E::MissingStructField { field, .. } => Some(format!("add `{field}: ...`; it has no default")),
        E::DuplicateStructField { field, .. } => Some(format!("remove one of the two `{field}` fields")),
        E::ExpectedDifferentStructName { expected, .. } => Some(format!("write `{expected}(...)` here")),
        E::TrailingCharacters => Some("the file holds one Appliance(...); remove what follows it".to_string()),
        _ => None,
    };
    Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        position: Some(Position {
            line: e.span.start.line,
            column: e.span.start.col,
        }),
        path: None,
        message: e.code.to_string(),
        help,
    }
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// The known name a misspelling most likely meant: same letters ignoring case and
/// '_', or one edit away.
fn suggest<'a>(found: &str, expected: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "");
    expected
        .iter()
        .find(|e| norm(e) == norm(found))
        .or_else(|| expected.iter().find(|e| edit_distance(&norm(e), &norm(found)) <= 1))
        .copied()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
