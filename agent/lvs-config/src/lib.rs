//! The one RON file an appliance is configured by: its schema (`file`), the
//! model it is validated into (`model`), and the errors a person sees.

mod diagnostic;
pub mod file;
pub mod from_table;
mod locate;
pub mod model;
mod path;
pub mod probe;
mod validate;
pub mod values;

use diagnostic::printable;
pub use diagnostic::{ConfigError, Diagnostic, Problem, RawConfigError, Severity};
pub use locate::Position;
pub use path::{Path as ValuePath, Seg};

use ron::extensions::Extensions;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// A config file that passed validation.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub file: PathBuf,
    /// The text as read: what the state file keeps a copy of, and what a
    /// reload compares with.
    pub text: String,
    pub raw: file::Appliance,
    pub model: model::Appliance,
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// A problem found outside the text, in something the config names (a
    /// folder the agent reads), placed as validation's own are: at the value
    /// at the problem's path, or at its nearest written ancestor when the
    /// value is a default.
    pub fn diagnostic(&self, problem: Problem) -> Diagnostic {
        let position = locate::locate_all(&self.text, &ron_options(), &[&problem.path]).pop().flatten();
        place(&self.file, problem, position)
    }
}

/// How we read RON: optional fields without `Some(...)`, and enum variants
/// that wrap a struct written as `Director(vips: ...)` rather than `Director((vips: ...))`.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// The largest config file or text read, 4 MiB: a config is a few KiB, and
/// every byte of it is kept in memory, in the state file and in messages.
/// The agent applies it to tried configs too.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Reads and validates a config file; one over [`MAX_CONFIG_BYTES`] is
/// refused before it is read.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let read_error = |source| ConfigError::Read { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(too_large(path, size));
    }
    // A file that grows meanwhile, or a pipe whose size is not known, is read
    // no further than one byte past the cap.
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(std::io::Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8")))?;
    parse(&text, path)
}

/// Validates config text; `file` is the name errors are reported under.
/// Text over [`MAX_CONFIG_BYTES`] is refused unread.
pub fn parse(text: &str, file: &Path) -> Result<Loaded, ConfigError> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(file, text.len() as u64));
    }
    let options = ron_options();
    let raw: file::Appliance = options
        .from_str(text)
        .map_err(|e| ConfigError::Invalid { errors: vec![syntax_diagnostic(text, file, &e)], warnings: Vec::new() })?;
    let (model, problems) = validate::validate(&raw);
    let paths: Vec<&ValuePath> = problems.iter().map(|p| &p.path).collect();
    let positions = locate::locate_all(text, &options, &paths);
    let (errors, warnings): (Vec<_>, Vec<_>) = problems
        .into_iter()
        .zip(positions)
        .map(|(p, position)| place(file, p, position))
        .partition(|d| d.severity == Severity::Error);
    match model {
        Some(model) if errors.is_empty() => {
            Ok(Loaded { file: file.to_path_buf(), text: text.to_string(), raw, model, warnings })
        }
        _ => Err(ConfigError::Invalid { errors, warnings }),
    }
}

/// A file or text over the cap, as an invalid config: wrong input, like any
/// other error in it.
fn too_large(file: &Path, size: u64) -> ConfigError {
    let error = Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        position: None,
        path: None,
        message: format!(
            "the config is {size} bytes, more than the {MAX_CONFIG_BYTES} bytes (4 MiB) a config may have"
        ),
        help: Some(
            "a config takes a few KiB even with hundreds of services: check that this is the config file".to_string(),
        ),
    };
    ConfigError::Invalid { errors: vec![error], warnings: Vec::new() }
}

/// Validates a config already in memory (the table kept in a state file);
/// the first error by its path, since there is no file to point into.
pub fn validate_raw(raw: &file::Appliance) -> Result<model::Appliance, RawConfigError> {
    let (model, problems) = validate::validate(raw);
    let first_error = problems.into_iter().find(|p| p.severity == Severity::Error);
    match (model, first_error) {
        (Some(model), None) => Ok(model),
        (_, Some(problem)) => Err(RawConfigError::Invalid { problem }),
        (None, None) => Err(RawConfigError::NoModel),
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

fn place(file: &Path, p: Problem, position: Option<Position>) -> Diagnostic {
    Diagnostic {
        severity: p.severity,
        file: file.to_path_buf(),
        position,
        path: Some(p.path.to_string()).filter(|s| !s.is_empty()),
        message: p.message,
        help: p.help,
    }
}

/// ron's own errors, with a hint of what to do where ron's message does not say.
fn syntax_diagnostic(text: &str, file: &Path, e: &ron::error::SpannedError) -> Diagnostic {
    use ron::Error as E;
    let mut message = message_of(&e.code);
    let help = match &e.code {
        E::Message(m) => m.split_once("; ").map(|(what, todo)| {
            message = what.to_string();
            todo.to_string()
        }),
        E::NoSuchStructField { expected, found, .. } => Some(match suggest(found, expected) {
            Some(s) => format!("did you mean `{s}`? Otherwise remove the field"),
            None => format!("remove the field; the fields here are {}", list(expected)),
        }),
        E::NoSuchEnumVariant { expected, found, outer } => Some(match suggest(found, expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None if outer.as_deref() == Some("Scheduler") => format!(
                "the schedulers are {} (the kernel names them {})",
                list(expected),
                lvs_ipvs::Scheduler::known_names()
            ),
            None => format!("use one of {}", list(expected)),
        }),
        E::MissingStructField { field, .. } => Some(format!("add `{field}: ...`; it has no default")),
        E::DuplicateStructField { field, .. } => Some(format!("remove one of the two `{field}` fields")),
        E::ExpectedDifferentStructName { expected, .. } => Some(format!("write `{expected}(...)` here")),
        E::TrailingCharacters => Some("the file holds one Appliance(...); remove what follows it".to_string()),
        _ => None,
    };
    let at = Position { line: e.span.start.line, column: e.span.start.col };
    // A missing field is placed at the closing parenthesis, which may follow a string.
    let missing = matches!(e.code, E::MissingStructField { .. });
    Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        position: Some(if missing { at } else { at_value_start(text, at) }),
        path: None,
        message: printable(message),
        help: help.map(printable),
    }
}

/// ron's message, with an unknown field or variant name cut to its start
/// when it is long, so that a huge name makes no huge line.
fn message_of(code: &ron::Error) -> String {
    use ron::Error as E;
    let cut = |found: &str| found.chars().take(QUOTED_NAME_CHARS).collect::<String>();
    let (short, length) = match code {
        E::NoSuchStructField { expected, found, outer } if found.len() > MAX_SUGGESTED_NAME => {
            (E::NoSuchStructField { expected, found: cut(found), outer: outer.clone() }, found.chars().count())
        }
        E::NoSuchEnumVariant { expected, found, outer } if found.len() > MAX_SUGGESTED_NAME => {
            (E::NoSuchEnumVariant { expected, found: cut(found), outer: outer.clone() }, found.chars().count())
        }
        _ => return code.to_string(),
    };
    format!("{short} (the name is cut to its first {QUOTED_NAME_CHARS} of {length} characters)")
}

/// How much of a long unknown name a message shows.
const QUOTED_NAME_CHARS: usize = 40;

/// ron starts the span of a bad string inside its quotes; point at the opening
/// quote instead, as the errors found after parsing do.
fn at_value_start(text: &str, p: Position) -> Position {
    let line = text.lines().nth(p.line.saturating_sub(1)).unwrap_or("");
    let before = p.column.checked_sub(2).and_then(|i| line.chars().nth(i));
    if before == Some('"') {
        Position { column: p.column - 1, ..p }
    } else {
        p
    }
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Names longer than this are not compared with the known ones: no field or
/// variant is nearly as long, and comparing costs the product of the lengths.
const MAX_SUGGESTED_NAME: usize = 64;

/// The known name a misspelling most likely meant: same letters ignoring case and
/// '_', or one edit away.
fn suggest<'a>(found: &str, expected: &[&'a str]) -> Option<&'a str> {
    if found.len() > MAX_SUGGESTED_NAME {
        return None;
    }
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "");
    expected
        .iter()
        .find(|e| norm(e) == norm(found))
        .or_else(|| expected.iter().find(|e| edit_distance(&norm(e), &norm(found)) <= 1))
        .copied()
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// swaps of neighbours ("wieght") each count one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_raw_names_the_first_error_by_its_path() {
        let text = r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80", real_servers: [
            RealServer(address: "192.0.2.21", weight: -1)])]))"#;
        let raw: file::Appliance = ron_options().from_str(text).unwrap();
        let e = validate_raw(&raw).unwrap_err();
        let RawConfigError::Invalid { problem } = &e else { panic!("{e:?}") };
        assert_eq!(problem.path.to_string(), "role.services[0].real_servers[0].weight");
        assert_eq!(e.to_string(), "role.services[0].real_servers[0].weight: weight -1 is outside 0 to 2147483647");
        let good: file::Appliance = ron_options().from_str("Appliance(role: Director(services: []))").unwrap();
        assert!(validate_raw(&good).is_ok());
    }

    #[test]
    fn suggestions_catch_case_typos_and_swaps() {
        let fields = ["address", "weight", "forwarding"];
        assert_eq!(suggest("wieght", &fields), Some("weight"));
        assert_eq!(suggest("Weight", &fields), Some("weight"));
        assert_eq!(suggest("adress", &fields), Some("address"));
        assert_eq!(suggest("port", &fields), None);
    }

    #[test]
    fn long_names_are_not_compared() {
        let fields = ["address", "weight", "forwarding"];
        // Same letters as `weight` once case and '_' are ignored, but far longer than any name.
        let long = format!("weight{}", "_".repeat(MAX_SUGGESTED_NAME));
        assert_eq!(suggest(&long, &fields), None);
        assert_eq!(suggest(&"w".repeat(10 * 1024 * 1024), &fields), None);
        assert_eq!(suggest(&format!("weight{}", "_".repeat(MAX_SUGGESTED_NAME - 6)), &fields), Some("weight"));
    }
}
