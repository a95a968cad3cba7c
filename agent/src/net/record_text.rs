//! The text of the agent's small records under the run dir (what network
//! setup added, the sysctls it changed): RON in form, one row a line,
//! `Tag("field", "field", ...),` between `[` and `]`, written atomically.
//!
//! Written and read here rather than through serde: the derived RON code for
//! these types cost the static agent about 30 KB of its 3 MiB budget
//! (docs/ARCHITECTURE.md, "Size"), and these files only ever hold what the
//! agent wrote itself. Whatever does not parse is refused whole.

use std::io::Write;
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

/// Writes `text` to `dir/name` through a temporary file and a rename, then
/// syncs the folder: a crash leaves the old file or the new one, never half
/// of one.
pub fn write_atomically(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
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
        for text in ["", "[", "Owned(addresses: [])", "[\n  A(\"x\"\n]", "[\n  A(\"x\" \"y\"),\n]", "[\n  A(\"x\\q\"),\n]", "[\n  A(x),\n]"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
