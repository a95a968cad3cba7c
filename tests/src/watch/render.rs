//! The report of a watched run: everything in time order on the run's
//! clock, so that a failure can be read as a story, and each VM's lines.

use std::fmt::Write as _;
use std::path::Path;

use super::{Poll, Request};

/// Among lines at the same time, marks come first, then what the test and
/// the director did, then the table, then the client.
const MARK: u8 = 0;
const ACT: u8 = 1;
const TABLE: u8 = 2;
const CLIENT: u8 = 3;

/// A timeline being put together: (seconds, rank, text), sorted when
/// rendered. Lines at the same time and rank keep the order they were added in.
#[derive(Default)]
pub struct Lines(Vec<(f64, u8, String)>);

impl Lines {
    /// `== text`: a baseline or a measured time.
    pub fn mark(&mut self, t: f64, text: &str) {
        self.0.push((t, MARK, format!("== {text}")));
    }

    /// `>> text`: something the test did.
    pub fn action(&mut self, t: f64, text: &str) {
        self.0.push((t, ACT, format!(">> {text}")));
    }

    /// One line per run of polls that read the same table, with `show`
    /// rendering it; placed when the run's first poll answered.
    pub fn polls<T: PartialEq>(&mut self, polls: &[Poll<T>], show: impl Fn(&T) -> String) {
        let mut k = 0;
        while k < polls.len() {
            let first = &polls[k];
            let n = polls[k..].iter().take_while(|p| p.table == first.table).count();
            let last = &polls[k + n - 1];
            let text = match &first.table {
                Ok(t) => format!("table: {} ({n} polls, sent {:.3} to {:.3})", show(t), first.sent, last.sent),
                Err(e) => format!("poll failed ({n} alike, sent {:.3} to {:.3}): {e}", first.sent, last.sent),
            };
            self.0.push((first.got, TABLE, text));
            k += n;
        }
    }

    /// Every request, by who answered and how long it took, or how it failed.
    pub fn requests(&mut self, requests: &[Request], labels: &[String]) {
        for r in requests {
            let ms = (r.end - r.start) * 1000.0;
            let text = match &r.answer {
                Ok(w) => format!("   {} ({ms:.0} ms)", labels[*w]),
                Err(e) => format!("   FAILED after {ms:.0} ms: {e}"),
            };
            self.0.push((r.start, CLIENT, text));
        }
    }

    pub fn marks(&mut self, marks: &[(f64, String)]) {
        for (t, m) in marks {
            self.mark(*t, m);
        }
    }

    /// A VM's console lines, each prefixed with `vm: `.
    pub fn console(&mut self, vm: &str, lines: &[(f64, String)]) {
        for (t, l) in lines {
            self.0.push((*t, ACT, format!("{vm}: {l}")));
        }
    }

    /// The timeline, and a last line for when the watch ended.
    pub fn render(mut self, end: f64, polls: usize, requests: usize) -> String {
        self.0.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out = String::new();
        for (t, _, text) in self.0 {
            let _ = writeln!(out, "{t:8.3}  {text}");
        }
        let _ = writeln!(out, "{end:8.3}  (end of watch; {polls} polls, {requests} requests)");
        out
    }
}

/// One VM's section of a report: a heading with `ready` (when it was, if
/// the lab measures it) and where its full console is, then `lines`.
pub fn vm_section(name: &str, ready: Option<&str>, log: &Path, lines: &[String]) -> String {
    let ready = ready.map(|r| format!("{r}; ")).unwrap_or_default();
    let mut out = format!("--- {name}: {ready}full console in {} ---\n", log.display());
    for l in lines {
        out.push_str(&format!("    {l}\n"));
    }
    out
}
