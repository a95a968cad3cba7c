//! What the client's answers must look like for each [`Expect`]. Answers are
//! indices into the plan's two real servers, in the order they came.

use super::Expect;

/// Every way `answers` (and, for stickiness, `second`) fall short of
/// `expect`; empty when they do not. `wanted` is how many requests were sent
/// or meant to be.
pub fn judge(expect: &Expect, labels: &[String; 2], answers: &[usize], second: &[usize], wanted: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if answers.len() < wanted {
        problems.push(format!("only {} of {wanted} requests were answered", answers.len()));
    }
    let counts = |a: &[usize]| [0, 1].map(|i| a.iter().filter(|&&x| x == i).count());
    match *expect {
        Expect::Alternate => {
            for (i, pair) in answers.windows(2).enumerate() {
                if pair[0] == pair[1] {
                    problems.push(format!(
                        "requests {} and {} both went to {}: rr alternates",
                        i + 1,
                        i + 2,
                        labels[pair[0]]
                    ));
                }
            }
            let [a, b] = counts(answers);
            if answers.len() >= 2 && (a == 0 || b == 0) {
                problems.push(format!("only one real server answered ({} {a}, {} {b})", labels[0], labels[1]));
            }
        }
        Expect::Split { weights } => {
            let cycle = (weights[0] + weights[1]) as usize;
            let [a, b] = counts(answers);
            if answers.len() % cycle == 0 {
                let rounds = answers.len() / cycle;
                let want = [rounds * weights[0] as usize, rounds * weights[1] as usize];
                if [a, b] != want {
                    problems.push(format!(
                        "{} answers split {} {a} : {} {b}, wrr with weights {}:{} gives {}:{}",
                        answers.len(),
                        labels[0],
                        labels[1],
                        weights[0],
                        weights[1],
                        want[0],
                        want[1]
                    ));
                }
            }
            // wrr is periodic: any `cycle` consecutive answers hold each
            // server as often as its weight, wherever the count starts.
            let bad: Vec<usize> = answers
                .windows(cycle)
                .enumerate()
                .filter(|(_, w)| w.iter().filter(|&&x| x == 0).count() != weights[0] as usize)
                .map(|(i, _)| i + 1)
                .collect();
            if !bad.is_empty() {
                problems.push(format!(
                    "{} of the runs of {cycle} consecutive answers do not hold {} exactly {} times (first at request {})",
                    bad.len(),
                    labels[0],
                    weights[0],
                    bad[0]
                ));
            }
        }
        Expect::Sticky { .. } => {
            for (who, a) in [("the client", answers), ("the second client", second)] {
                let [x, y] = counts(a);
                if x > 0 && y > 0 {
                    problems
                        .push(format!("{who} was not kept on one real server: {} {x}, {} {y}", labels[0], labels[1]));
                }
            }
            if second.len() < wanted {
                problems.push(format!("only {} of {wanted} requests of the second client were answered", second.len()));
            }
            if let (Some(a), Some(b)) = (answers.first(), second.first()) {
                if a == b {
                    problems.push(format!(
                        "both clients went to {}: wlc should send the second one to {}, which has no connections; was it up?",
                        labels[*a],
                        labels[1 - a]
                    ));
                }
            }
        }
    }
    problems
}

/// `  1-10  rs1 rs2 rs1 ...`, ten answers a row, numbered from 1.
pub fn render_sequence(labels: &[String; 2], answers: &[usize]) -> String {
    if answers.is_empty() {
        return "    (none)\n".into();
    }
    let mut out = String::new();
    for (row, chunk) in answers.chunks(10).enumerate() {
        let first = row * 10 + 1;
        let names: Vec<&str> = chunk.iter().map(|&i| labels[i].as_str()).collect();
        out.push_str(&format!("    {:>3}-{:<3} {}\n", first, first + chunk.len() - 1, names.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> [String; 2] {
        ["rs1".into(), "rs2".into()]
    }

    fn seq(s: &str) -> Vec<usize> {
        s.chars().map(|c| if c == 'a' { 0 } else { 1 }).collect()
    }

    #[test]
    fn alternation() {
        assert!(judge(&Expect::Alternate, &labels(), &seq("abababab"), &[], 8).is_empty());
        let p = judge(&Expect::Alternate, &labels(), &seq("ababbaba"), &[], 8);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("requests 4 and 5 both went to rs2"), "{p:?}");
        assert!(!judge(&Expect::Alternate, &labels(), &seq("abab"), &[], 8).is_empty());
    }

    #[test]
    fn weighted_split_from_any_phase() {
        let e = Expect::Split { weights: [2, 1] };
        assert!(judge(&e, &labels(), &seq("aabaabaab"), &[], 9).is_empty());
        assert!(judge(&e, &labels(), &seq("baabaabaa"), &[], 9).is_empty());
        assert!(judge(&e, &labels(), &seq("abaabaaba"), &[], 9).is_empty());
        // Right totals, wrong order.
        let p = judge(&e, &labels(), &seq("aaaaaabbb"), &[], 9);
        assert!(p.iter().any(|m| m.contains("consecutive")), "{p:?}");
        let e = Expect::Split { weights: [2, 3] };
        assert!(judge(&e, &labels(), &seq("bababbabab"), &[], 10).is_empty());
        assert!(!judge(&e, &labels(), &seq("ababababab"), &[], 10).is_empty());
    }

    #[test]
    fn stickiness() {
        let e = Expect::Sticky { second_client: "x" };
        assert!(judge(&e, &labels(), &seq("aaaa"), &seq("bbbb"), 4).is_empty());
        assert!(!judge(&e, &labels(), &seq("aaba"), &seq("bbbb"), 4).is_empty());
        let p = judge(&e, &labels(), &seq("aaaa"), &seq("aaaa"), 4);
        assert!(p.iter().any(|m| m.contains("both clients went to rs1")), "{p:?}");
        assert!(!judge(&e, &labels(), &seq("aaaa"), &seq("bb"), 4).is_empty());
    }

    #[test]
    fn rendering() {
        let r = render_sequence(&labels(), &seq("ababababab" /* 10 */).into_iter().chain([0]).collect::<Vec<_>>());
        assert_eq!(r, "      1-10  rs1 rs2 rs1 rs2 rs1 rs2 rs1 rs2 rs1 rs2\n     11-11  rs1\n");
    }
}
