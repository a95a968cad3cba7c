//! The management lab's judge: pure, on the whole record of a run (the
//! client's requests, the polled tables, and when each step was sent and
//! shown), so that a failure lists every problem at once.

use super::Weights;
use crate::watch::{Poll, Request, Who, MIN_ANSWERS};

/// When each step was sent (the CLI started) and shown (the first poll that
/// read its table answered), in seconds on the run's clock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    /// Both real servers up: the client starts.
    pub client_from: f64,
    pub drain_sent: f64,
    pub drain_shown: f64,
    pub clear_sent: f64,
    pub clear_shown: f64,
    pub try_sent: f64,
    pub rs3_shown: f64,
    pub reverted: f64,
    pub apply_sent: f64,
    pub reboot_sent: f64,
    /// The second boot's table shows the confirmed weights.
    pub back: f64,
    pub invalid_sent: f64,
    pub end: f64,
}

/// Every problem of a run; empty when it passed. `rs1`/`rs2` are the
/// client's indexes of the two real servers; `try_within` the try's
/// deadline; `confirmed` the table the reboot must keep and the invalid
/// config must leave.
pub fn judge(
    requests: &[Request],
    polls: &[Poll<Weights>],
    m: &Marks,
    try_within: f64,
    has_rs3: impl Fn(&Weights) -> bool,
    confirmed: &Weights,
) -> Vec<String> {
    const RS1: Who = 0;
    const RS2: Who = 1;
    let mut problems = Vec::new();
    let span = |from: f64, to: f64| requests.iter().filter(move |r| r.start >= from && r.start < to);
    for r in span(m.client_from, m.reboot_sent).chain(span(m.back, m.end)) {
        if let Err(e) = &r.answer {
            problems.push(format!("a request at {:.3} failed ({e}); none may, but across the reboot", r.start));
        }
    }
    let mut answers = |name: &str, from: f64, to: f64, must: &[Who], only: &[Who]| {
        let got: Vec<&Request> = span(from, to).collect();
        let answered: Vec<Who> = got.iter().filter_map(|r| r.answer.as_ref().ok().copied()).collect();
        if answered.len() < MIN_ANSWERS {
            problems.push(format!(
                "{name} [{from:.3}, {to:.3}): {} answers, at least {MIN_ANSWERS} needed",
                answered.len()
            ));
        }
        for who in must {
            if !answered.contains(who) {
                problems.push(format!("{name} [{from:.3}, {to:.3}): rs{} never answered", who + 1));
            }
        }
        for r in got {
            if let Ok(who) = r.answer {
                if !only.contains(&who) {
                    problems.push(format!("{name}: rs{} answered the request at {:.3}", who + 1, r.start));
                }
            }
        }
    };
    answers("before the drain", m.client_from, m.drain_sent, &[RS1, RS2], &[RS1, RS2]);
    answers("rs1 drained", m.drain_shown, m.clear_sent, &[RS2], &[RS2]);
    answers("rs1 back", m.clear_shown, m.try_sent, &[RS1, RS2], &[RS1, RS2]);
    answers("after the reboot", m.back, m.end, &[RS1, RS2], &[RS1, RS2]);

    // The try runs until its deadline, not less: every table read from the
    // one that showed rs3 until a second before the deadline lists it.
    let deadline = m.try_sent + try_within;
    for p in polls.iter().filter(|p| p.sent >= m.rs3_shown && p.got < deadline - 1.0) {
        if !p.table.as_ref().is_ok_and(&has_rs3) {
            problems.push(format!("the try ended early: the poll at {:.3} reads {:?}", p.sent, p.table));
        }
    }
    if m.reverted < deadline - 1.0 {
        problems.push(format!("the try was reverted at {:.3}, before its deadline {deadline:.3}", m.reverted));
    }
    // An invalid config changes nothing.
    for p in polls.iter().filter(|p| p.sent >= m.invalid_sent && p.sent < m.end) {
        if p.table.as_ref().ok() != Some(confirmed) {
            problems.push(format!("after the invalid config, the poll at {:.3} reads {:?}", p.sent, p.table));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn weights(w: &[(u16, u32)]) -> Weights {
        w.iter().map(|(p, w)| (SocketAddr::from(([192, 0, 2, 183], *p)), *w)).collect()
    }

    fn run() -> (Vec<Request>, Vec<Poll<Weights>>, Marks) {
        let m = Marks {
            client_from: 0.0,
            drain_sent: 1.0,
            drain_shown: 2.0,
            clear_sent: 3.0,
            clear_shown: 4.0,
            try_sent: 5.0,
            rs3_shown: 6.0,
            reverted: 25.5,
            apply_sent: 27.0,
            reboot_sent: 30.0,
            back: 60.0,
            invalid_sent: 61.0,
            end: 62.0,
        };
        let mut requests = Vec::new();
        let mut t = 0.0;
        while t < 62.0 {
            let who = if (2.0..3.0).contains(&t) { 1 } else { usize::from((t * 10.0) as u32 % 2 == 1) };
            let answer = if (30.0..60.0).contains(&t) { Err("connect: refused".into()) } else { Ok(who) };
            requests.push(Request { start: t, end: t + 0.01, answer });
            t += 0.1;
        }
        let confirmed = weights(&[(80, 3), (81, 2)]);
        let polls = vec![
            Poll { sent: 6.0, got: 6.1, table: Ok(weights(&[(80, 2), (82, 0)])) },
            Poll { sent: 23.0, got: 23.1, table: Ok(weights(&[(80, 2), (82, 0)])) },
            Poll { sent: 61.2, got: 61.3, table: Ok(confirmed) },
        ];
        (requests, polls, m)
    }

    fn has_rs3(w: &Weights) -> bool {
        w.keys().any(|a| a.port() == 82)
    }

    #[test]
    fn a_good_run_passes_and_each_broken_rule_is_named() {
        let confirmed = weights(&[(80, 3), (81, 2)]);
        let (requests, polls, m) = run();
        assert_eq!(judge(&requests, &polls, &m, 20.0, has_rs3, &confirmed), Vec::<String>::new());

        let mut failed = requests.clone();
        failed[25].answer = Err("receive: reset".into());
        failed[22].answer = Ok(0);
        let p = judge(&failed, &polls, &m, 20.0, has_rs3, &confirmed);
        assert!(p.iter().any(|p| p.contains("failed (receive: reset)")), "{p:?}");
        assert!(p.iter().any(|p| p.starts_with("rs1 drained: rs1 answered")), "{p:?}");

        let early = Marks { reverted: 20.0, ..m.clone() };
        let mut polls_early = polls.clone();
        polls_early[1].table = Ok(weights(&[(80, 2)]));
        let p = judge(&requests, &polls_early, &early, 20.0, has_rs3, &confirmed);
        assert!(p.iter().any(|p| p.starts_with("the try ended early")), "{p:?}");
        assert!(p.iter().any(|p| p.starts_with("the try was reverted at 20.000")), "{p:?}");

        let mut changed = polls;
        changed[2].table = Ok(weights(&[(80, 3), (81, 5)]));
        let p = judge(&requests, &changed, &m, 20.0, has_rs3, &confirmed);
        assert!(p.iter().any(|p| p.starts_with("after the invalid config")), "{p:?}");
    }
}
