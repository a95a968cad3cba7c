//! What the session run (swap, kill -9, invalid file) saw, in seconds since
//! the run started, and the judge that reads it: pure, so its rules are unit
//! tests that need no lab.
//!
//! The run records the client's requests, the polls of the director's table,
//! the test's three actions, the director's console lines (on the run's
//! clock) and, at the end, the agent's log file. For each action the judge
//! finds its effect (a poll, or a log line) and checks it came in time, that
//! no request failed, and that the table and the log say what the contract
//! says.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::{is_change, Rules, APPLIED, FIRST_PROBE, IGNORED, INVALID_KEPT, NO_STATE, RELOADING, RESTORED};
use crate::watch::console::{agent, is_ready, logged};
use crate::watch::Lines;
pub use crate::watch::{Request, Verdict, Who};

pub type Poll = crate::watch::Poll<Rules>;

/// What the test does to the director, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Swap in ds-swap.ron: rs1's weight changes, rs3 joins (issue 7 (b)).
    Swap,
    /// kill -9 the agent; PID 1 restarts it (d).
    Kill,
    /// Swap in ds-invalid.ron (c).
    Invalid,
}

pub const STEPS: [Step; 3] = [Step::Swap, Step::Kill, Step::Invalid];

impl Step {
    pub fn describe(self) -> &'static str {
        match self {
            Step::Swap => "swap in ds-swap.ron (rs1's weight 1 -> 3, rs3 added)",
            Step::Kill => "kill -9 the agent",
            Step::Invalid => "swap in ds-invalid.ron (refused: rs4 on port 8080 under DR)",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub step: Step,
    pub sent: f64,
    pub got: f64,
    pub reply: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// When the table first showed rs1 and rs2 up: the client starts then.
    pub baseline: Option<f64>,
    pub actions: Vec<Action>,
    pub polls: Vec<Poll>,
    pub requests: Vec<Request>,
    /// When the run stopped watching.
    pub end: f64,
    /// The director's console lines from its first ready line on, when they reached the host.
    pub director: Vec<(f64, String)>,
    /// /run/lvs/agent.log at the end, if it could be read.
    pub agent_log: Option<String>,
}

/// What the tables, answers and log lines must be, from the plan.
#[derive(Clone, Debug)]
pub struct Expect {
    /// ds.ron with rs1 and rs2 up.
    pub base: Rules,
    /// ds-swap.ron with all three up.
    pub swapped: Rules,
    pub service_line: String,
    /// rs1, rs2, rs3 on the service.
    pub dests: [SocketAddr; 3],
    /// rs1's weight before and after the swap.
    pub rs1_weights: [u32; 2],
    /// Seconds from the swap to its table.
    pub swap_bound: f64,
    /// Seconds from a file landing to the agent's first line about it.
    pub notice_bound: f64,
    /// `appliance.ron:L:C` for each error in the invalid file.
    pub invalid_at: Vec<String>,
    pub labels: [String; 3],
}

impl Expect {
    pub fn names(&self) -> BTreeMap<SocketAddr, String> {
        self.dests.iter().zip(&self.labels).map(|(d, l)| (*d, l.clone())).collect()
    }
}

/// A span of the run and what must hold in it.
struct Window<'a> {
    from: f64,
    to: f64,
    what: String,
    /// Who may answer; no request may fail.
    answers: &'a [Who],
    /// Each of these must answer, with [`crate::watch::MIN_ANSWERS`] answers in all.
    must: &'a [Who],
    /// Every poll sent in the window must read this table.
    table: Option<&'a Rules>,
}

const ALL: [Who; 3] = [0, 1, 2];

fn check_window(tl: &Timeline, ex: &Expect, w: &Window, v: &mut Verdict) {
    let names = ex.names();
    let requests: Vec<&Request> = tl.requests.iter().filter(|r| r.start >= w.from && r.start < w.to).collect();
    let bad: Vec<String> = requests
        .iter()
        .filter(|r| !matches!(&r.answer, Ok(who) if w.answers.contains(who)))
        .map(|r| match &r.answer {
            Ok(who) => format!("{:.3} {}", r.start, ex.labels[*who]),
            Err(e) => format!("{:.3} failed ({e})", r.start),
        })
        .collect();
    if !bad.is_empty() {
        let allowed: Vec<&str> = w.answers.iter().map(|i| ex.labels[*i].as_str()).collect();
        v.problems.push(format!(
            "{} [{:.3}, {:.3}): {} of {} requests not answered by {}: {}",
            w.what,
            w.from,
            w.to,
            bad.len(),
            requests.len(),
            allowed.join(" or "),
            bad.join(", ")
        ));
    }
    if !w.must.is_empty() {
        v.require_answers(&format!("{} [{:.3}, {:.3})", w.what, w.from, w.to), &requests, w.must, &ex.labels);
    }
    if let Some(table) = w.table {
        for p in tl.polls.iter().filter(|p| p.sent >= w.from && p.sent < w.to) {
            match &p.table {
                Ok(r) if r == table => {}
                Ok(r) => v.problems.push(format!(
                    "{} [{:.3}, {:.3}): the poll at {:.3} shows {}, not {}",
                    w.what,
                    w.from,
                    w.to,
                    p.got,
                    r.render(&names),
                    table.render(&names)
                )),
                Err(e) => v.problems.push(format!("{}: the poll sent at {:.3} failed: {e}", w.what, p.sent)),
            }
        }
    }
}

/// While a swap is being applied the table may show rs1 at either weight and
/// rs3 absent or at any weight, but nothing else: rs1 and rs2 never leave,
/// rs2 keeps its weight (a diff, not a flush and reload).
fn in_transition(r: &Rules, ex: &Expect) -> bool {
    let [(line, dests)] = r.services.as_slice() else { return false };
    if *line != ex.service_line || dests.iter().any(|d| d.forward != "Route") {
        return false;
    }
    let w = |i: usize| dests.iter().find(|d| d.addr == ex.dests[i]).map(|d| d.weight);
    let base_rs2 = ex.base.weights(&ex.service_line).and_then(|m| m.get(&ex.dests[1]).copied());
    dests.iter().all(|d| ex.dests.contains(&d.addr))
        && w(0).is_some_and(|x| ex.rs1_weights.contains(&x))
        && w(1).is_some()
        && w(1) == base_rs2
}

/// The director's lines in [from, to) as (host time, line).
fn lines_in(tl: &Timeline, from: f64, to: f64) -> impl Iterator<Item = &(f64, String)> {
    tl.director.iter().filter(move |(t, _)| *t >= from && *t < to)
}

/// The first agent line in [from, to) whose text starts with `prefix`.
fn first_agent(tl: &Timeline, from: f64, to: f64, prefix: &str) -> Option<(f64, String)> {
    lines_in(tl, from, to).find(|(_, l)| agent(l).is_some_and(|(_, text)| text.starts_with(prefix))).cloned()
}

fn changes_in(tl: &Timeline, from: f64, to: f64) -> Vec<String> {
    lines_in(tl, from, to)
        .filter_map(|(t, l)| agent(l).filter(|(_, text)| is_change(text)).map(|(_, text)| format!("{t:.3} {text}")))
        .collect()
}

/// The rules of issue 7's lab lines (b), (d) and (c), for the run and its
/// unit tests alike.
pub fn judge(tl: &Timeline, ex: &Expect) -> Verdict {
    let mut v = Verdict::default();
    let Some(baseline) = tl.baseline else {
        v.problems.push("the table never showed rs1 and rs2 up: nothing else was tried".into());
        return v;
    };
    let action = |s: Step| tl.actions.iter().find(|a| a.step == s);
    for (k, s) in STEPS.iter().enumerate() {
        if action(*s).is_none() {
            v.problems.push(format!("step {} ({}) was not reached", k + 1, s.describe()));
            break;
        }
    }
    let end_before = |s: Step| action(s).map_or(tl.end, |a| a.sent);
    let names = ex.names();

    check_window(
        tl,
        ex,
        &Window {
            from: baseline,
            to: end_before(Step::Swap),
            what: "rs1 and rs2 up, before the swap".into(),
            answers: &[0, 1],
            must: &[0, 1],
            table: Some(&ex.base),
        },
        &mut v,
    );

    if let Some(a) = action(Step::Swap) {
        let to = end_before(Step::Kill);
        let detected = tl.polls.iter().find(|p| p.sent >= a.sent && p.sent < to && p.table.as_ref() == Ok(&ex.swapped));
        let shown = detected.map_or(to, |p| p.got);
        match detected {
            Some(p) => {
                let took = p.got - a.sent;
                v.marks.push((
                    p.got,
                    format!(
                        "swap: the table shows ds-swap.ron with rs3 up {took:.2} s after the swap (bound {:.2} s)",
                        ex.swap_bound
                    ),
                ));
                if took > ex.swap_bound {
                    v.problems.push(format!("swap: the table showed {} {took:.2} s after the swap (sent {:.3}, poll answered {:.3}); the bound is {:.2} s", ex.swapped.render(&names), a.sent, p.got, ex.swap_bound));
                }
            }
            None => v.problems.push(format!(
                "swap: no poll showed {} in the {:.1} s watched after the swap",
                ex.swapped.render(&names),
                to - a.sent
            )),
        }
        check_window(
            tl,
            ex,
            &Window {
                from: a.sent,
                to: shown,
                what: "the swap until its table showed".into(),
                answers: &ALL,
                must: &[],
                table: None,
            },
            &mut v,
        );
        for p in tl.polls.iter().filter(|p| p.sent >= a.sent && p.sent < shown) {
            if let Ok(r) = &p.table {
                if !in_transition(r, ex) {
                    v.problems.push(format!("swap: the poll at {:.3} shows {}: between the two files only rs1's weight may change and rs3 come in (rs1 and rs2 must never leave: a diff, no flush)", p.got, r.render(&names)));
                }
            }
        }
        if detected.is_some() {
            check_window(
                tl,
                ex,
                &Window {
                    from: shown,
                    to,
                    what: "after the swap showed".into(),
                    answers: &ALL,
                    must: &ALL,
                    table: Some(&ex.swapped),
                },
                &mut v,
            );
        }
        // The log: noticed, applied as a diff.
        match first_agent(tl, a.sent, to, RELOADING) {
            Some((t, _)) => {
                v.marks.push((
                    t,
                    format!(
                        "swap: the agent noticed the file {:.2} s after the swap (bound {:.2} s)",
                        t - a.sent,
                        ex.notice_bound
                    ),
                ));
                if t - a.sent > ex.notice_bound {
                    v.problems.push(format!(
                        "swap: the agent noticed the new file {:.2} s after it landed; the bound is {:.2} s",
                        t - a.sent,
                        ex.notice_bound
                    ));
                }
                if first_agent(tl, t, to, APPLIED).is_none() {
                    v.problems.push(format!("swap: no `{}` line after `{}`", APPLIED.trim(), RELOADING.trim()));
                }
            }
            None => v.problems.push(format!("swap: the director never logged `{}`", RELOADING.trim())),
        }
        let changes = changes_in(tl, a.sent, to);
        let [rs1, _, rs3] = ex.dests;
        let edit = |c: &String| {
            c.contains(&format!("~ {} -> {rs1} ", ex.service_key()))
                && c.contains(&format!("weight {}", ex.rs1_weights[1]))
        };
        if !changes.iter().any(edit) {
            v.problems.push(format!("swap: no change line `~ {} -> {rs1} ... weight {}` (rs1's new weight as one edit); the changes were: {changes:?}", ex.service_key(), ex.rs1_weights[1]));
        }
        if !changes.iter().any(|c| c.contains(&format!("+ {} -> {rs3} ", ex.service_key()))) {
            v.problems.push(format!(
                "swap: no change line `+ {} -> {rs3} ...`; the changes were: {changes:?}",
                ex.service_key()
            ));
        }
        let removed: Vec<&String> =
            changes.iter().filter(|c| c.split_once(' ').is_some_and(|(_, text)| text.starts_with("- "))).collect();
        if !removed.is_empty() {
            v.problems.push(format!(
                "swap: the agent removed something while applying a file that only adds and edits: {removed:?}"
            ));
        }
    }

    if let Some(a) = action(Step::Kill) {
        let to = end_before(Step::Invalid);
        let exited = lines_in(tl, a.sent, to)
            .find(|(_, l)| {
                logged(l, "lvs-init").is_some_and(|(_, text)| text.starts_with("agent exited (killed by SIGKILL)"))
            })
            .cloned();
        match exited {
            None => v.problems.push("kill: PID 1 never said `agent exited (killed by SIGKILL)` after the kill".into()),
            Some((dead, _)) => {
                v.marks.push((dead, "kill: PID 1 saw the agent die".into()));
                match lines_in(tl, dead, to).find(|(_, l)| is_ready(l)) {
                    Some((t, _)) => {
                        v.marks.push((*t, format!("kill: the new agent is ready {:.2} s after the kill", t - a.sent)))
                    }
                    None => v.problems.push("kill: no agent was ready again after the kill".into()),
                }
                match first_agent(tl, dead, to, RESTORED) {
                    Some((t, l)) => v.marks.push((t, format!("kill: {}", agent(&l).map_or(l.as_str(), |x| x.1)))),
                    None => v.problems.push(format!(
                        "kill: the restarted agent never logged `{}`: it did not take the state its predecessor saved",
                        RESTORED.trim()
                    )),
                }
                if let Some((t, _)) = first_agent(tl, dead, to, FIRST_PROBE) {
                    v.marks.push((t, "kill: the restarted agent's first probe result".into()));
                }
                for other in [IGNORED, NO_STATE] {
                    if let Some((t, l)) = first_agent(tl, dead, to, other) {
                        v.problems.push(format!("kill: at {t:.3} the restarted agent said {l:?}"));
                    }
                }
                let changes = changes_in(tl, dead, to);
                if !changes.is_empty() {
                    v.problems.push(format!("kill: the restarted agent changed the kernel's table, which it should have adopted as it was: {changes:?}"));
                }
            }
        }
        check_window(
            tl,
            ex,
            &Window {
                from: a.sent,
                to,
                what: "from the kill on".into(),
                answers: &ALL,
                must: &ALL,
                table: Some(&ex.swapped),
            },
            &mut v,
        );
    }

    if let Some(a) = action(Step::Invalid) {
        let to = tl.end;
        let before = tl.polls.iter().rev().find(|p| p.sent < a.sent).and_then(|p| p.table.as_ref().ok());
        match first_agent(tl, a.sent, to, INVALID_KEPT) {
            Some((t, _)) => {
                v.marks.push((
                    t,
                    format!(
                        "invalid: the agent refused the file {:.2} s after it landed (bound {:.2} s)",
                        t - a.sent,
                        ex.notice_bound
                    ),
                ));
                if t - a.sent > ex.notice_bound {
                    v.problems.push(format!(
                        "invalid: the agent refused the file {:.2} s after it landed; the bound is {:.2} s",
                        t - a.sent,
                        ex.notice_bound
                    ));
                }
            }
            None => v.problems.push(format!("invalid: the director never logged `{}`", INVALID_KEPT.trim())),
        }
        let said: Vec<&String> = lines_in(tl, a.sent, to).map(|(_, l)| l).collect();
        for at in &ex.invalid_at {
            if !said.iter().any(|l| l.contains(at.as_str())) {
                v.problems.push(format!("invalid: no console line names the error's position {at}"));
            }
        }
        if let Some((t, l)) = first_agent(tl, a.sent, to, APPLIED) {
            v.problems.push(format!("invalid: at {t:.3} the agent said {l:?} for a file it must refuse"));
        }
        let changes = changes_in(tl, a.sent, to);
        if !changes.is_empty() {
            v.problems.push(format!("invalid: the table changed after the invalid file: {changes:?}"));
        }
        match before {
            Some(b) => {
                if *b != ex.swapped {
                    v.problems.push(format!(
                        "invalid: before the file the table was {}, not {}",
                        b.render(&names),
                        ex.swapped.render(&names)
                    ));
                }
                check_window(
                    tl,
                    ex,
                    &Window {
                        from: a.sent,
                        to,
                        what: "after the invalid file (the table as before it)".into(),
                        answers: &ALL,
                        must: &ALL,
                        table: Some(b),
                    },
                    &mut v,
                );
            }
            None => v.problems.push("invalid: no poll before the invalid file to compare with".into()),
        }
        match &tl.agent_log {
            Some(log) => {
                if !log.contains(INVALID_KEPT) {
                    v.problems.push(format!("invalid: /run/lvs/agent.log has no `{}` line", INVALID_KEPT.trim()));
                }
                for at in &ex.invalid_at {
                    if !log.contains(at.as_str()) {
                        v.problems.push(format!("invalid: /run/lvs/agent.log does not name {at}"));
                    }
                }
            }
            None => v.problems.push("invalid: /run/lvs/agent.log could not be read at the end".into()),
        }
    }
    v
}

impl Expect {
    /// The service as change lines name it: `TCP 192.0.2.80:80`.
    pub fn service_key(&self) -> String {
        self.service_line.rsplit_once(' ').map_or(self.service_line.clone(), |(k, _)| k.to_string())
    }
}

/// Everything in time order: actions, each run of identical tables, every
/// request, the marks and the director's console lines.
pub fn render(tl: &Timeline, verdict: &Verdict, ex: &Expect) -> String {
    let names = ex.names();
    let mut lines = Lines::default();
    if let Some(b) = tl.baseline {
        lines.mark(b, "rs1 and rs2 up: the client starts");
    }
    for a in &tl.actions {
        lines.action(a.sent, &format!("{} (reply by {:.3}: {})", a.step.describe(), a.got, a.reply.trim()));
    }
    lines.polls(&tl.polls, |r| r.render(&names));
    lines.requests(&tl.requests, &ex.labels);
    lines.marks(&verdict.marks);
    lines.console("ds", &tl.director);
    lines.render(tl.end, tl.polls.len(), tl.requests.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::Dest;

    fn rules(w: &[(usize, u32)]) -> Rules {
        let d = dests();
        Rules {
            services: vec![(
                "TCP 192.0.2.80:80 rr".into(),
                w.iter().map(|(i, w)| Dest { addr: d[*i], forward: "Route".into(), weight: *w }).collect(),
            )],
        }
    }

    fn dests() -> [SocketAddr; 3] {
        ["192.0.2.21:80".parse().unwrap(), "192.0.2.22:80".parse().unwrap(), "192.0.2.23:80".parse().unwrap()]
    }

    fn expect() -> Expect {
        Expect {
            base: rules(&[(0, 1), (1, 1)]),
            swapped: rules(&[(0, 3), (1, 1), (2, 1)]),
            service_line: "TCP 192.0.2.80:80 rr".into(),
            dests: dests(),
            rs1_weights: [1, 3],
            swap_bound: 5.5,
            notice_bound: 2.5,
            invalid_at: vec!["appliance.ron:23:41".into()],
            labels: ["rs1".into(), "rs2".into(), "rs3".into()],
        }
    }

    fn line(t: f64, text: &str) -> (f64, String) {
        // Guest uptime and host time need not agree; the judge reads host time.
        (t, format!("lvs-agent: T={:.3} {text}", t + 100.0))
    }

    /// A run that did everything right: swap at 12 (table at 14.5), kill at
    /// 20 (ready again at 21.6), invalid at 28 (refused at 28.8), end 33.
    fn good_run() -> Timeline {
        let mut tl = Timeline {
            baseline: Some(10.0),
            end: 33.0,
            agent_log: Some(format!(
                "lvs-agent: T=128.8 {INVALID_KEPT}\n/etc/lvs/appliance.ron:23:41: error: real server ...\n"
            )),
            ..Timeline::default()
        };
        for (step, at) in [(Step::Swap, 12.0), (Step::Kill, 20.0), (Step::Invalid, 28.0)] {
            tl.actions.push(Action { step, sent: at, got: at + 0.05, reply: "ok".into() });
        }
        let table_at = |t: f64| {
            if t < 12.3 {
                rules(&[(0, 1), (1, 1)])
            } else if t < 14.4 {
                rules(&[(0, 3), (1, 1), (2, 0)])
            } else {
                rules(&[(0, 3), (1, 1), (2, 1)])
            }
        };
        let mut t = 10.0;
        while t < 33.0 {
            tl.polls.push(Poll { sent: t, got: t + 0.1, table: Ok(table_at(t + 0.05)) });
            t += 0.2;
        }
        let mut t = 10.0;
        let mut k = 0;
        while t < 33.0 {
            let up: Vec<Who> = if t < 14.4 { vec![0, 1] } else { vec![0, 1, 2] };
            tl.requests.push(Request { start: t, end: t + 0.01, answer: Ok(up[k % up.len()]) });
            k += 1;
            t += 0.1;
        }
        tl.director = vec![
            line(12.4, "config: reloading /etc/lvs/appliance.ron"),
            line(12.42, "+ TCP 192.0.2.80:80 -> 192.0.2.23:80 Route weight 0"),
            line(12.43, "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 3"),
            line(12.45, "config: applied 2 changes"),
            line(14.3, "192.0.2.23:80 http up after 2 passes"),
            line(14.31, "~ TCP 192.0.2.80:80 -> 192.0.2.23:80 Route weight 1"),
            (20.1, "lvs-init: T=120.100 agent exited (killed by SIGKILL); restarting in 1s".into()),
            (21.1, "lvs-init: T=121.100 agent started pid=99".into()),
            line(21.4, "state: restored 1 service, 3 real servers"),
            line(21.6, "ready"),
            line(21.9, "health: first probe result: 192.0.2.21:80 pass"),
            line(28.8, "config: invalid, the running config stays: "),
            line(28.81, "/etc/lvs/appliance.ron:23:41: error: real server 192.0.2.24:8080 listens on port 8080"),
        ];
        tl
    }

    #[test]
    fn a_good_run_passes_and_says_when() {
        let tl = good_run();
        let ex = expect();
        let v = judge(&tl, &ex);
        assert!(v.problems.is_empty(), "{:#?}", v.problems);
        let text = render(&tl, &v, &ex);
        assert!(text.contains("table: TCP 192.0.2.80:80 rr: rs1 3, rs2 1, rs3 0"), "{text}");
        assert!(text.contains("== swap: the table shows ds-swap.ron with rs3 up 2.50 s after the swap"), "{text}");
        assert!(text.contains("== kill: the new agent is ready 1.60 s after the kill"), "{text}");
        assert!(text.contains("ds: lvs-agent: T=121.400 state: restored"), "{text}");
    }

    #[test]
    fn a_failed_request_anywhere_after_the_baseline_is_a_problem() {
        for at in [11.0, 13.0, 16.0, 20.5, 29.0] {
            let mut tl = good_run();
            tl.requests.iter_mut().find(|r| (r.start - at).abs() < 1e-6).unwrap().answer =
                Err("connect: Connection refused".into());
            let v = judge(&tl, &expect());
            assert!(
                v.problems.iter().any(|p| p.contains(&format!("{at:.3} failed (connect: Connection refused)"))),
                "{at}: {:#?}",
                v.problems
            );
        }
    }

    #[test]
    fn a_flush_during_the_swap_is_a_problem() {
        let mut tl = good_run();
        tl.polls.iter_mut().find(|p| (p.sent - 12.6).abs() < 0.01).unwrap().table = Ok(rules(&[(2, 0)]));
        tl.director.insert(2, line(12.41, "- TCP 192.0.2.80:80 -> 192.0.2.22:80"));
        let v = judge(&tl, &expect());
        assert!(
            v.problems.iter().any(|p| p.contains("shows TCP 192.0.2.80:80 rr: rs3 0: between the two files")),
            "{:#?}",
            v.problems
        );
        assert!(v.problems.iter().any(|p| p.contains("the agent removed something")), "{:#?}", v.problems);
    }

    #[test]
    fn a_late_or_missing_swap_is_a_problem() {
        let mut tl = good_run();
        for p in tl.polls.iter_mut().filter(|p| p.sent < 18.0 && p.sent > 12.0) {
            p.table = Ok(rules(&[(0, 3), (1, 1), (2, 0)]));
        }
        let v = judge(&tl, &expect());
        assert!(
            v.problems.iter().any(|p| p.contains("swap: the table showed") && p.contains("the bound is 5.50 s")),
            "{:#?}",
            v.problems
        );
        tl.director.retain(|(_, l)| !l.contains("config: ") && !l.contains("-> 192.0.2.23:80"));
        let v = judge(&tl, &expect());
        assert!(v.problems.iter().any(|p| p.contains("never logged `config: reloading`")), "{:#?}", v.problems);
        assert!(
            v.problems.iter().any(|p| p.contains("no change line `+ TCP 192.0.2.80:80 -> 192.0.2.23:80")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn a_restart_that_does_not_restore_is_a_problem() {
        let mut tl = good_run();
        tl.director.retain(|(_, l)| !l.contains("state: restored"));
        tl.director.push(line(21.5, "state: no saved state"));
        tl.director.push(line(21.7, "~ TCP 192.0.2.80:80 -> 192.0.2.21:80 Route weight 0"));
        tl.director.sort_by(|a, b| a.0.total_cmp(&b.0));
        for p in tl.polls.iter_mut().filter(|p| p.sent > 21.7 && p.sent < 23.0) {
            p.table = Ok(rules(&[(0, 0), (1, 0), (2, 0)]));
        }
        let v = judge(&tl, &expect());
        for needle in [
            "never logged `state: restored`",
            "said \"lvs-agent: T=121.500 state: no saved state\"",
            "changed the kernel's table",
            "from the kill on [20.000, 28.000): the poll at",
        ] {
            assert!(v.problems.iter().any(|p| p.contains(needle)), "{needle}: {:#?}", v.problems);
        }
    }

    #[test]
    fn an_invalid_file_must_be_refused_with_its_position_and_change_nothing() {
        let mut tl = good_run();
        tl.director.retain(|(_, l)| !l.contains("appliance.ron:23:41"));
        tl.agent_log = Some(String::new());
        tl.polls.last_mut().unwrap().table = Ok(rules(&[(0, 3), (1, 5), (2, 1)]));
        let v = judge(&tl, &expect());
        for needle in [
            "no console line names the error's position appliance.ron:23:41",
            "agent.log has no `config: invalid",
            "agent.log does not name appliance.ron:23:41",
            "rs2 5",
        ] {
            assert!(v.problems.iter().any(|p| p.contains(needle)), "{needle}: {:#?}", v.problems);
        }
        let mut tl = good_run();
        tl.director.push(line(29.5, "config: applied 1 change"));
        let v = judge(&tl, &expect());
        assert!(v.problems.iter().any(|p| p.contains("for a file it must refuse")), "{:#?}", v.problems);
    }

    #[test]
    fn steps_not_reached_and_a_stalled_client_are_problems() {
        let mut tl = good_run();
        tl.actions.truncate(1);
        tl.end = 18.0;
        tl.requests.retain(|r| r.start < 14.7);
        let v = judge(&tl, &expect());
        assert!(
            v.problems.iter().any(|p| p.contains("step 2 (kill -9 the agent) was not reached")),
            "{:#?}",
            v.problems
        );
        assert!(
            v.problems.iter().any(|p| p.contains("after the swap showed") && p.contains("only")),
            "{:#?}",
            v.problems
        );
        assert!(judge(&Timeline::default(), &expect()).problems[0].contains("never showed rs1 and rs2 up"));
    }
}
