//! The text of the agent's small records under the run dir (what network
//! setup added, the sysctls it changed): RON in form, one row a line,
//! `Tag("field", "field", ...),` between `[` and `]`, written atomically
//! ([`crate::atomic_file`]).
//!
//! Written and read here rather than through serde: the derived RON code for
//! these types cost the static agent about 30 KB of its 3 MiB budget
//! (docs/ARCHITECTURE.md, "Size"), and these files only ever hold what the
//! agent wrote itself. Whatever does not parse is refused whole.

use std::path::Path;

/// One row: its tag and its fields.
pub type Row = (String, Vec<String>);

pub fn format(header: &str, rows: &[Row]) -> String {
    let mut out = format!("// {header}\n[\n");
    for (tag, fields) in rows {
        let quoted: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out += &format!("    {tag}({}),\n", quoted.join(", "));
    }
    out + "]\n"
}

pub fn parse(text: &str) -> Option<Vec<Row>> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//"));
    if lines.next()? != "[" {
        return None;
    }
    let mut rows = Vec::new();
    for line in lines {
        if line == "]" {
            return Some(rows);
        }
        let (tag, mut rest) = line.strip_suffix("),")?.split_once('(')?;
        let mut fields = Vec::new();
        while !rest.is_empty() {
            let (field, after) = unquote(rest)?;
            fields.push(field);
            rest = match after.strip_prefix(',') {
                Some(more) => more.trim_start(),
                None if after.is_empty() => after,
                None => return None,
            };
        }
        rows.push((tag.to_string(), fields));
    }
    None
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out += "\\n",
            '\t' => out += "\\t",
            c => out.push(c),
        }
    }
    out + "\""
}

/// One quoted string at the start of `s`, and what follows it.
fn unquote(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut chars = body.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c @ ('"' | '\\') => out.push(c),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// Reads the record at `file` with `parse`. A missing file is an empty
/// record (first start since boot). An unreadable or garbled one counts as
/// empty too, with a warning that ends in `lost`: what the agent will not do
/// for want of the record, which is always the safe way to be wrong.
pub fn load<T: Default>(file: &Path, parse: impl FnOnce(&str) -> Option<T>, lost: &str) -> (T, Option<String>) {
    match std::fs::read_to_string(file) {
        Ok(text) => match parse(&text) {
            Some(record) => (record, None),
            None => (
                T::default(),
                Some(format!("{} is not a record this agent wrote: it is ignored, so {lost}", file.display())),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (T::default(), None),
        Err(e) => (T::default(), Some(format!("cannot read {} ({e}): {lost}", file.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_with_any_characters() {
        let rows: Vec<Row> = vec![
            ("Address".into(), vec!["eth0.100".into(), "192.0.2.10/32".into()]),
            ("Odd".into(), vec!["a\tb \"c\" \\ d\n".into(), String::new(), "(x), y".into()]),
            ("Empty".into(), vec![]),
        ];
        let text = format("a header", &rows);
        assert!(text.starts_with("// a header\n[\n    Address(\"eth0.100\", \"192.0.2.10/32\"),\n"), "{text}");
        assert_eq!(parse(&text), Some(rows));
        assert_eq!(parse("[\n]\n"), Some(vec![]));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "[",
            "Owned(addresses: [])",
            "[\n  A(\"x\"\n]",
            "[\n  A(\"x\" \"y\"),\n]",
            "[\n  A(\"x\\q\"),\n]",
            "[\n  A(x),\n]",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
