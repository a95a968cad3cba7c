//! Command output out of a guest, apart from its console. ttyS0 carries the
//! kernel's messages and the agent's log lines, and they can land in the
//! middle of a command's output; a second serial port (the guest's
//! /dev/ttyS1), written by the guest script alone and captured by qemu into a
//! host file, carries output that tests compare byte for byte.
//!
//! Guest scripts frame each piece of output as a section:
//!
//! ```text
//! === BEGIN ipvsadm-Ln
//! IP Virtual Server version 1.2.1 (size=4096)
//! ...
//! === END ipvsadm-Ln status=0
//! ```
//!
//! `tests/lab/capture.sh` writes that framing (`section NAME CMD...`). The
//! END line may carry `status=N` (the command's exit status) and `noeol` (its
//! output did not end in a newline; the script added one so the END line
//! starts a line, and [`Section::text`] leaves it out again).

use std::fmt::Write as _;

use super::error::{LabError, Result};

const BEGIN: &str = "=== BEGIN ";
const END: &str = "=== END ";

/// One `=== BEGIN name` ... `=== END name` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// The lines between the markers, each ending in `\n` (unless `noeol`).
    pub text: String,
    /// `status=N` from the END line, if the script recorded it.
    pub status: Option<i32>,
    /// False when the capture ended inside the section (the guest died or
    /// hung, and the VM was killed): the text is what arrived.
    pub complete: bool,
}

/// Every section of one capture, in the order written. Names may repeat;
/// [`Sections::get`] returns the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub sections: Vec<Section>,
    /// Lines written outside any section, kept so a failure can show them.
    pub stray: Vec<String>,
}

impl Sections {
    /// Splits a capture into sections. A BEGIN inside a section, or an END
    /// that does not close the open one, is an error: the framing is then
    /// not to be trusted, and comparing the pieces would mislead.
    pub fn parse(text: &str) -> Result<Sections> {
        let bad = |line: usize, message: String| LabError::Capture {
            message: format!("line {line}: {message}"),
            capture: text.to_string(),
        };
        let mut out = Sections::default();
        let mut open: Option<Section> = None;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let bare = line.strip_suffix('\n').unwrap_or(line);
            if let Some(name) = bare.strip_prefix(BEGIN) {
                if let Some(section) = &open {
                    return Err(bad(i + 1, format!("BEGIN {name} inside section {}", section.name)));
                }
                open =
                    Some(Section { name: name.trim().to_string(), text: String::new(), status: None, complete: false });
            } else if let Some(rest) = bare.strip_prefix(END) {
                let mut words = rest.split_whitespace();
                let name = words.next().unwrap_or_default();
                let Some(mut section) = open.take().filter(|s| s.name == name) else {
                    return Err(bad(i + 1, format!("END {name} closes no open section of that name")));
                };
                for word in words {
                    if word == "noeol" {
                        section.text.pop();
                    } else if let Some(n) = word.strip_prefix("status=") {
                        section.status = Some(n.parse().map_err(|_| bad(i + 1, format!("{word:?} is not a status")))?);
                    } else {
                        return Err(bad(i + 1, format!("unknown END word {word:?}")));
                    }
                }
                section.complete = true;
                out.sections.push(section);
            } else if let Some(section) = &mut open {
                section.text.push_str(line);
            } else if !bare.is_empty() {
                out.stray.push(bare.to_string());
            }
        }
        out.sections.extend(open);
        Ok(out)
    }

    /// The first section called `name`.
    pub fn get(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The text of the first complete section called `name`, or an error
    /// that lists what the capture does hold.
    pub fn text(&self, name: &str) -> Result<&str> {
        match self.get(name) {
            Some(s) if s.complete => Ok(&s.text),
            Some(_) => Err(LabError::Capture {
                message: format!("section {name} was cut short (no END line)"),
                capture: self.render(),
            }),
            None => Err(LabError::Capture { message: format!("no section {name}"), capture: self.render() }),
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.name.as_str()).collect()
    }

    /// Everything, framed the way the guest wrote it, for failure messages.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.sections {
            let _ = writeln!(out, "{BEGIN}{}", s.name);
            out.push_str(&s.text);
            if !s.text.is_empty() && !s.text.ends_with('\n') {
                out.push_str("\n[no newline at the end]\n");
            }
            match (s.complete, s.status) {
                (false, _) => out.push_str("[cut short: no END line]\n"),
                (true, Some(status)) => {
                    let _ = writeln!(out, "{END}{} status={status}", s.name);
                }
                (true, None) => {
                    let _ = writeln!(out, "{END}{}", s.name);
                }
            }
        }
        for line in &self.stray {
            let _ = writeln!(out, "[outside any section] {line}");
        }
        out
    }
}

/// What a serial port delivers, as the guest meant it: the tty turns `\n`
/// into `\r\n` unless the script switched output processing off.
pub(crate) fn clean(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_with_status_and_missing_newline() {
        let text =
            "noise\r\n=== BEGIN a\r\nx\r\n\r\ny\r\n=== END a status=0\r\n=== BEGIN b\nz\n=== END b status=3 noeol\n";
        let s = Sections::parse(&clean(text.as_bytes())).unwrap();
        assert_eq!(s.names(), ["a", "b"]);
        assert_eq!(s.text("a").unwrap(), "x\n\ny\n");
        assert_eq!(s.get("a").unwrap().status, Some(0));
        assert_eq!(s.text("b").unwrap(), "z");
        assert_eq!(s.get("b").unwrap().status, Some(3));
        assert_eq!(s.stray, ["noise"]);
    }

    #[test]
    fn an_unfinished_section_is_kept_but_not_returned_as_text() {
        let s = Sections::parse("=== BEGIN a\npartial\n").unwrap();
        assert!(!s.get("a").unwrap().complete);
        let err = s.text("a").unwrap_err().to_string();
        assert!(err.contains("cut short") && err.contains("partial"), "{err}");
        assert!(s.text("b").unwrap_err().to_string().contains("no section b"));
    }

    #[test]
    fn broken_framing_is_an_error() {
        assert!(Sections::parse("=== BEGIN a\n=== BEGIN b\n").is_err());
        assert!(Sections::parse("=== BEGIN a\n=== END b\n").is_err());
        assert!(Sections::parse("=== END a\n").is_err());
        assert!(Sections::parse("=== BEGIN a\n=== END a what\n").is_err());
    }

    #[test]
    fn empty_sections_and_repeated_names() {
        let s = Sections::parse("=== BEGIN a\n=== END a\n=== BEGIN a\nsecond\n=== END a\n").unwrap();
        assert_eq!(s.text("a").unwrap(), "");
        assert_eq!(s.sections[1].text, "second\n");
    }
}
