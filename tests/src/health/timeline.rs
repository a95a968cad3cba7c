//! What the health lab saw, in seconds since the run started, and the judge
//! that reads it: pure, so its rules are unit tests that need no lab.
//!
//! The run records three streams: the client's requests, the polls of the
//! director's table, and the test's actions on the real servers. The judge
//! finds, for each action, the first poll (sent after it) whose table shows
//! the action's effect (its *detection*), checks it came within the bound,
//! and checks what the client and the table showed between detections.

use std::net::SocketAddr;

use crate::watch::{status, Lines};
pub use crate::watch::{Request, Verdict, Who};

// Who answered a request: indexes into the plan's labels.
pub const RS1: Who = 0;
pub const RS2: Who = 1;
pub const SORRY: Who = 2;

/// The service's real servers and weights, as `lvs-agent status` listed them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table(pub Vec<(SocketAddr, u32)>);

impl Table {
    pub fn weight(&self, dest: SocketAddr) -> Option<u32> {
        self.0.iter().find(|(a, _)| *a == dest).map(|(_, w)| *w)
    }

    /// The `->` lines of `lvs-agent status` (ipvsadm -Ln's layout: address,
    /// forwarding, weight, ...); the header's `-> RemoteAddress:Port` is no address.
    pub fn parse(text: &str) -> Result<Table, String> {
        let mut entries = Vec::new();
        for line in status::lines(text)? {
            if let status::Line::Dest { addr, weight, text, .. } = line {
                entries.push((addr, weight.ok_or_else(|| format!("no weight in {text:?}"))?));
            }
        }
        Ok(Table(entries))
    }
}

pub type Poll = crate::watch::Poll<Table>;

/// What the test does to the real servers, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// SIGSTOP rs1's httpd: rs1 must go to weight 0, the client see only rs2.
    StopRs1,
    /// SIGCONT it: rs1 back at its weight.
    ContRs1,
    /// SIGSTOP both: both at weight 0 and the sorry server in the table.
    StopBoth,
    /// SIGCONT rs2 only: rs2 back and the sorry server out.
    ContRs2,
}

pub const STEPS: [Step; 4] = [Step::StopRs1, Step::ContRs1, Step::StopBoth, Step::ContRs2];

impl Step {
    /// What the test sends, to which real servers.
    pub fn messages(self) -> &'static [(Who, &'static str)] {
        match self {
            Step::StopRs1 => &[(RS1, "stop")],
            Step::ContRs1 => &[(RS1, "cont")],
            Step::StopBoth => &[(RS1, "stop"), (RS2, "stop")],
            Step::ContRs2 => &[(RS2, "cont")],
        }
    }

    pub fn goes_down(self) -> bool {
        matches!(self, Step::StopRs1 | Step::StopBoth)
    }

    /// The table the step must lead to, and keep until the next step.
    pub fn state(self) -> State {
        match self {
            Step::StopRs1 => State { rs: [false, true], sorry: false },
            Step::ContRs1 => State { rs: [true, true], sorry: false },
            Step::StopBoth => State { rs: [false, false], sorry: true },
            Step::ContRs2 => State { rs: [false, true], sorry: false },
        }
    }

    /// Who may answer requests started once the step is detected.
    pub fn answers(self) -> &'static [Who] {
        match self {
            Step::StopRs1 | Step::ContRs2 => &[RS2],
            Step::ContRs1 => &[RS1, RS2],
            Step::StopBoth => &[SORRY],
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::StopRs1 => "stop rs1's httpd",
            Step::ContRs1 => "continue rs1's httpd",
            Step::StopBoth => "stop both httpd",
            Step::ContRs2 => "continue rs2's httpd",
        }
    }
}

/// A table the director must show: which real servers are up (at their
/// configured weight; down is 0, quiesced, still listed) and whether the
/// sorry server is in it (with a weight above 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub rs: [bool; 2],
    pub sorry: bool,
}

pub const BOTH_UP: State = State { rs: [true, true], sorry: false };

/// The addresses and weights the judge compares tables with.
#[derive(Clone, Copy, Debug)]
pub struct Dests {
    /// rs1, rs2, sorry.
    pub addr: [SocketAddr; 3],
    pub weights: [u32; 2],
}

impl Dests {
    pub fn holds(&self, state: State, table: &Table) -> bool {
        let rs_ok = (0..2).all(|i| table.weight(self.addr[i]) == Some(if state.rs[i] { self.weights[i] } else { 0 }));
        let sorry = table.weight(self.addr[SORRY]);
        rs_ok && if state.sorry { sorry.is_some_and(|w| w > 0) } else { sorry.is_none() }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub step: Step,
    pub sent: f64,
    pub got: f64,
    /// control.sh's reply from each real server the step speaks to.
    pub replies: Vec<String>,
}

/// Seconds after an action by which its effect must show in the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub down: f64,
    pub up: f64,
}

impl Bounds {
    pub fn of(&self, step: Step) -> f64 {
        if step.goes_down() {
            self.down
        } else {
            self.up
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// When the table first showed both real servers up and no sorry server
    /// (after boot, with every real server starting down): the client starts then.
    pub baseline: Option<f64>,
    pub actions: Vec<Action>,
    pub polls: Vec<Poll>,
    pub requests: Vec<Request>,
    /// When the run stopped watching.
    pub end: f64,
    /// The director's console lines from its ready line on (its checks'
    /// transitions and table changes), at the time they reached the host.
    pub director: Vec<(f64, String)>,
}

/// The first poll sent at or after `after` whose table is in `state`.
pub fn first_poll<'a>(polls: &'a [Poll], dests: &Dests, state: State, after: f64) -> Option<&'a Poll> {
    polls.iter().find(|p| p.sent >= after && p.table.as_ref().is_ok_and(|t| dests.holds(state, t)))
}

/// The rules, for the lab run and its unit tests alike. `labels` name rs1,
/// rs2 and sorry in messages.
pub fn judge(tl: &Timeline, dests: &Dests, bounds: &Bounds, labels: &[String; 3]) -> Verdict {
    let mut v = Verdict::default();
    let name = |who: &Result<Who, String>| match who {
        Ok(w) => labels[*w].clone(),
        Err(e) => format!("failure ({e})"),
    };
    let Some(baseline) = tl.baseline else {
        v.problems
            .push("the table never showed both real servers up and no sorry server: nothing else was tried".into());
        return v;
    };

    // Windows [from, to) of request starts and poll sends, with what must hold there.
    struct Window {
        from: f64,
        to: f64,
        what: String,
        state: State,
        answers: Vec<Who>,
        all_answer: bool,
    }
    let mut windows = vec![Window {
        from: baseline,
        to: f64::INFINITY,
        what: "both up, before any stop".into(),
        state: BOTH_UP,
        answers: vec![RS1, RS2],
        all_answer: true,
    }];
    for (k, step) in STEPS.iter().enumerate() {
        let Some(action) = tl.actions.iter().find(|a| a.step == *step) else {
            v.problems.push(format!("step {} ({}) was not reached", k + 1, step.describe()));
            break;
        };
        if let Some(w) = windows.last_mut() {
            w.to = w.to.min(action.sent);
        }
        // From a stop to its detection requests may fail; after a
        // continue nothing may fail: the server was already quiesced.
        if !step.goes_down() {
            let previous = STEPS[k - 1].answers();
            let mut may: Vec<Who> = previous.to_vec();
            may.extend(step.answers());
            windows.push(Window {
                from: action.sent,
                to: f64::INFINITY,
                what: format!("{} until its detection", step.describe()),
                state: step.state(),
                answers: may,
                all_answer: false,
            });
        }
        let bound = bounds.of(*step);
        match first_poll(&tl.polls, dests, step.state(), action.sent) {
            Some(p) => {
                let took = p.got - action.sent;
                let what = if step.goes_down() { "detected" } else { "back" };
                v.marks.push((
                    p.got,
                    format!(
                        "step {}: {} {what} in the table {took:.2} s after the action (bound {bound:.2} s)",
                        k + 1,
                        step.describe()
                    ),
                ));
                if took > bound {
                    v.problems.push(format!(
                        "step {} ({}): the table showed it {took:.2} s after the action (sent at {:.3}, poll answered at {:.3}); the bound is {bound:.2} s",
                        k + 1,
                        step.describe(),
                        action.sent,
                        p.got
                    ));
                }
                if let Some(w) = windows.last_mut() {
                    if !step.goes_down() {
                        w.to = p.got;
                    }
                }
                windows.push(Window {
                    from: p.got,
                    to: tl.end,
                    what: format!("after step {} ({}) showed", k + 1, step.describe()),
                    state: step.state(),
                    answers: step.answers().to_vec(),
                    all_answer: true,
                });
                // A server that came back must answer the client within the same bound.
                if *step == Step::ContRs1 {
                    let first = tl.requests.iter().find(|r| r.start >= action.sent && r.answer == Ok(RS1));
                    match first {
                        Some(r) => {
                            let took = r.end - action.sent;
                            v.marks.push((
                                r.end,
                                format!(
                                    "step {}: first answer from {} again, {took:.2} s after the action",
                                    k + 1,
                                    labels[RS1]
                                ),
                            ));
                            if took > bound {
                                v.problems.push(format!("step {}: {} answered the client again only {took:.2} s after the action; the bound is {bound:.2} s", k + 1, labels[RS1]));
                            }
                        }
                        None => {
                            v.problems.push(format!("step {}: {} never answered the client again", k + 1, labels[RS1]))
                        }
                    }
                }
            }
            None => {
                let polls = tl.polls.iter().filter(|p| p.sent >= action.sent).count();
                v.problems.push(format!(
                    "step {} ({}): no poll showed {} in the {:.1} s watched after the action ({polls} polls; bound {bound:.2} s)",
                    k + 1,
                    step.describe(),
                    render_state(step.state(), labels),
                    tl.end - action.sent
                ));
                break;
            }
        }
    }

    for w in &windows {
        let to = w.to.min(tl.end);
        let requests: Vec<&Request> = tl.requests.iter().filter(|r| r.start >= w.from && r.start < to).collect();
        let bad: Vec<String> = requests
            .iter()
            .filter(|r| !matches!(&r.answer, Ok(who) if w.answers.contains(who)))
            .map(|r| format!("{:.3} {}", r.start, name(&r.answer)))
            .collect();
        let allowed: Vec<&str> = w.answers.iter().map(|&i| labels[i].as_str()).collect();
        if !bad.is_empty() {
            v.problems.push(format!(
                "{} [{:.3}, {to:.3}): requests answered other than by {} ({} of {}): {}",
                w.what,
                w.from,
                allowed.join(" or "),
                bad.len(),
                requests.len(),
                bad.join(", ")
            ));
        }
        if w.all_answer {
            v.require_answers(&format!("{} [{:.3}, {to:.3})", w.what, w.from), &requests, &w.answers, labels);
            // The table must stay as the step left it: no flapping.
            for p in tl.polls.iter().filter(|p| p.sent >= w.from && p.sent < to) {
                match &p.table {
                    Ok(t) if dests.holds(w.state, t) => {}
                    Ok(t) => v.problems.push(format!(
                        "{} [{:.3}, {to:.3}): the poll at {:.3} shows {}, not {}",
                        w.what,
                        w.from,
                        p.got,
                        render_table(t, dests, labels),
                        render_state(w.state, labels)
                    )),
                    Err(e) => v.problems.push(format!("{}: the poll at {:.3} failed: {e}", w.what, p.sent)),
                }
            }
        }
    }
    v
}

fn label_of(addr: SocketAddr, dests: &Dests, labels: &[String; 3]) -> String {
    dests.addr.iter().position(|a| *a == addr).map_or_else(|| addr.to_string(), |i| labels[i].clone())
}

pub fn render_table(t: &Table, dests: &Dests, labels: &[String; 3]) -> String {
    if t.0.is_empty() {
        return "no real server".into();
    }
    t.0.iter().map(|(a, w)| format!("{} {w}", label_of(*a, dests, labels))).collect::<Vec<_>>().join(", ")
}

pub fn render_state(s: State, labels: &[String; 3]) -> String {
    format!(
        "{} {}, {} {}, {}",
        labels[RS1],
        if s.rs[0] { "up" } else { "at 0" },
        labels[RS2],
        if s.rs[1] { "up" } else { "at 0" },
        if s.sorry { format!("{} in", labels[SORRY]) } else { format!("no {}", labels[SORRY]) }
    )
}

/// Everything in time order: actions, every change of the table (with the
/// number of polls that showed the same), every request, and the marks.
pub fn render(tl: &Timeline, verdict: &Verdict, dests: &Dests, labels: &[String; 3]) -> String {
    let mut lines = Lines::default();
    if let Some(b) = tl.baseline {
        lines.mark(b, "both up, no sorry server: the client starts");
    }
    for a in &tl.actions {
        lines.action(a.sent, &format!("{} (replies by {:.3}: {})", a.step.describe(), a.got, a.replies.join("; ")));
    }
    lines.polls(&tl.polls, |t| render_table(t, dests, labels));
    lines.requests(&tl.requests, labels);
    lines.marks(&verdict.marks);
    lines.console("ds", &tl.director);
    lines.render(tl.end, tl.polls.len(), tl.requests.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests() -> Dests {
        Dests {
            addr: [
                "192.0.2.21:80".parse().unwrap(),
                "192.0.2.22:80".parse().unwrap(),
                "192.0.2.30:80".parse().unwrap(),
            ],
            weights: [1, 1],
        }
    }

    fn labels() -> [String; 3] {
        ["rs1".into(), "rs2".into(), "sorry".into()]
    }

    const BOUNDS: Bounds = Bounds { down: 3.5, up: 3.0 };

    fn table(rs1: u32, rs2: u32, sorry: Option<u32>) -> Table {
        let d = dests();
        let mut t = vec![(d.addr[0], rs1), (d.addr[1], rs2)];
        if let Some(w) = sorry {
            t.push((d.addr[2], w));
        }
        Table(t)
    }

    /// A run that did everything right: polls every 0.2 s, requests every
    /// 0.1 s, each step detected `lag` s after its action.
    fn good_run(lag: f64) -> Timeline {
        let mut tl = Timeline { baseline: Some(10.0), end: 40.0, ..Timeline::default() };
        let actions = [(Step::StopRs1, 12.0), (Step::ContRs1, 18.0), (Step::StopBoth, 24.0), (Step::ContRs2, 31.0)];
        for (step, at) in actions {
            tl.actions.push(Action { step, sent: at, got: at + 0.05, replies: vec!["ok".into()] });
        }
        let state_at = |t: f64| -> (Table, Vec<Who>) {
            if t < 12.0 + lag {
                (table(1, 1, None), vec![RS1, RS2])
            } else if t < 18.0 + lag {
                (table(0, 1, None), vec![RS2])
            } else if t < 24.0 + lag {
                (table(1, 1, None), vec![RS1, RS2])
            } else if t < 31.0 + lag {
                (table(0, 0, Some(1)), vec![SORRY])
            } else {
                (table(0, 1, None), vec![RS2])
            }
        };
        let mut t = 10.0;
        while t < 40.0 {
            tl.polls.push(Poll { sent: t, got: t + 0.1, table: Ok(state_at(t + 0.05).0) });
            t += 0.2;
        }
        let mut t = 10.0;
        let mut k = 0;
        while t < 40.0 {
            let who = state_at(t).1;
            tl.requests.push(Request { start: t, end: t + 0.01, answer: Ok(who[k % who.len()]) });
            k += 1;
            t += 0.1;
        }
        tl
    }

    #[test]
    fn a_good_run_passes_and_says_when() {
        let tl = good_run(2.0);
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(v.problems.is_empty(), "{:#?}", v.problems);
        assert_eq!(v.marks.len(), 5, "{:#?}", v.marks);
        assert!(v.marks[0].1.contains("detected in the table 2.10 s after"), "{}", v.marks[0].1);
        let text = render(&tl, &v, &dests(), &labels());
        assert!(text.contains(">> stop rs1's httpd"), "{text}");
        assert!(text.contains("table: rs1 0, rs2 1"), "{text}");
        assert!(text.contains("table: rs1 0, rs2 1 (30 polls, sent 14.000"), "{text}");
    }

    #[test]
    fn late_detection_is_a_problem() {
        let v = judge(&good_run(3.6), &dests(), &BOUNDS, &labels());
        assert!(
            v.problems.iter().any(|p| p.contains("step 1 (stop rs1's httpd): the table showed it 3.70 s")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn no_detection_stops_the_judging_there() {
        let mut tl = good_run(2.0);
        for p in &mut tl.polls {
            p.table = Ok(table(1, 1, None));
        }
        tl.actions.truncate(1);
        tl.end = 20.0;
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems
                .iter()
                .any(|p| p.contains("step 1 (stop rs1's httpd): no poll showed rs1 at 0, rs2 up, no sorry")),
            "{:#?}",
            v.problems
        );
        assert!(!v.problems.iter().any(|p| p.contains("step 2")), "{:#?}", v.problems);
    }

    #[test]
    fn a_failure_after_detection_is_a_problem_and_before_it_is_not() {
        let mut tl = good_run(2.0);
        for r in &mut tl.requests {
            // Hung on the stopped rs1 before detection: allowed.
            if (r.start - 13.0).abs() < 1e-6 || (r.start - 25.0).abs() < 1e-6 {
                r.answer = Err("timed out".into());
            }
        }
        assert!(judge(&tl, &dests(), &BOUNDS, &labels()).problems.is_empty());
        let r = tl.requests.iter_mut().find(|r| (r.start - 15.0).abs() < 1e-6).unwrap();
        r.answer = Err("timed out".into());
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems
                .iter()
                .any(|p| p.starts_with("after step 1 (stop rs1's httpd) showed")
                    && p.contains("15.000 failure (timed out)")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn rs1_answering_while_quiesced_is_a_problem() {
        let mut tl = good_run(2.0);
        tl.requests.iter_mut().find(|r| (r.start - 16.0).abs() < 1e-6).unwrap().answer = Ok(RS1);
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems.iter().any(|p| p.contains("other than by rs2") && p.contains("16.000 rs1")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn the_sorry_server_must_leave_when_one_comes_back() {
        let mut tl = good_run(2.0);
        for p in tl.polls.iter_mut().filter(|p| p.sent > 32.5) {
            p.table = Ok(table(0, 1, Some(1)));
        }
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems
                .iter()
                .any(|p| p.contains("step 4 (continue rs2's httpd): no poll showed rs1 at 0, rs2 up, no sorry")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn sorry_must_answer_when_both_are_down() {
        let mut tl = good_run(2.0);
        for r in tl.requests.iter_mut().filter(|r| r.start > 27.0 && r.start < 30.0) {
            r.answer = Err("connection refused".into());
        }
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems
                .iter()
                .any(|p| p.starts_with("after step 3 (stop both httpd) showed") && p.contains("other than by sorry")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn a_flap_while_down_is_a_problem() {
        let mut tl = good_run(2.0);
        tl.polls.iter_mut().find(|p| (p.sent - 16.0).abs() < 0.01).unwrap().table = Ok(table(1, 1, None));
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(
            v.problems.iter().any(|p| p.contains("shows rs1 1, rs2 1, not rs1 at 0, rs2 up, no sorry")),
            "{:#?}",
            v.problems
        );
    }

    #[test]
    fn a_stalled_client_cannot_pass() {
        let mut tl = good_run(2.0);
        tl.requests.retain(|r| r.start < 14.0 || r.start > 18.0);
        let v = judge(&tl, &dests(), &BOUNDS, &labels());
        assert!(v.problems.iter().any(|p| p.contains("only 0 answers")), "{:#?}", v.problems);
    }

    #[test]
    fn parses_the_status_table() {
        let status = status::sample(&[("192.0.2.21:80", 0, 0, 3), ("192.0.2.22:80", 1, 0, 2)]);
        assert_eq!(Table::parse(&status).unwrap(), table(0, 1, None));
        assert!(Table::parse("sh: lvs-agent: not found").is_err());
        assert_eq!(
            Table::parse("IP Virtual Server\n  -> 192.0.2.21:80 Route\n"),
            Err("no weight in \"  -> 192.0.2.21:80 Route\"".into())
        );
    }
}
