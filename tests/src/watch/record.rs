//! What a watched run records, in seconds since it started, and the
//! [`Verdict`] its judge returns.

use super::Who;

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub start: f64,
    pub end: f64,
    /// Who answered, or why no one did.
    pub answer: Result<Who, String>,
}

/// One read of the director's table, as the lab reads `lvs-agent status`
/// into `T`, or why it could not.
#[derive(Clone, Debug, PartialEq)]
pub struct Poll<T> {
    pub sent: f64,
    pub got: f64,
    pub table: Result<T, String>,
}

/// In a window where the client may not fail, at least this many answers,
/// so that a client that stalled cannot pass.
pub const MIN_ANSWERS: usize = 5;

/// What the judge found: problems (empty when the run passed) and the
/// measured times, as marks for the timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    pub problems: Vec<String>,
    pub marks: Vec<(f64, String)>,
}

impl Verdict {
    /// A window's `requests` must hold [`MIN_ANSWERS`] answers and one from
    /// each of `must`. `span` names the window in the problems:
    /// `after step 1 (...) showed [14.100, 18.000)`.
    pub fn require_answers(&mut self, span: &str, requests: &[&Request], must: &[Who], labels: &[String]) {
        let answered = requests.iter().filter(|r| r.answer.is_ok()).count();
        if answered < MIN_ANSWERS {
            self.problems.push(format!("{span}: only {answered} answers; at least {MIN_ANSWERS} are needed to tell"));
        }
        for who in must {
            if !requests.iter().any(|r| r.answer.as_ref() == Ok(who)) {
                self.problems.push(format!("{span}: {} never answered", labels[*who]));
            }
        }
    }

    /// Every problem of a run: why it stopped before its last step, if it
    /// did, then the judge's.
    pub fn problems_after(&self, stopped: Option<&String>) -> Vec<String> {
        stopped
            .map(|s| format!("the run stopped early: {s}"))
            .into_iter()
            .chain(self.problems.iter().cloned())
            .collect()
    }

    /// The marks' texts, one per line, indented: a passing run's summary.
    pub fn marks_text(&self) -> String {
        self.marks.iter().map(|(_, m)| format!("  {m}")).collect::<Vec<_>>().join("\n")
    }
}

/// How the client fared over a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tally {
    pub requests: usize,
    pub failed: usize,
    /// The slowest answered request.
    pub slowest_ms: f64,
}

impl Tally {
    pub fn of(requests: &[Request]) -> Tally {
        let slowest = requests.iter().filter(|r| r.answer.is_ok()).map(|r| r.end - r.start).fold(0.0, f64::max);
        Tally {
            requests: requests.len(),
            failed: requests.iter().filter(|r| r.answer.is_err()).count(),
            slowest_ms: slowest * 1000.0,
        }
    }
}
