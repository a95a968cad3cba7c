//! The ipvsadm import against garbage: arbitrary text, and valid rule files
//! cut, spliced and sprinkled with shell syntax. It never panics, every line
//! it names is in the input, what it shows has no control characters, and the
//! origins it gives match the table it gives.
//!
//! 256 cases a property by default; `PROPTEST_CASES=100000` for a long run.

use lvs_ipvs::ipvsadm::{export, import, ImportOptions, MAX_LINE_BYTES};
use proptest::prelude::*;

const SEED_004: &str = include_str!("../../../tests/data/004-step4-rules.txt");

/// Rule files people have: ipvsadm-save output, how-to prompts, scripts.
const VALID: &[&str] = &[
    SEED_004,
    "-A -t 192.0.2.80:80 -s wlc -p 120 -M 255.255.255.0
-a -t 192.0.2.80:80 -r 192.0.2.21:80 -g -w 1
-A -u 192.0.2.80:5060 -s sh -p 300 --pe sip -o -b sh-fallback,sh-port
-a -u 192.0.2.80:5060 -r 198.51.100.7:5060 -m -w 1
-A -t [2001:db8::80]:443 -s mh -b mh-port
-a -t [2001:db8::80]:443 -r [2001:db8::21]:443 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum
-A -f 8 -6 -s wrr -p 60 -M 64
-a -f 8 -6 -r [2001:db8::25]:0 -i -w 1 --tun-type gre --tun-csum
--set 30 6 60
--start-daemon master --mcast-interface eth0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.0.2.1
",
    "#! /bin/bash
echo \"1\" > /proc/sys/net/ipv4/ip_forward
/sbin/ipvsadm -C
[root@ds1 ~]# ipvsadm -A -t 192.168.56.185:80 -s wrr
sudo ipvsadm -a -t 192.168.56.185:80 -r 192.168.56.183:80 -g -w 1 && echo ok || echo failed
ipvsadm -a -t 192.168.56.185:80 -r 192.168.56.186 -g #g为dr模式; not a command
ipvsadm -e -t 192.168.56.185:80 -r 192.168.56.183:80 -g -w 2; ipvsadm -Ln | grep TCP
ipvsadm -D -t 192.168.56.185:80 2>&1 >/dev/null & ipvsadm --stop-daemon master
ipvsadm-save -n > /etc/sysconfig/ipvsadm
",
];

/// Pieces that lead the parser somewhere: options, separators, quotes,
/// prompts, comments, escapes, variables, odd bytes.
const PIECES: &[&str] = &[
    "ipvsadm",
    "-A",
    "-E",
    "-D",
    "-a",
    "-e",
    "-d",
    "-C",
    "-t",
    "-u",
    "-f",
    "-6",
    "-s",
    "-p",
    "-M",
    "-r",
    "-g",
    "-i",
    "-m",
    "-w",
    "-x",
    "-y",
    "-o",
    "-b",
    "--pe",
    "--set",
    "--start-daemon",
    "--stop-daemon",
    "--mcast-group",
    "--tun-type",
    "--tun-port",
    "master",
    "backup",
    "rr",
    "sh",
    "gue",
    "192.0.2.80:80",
    "[2001:db8::1]:0",
    "0",
    "1",
    "4294967296",
    "-1",
    "255.255.255.0",
    "/64",
    ";",
    "&&",
    "||",
    "&",
    "|",
    "|&",
    ">",
    "2>&1",
    "&>",
    "'",
    "\"",
    "\\",
    "#",
    "# ",
    "$",
    "$VIP",
    "[root@x ~]# ",
    "sudo",
    "\t",
    "\r",
    "\u{0}",
    "\u{1b}[2K",
    "é",
    "\u{202e}",
    " ",
    "\n",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<String>(),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ]
}

/// One edit of a text, at a place given as a fraction of its length.
#[derive(Clone, Debug)]
enum Mutation {
    Insert(f64, String),
    Delete(f64, usize),
    DuplicateLine(f64),
    SwapLines(f64, f64),
    Truncate(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        4 => (at.clone(), piece()).prop_map(|(a, p)| Mutation::Insert(a, p)),
        2 => (at.clone(), 1..40usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => at.clone().prop_map(Mutation::DuplicateLine),
        1 => (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => at.prop_map(Mutation::Truncate),
    ]
}

/// The char boundary nearest below `at` of the way through `s`.
fn place(s: &str, at: f64) -> usize {
    let mut i = ((s.len() as f64) * at) as usize;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(mut s: String, m: &Mutation) -> String {
    match m {
        Mutation::Insert(at, piece) => s.insert_str(place(&s, *at), piece),
        Mutation::Delete(at, n) => {
            let start = place(&s, *at);
            let end = s[start..].char_indices().nth(*n).map_or(s.len(), |(i, _)| start + i);
            s.replace_range(start..end, "");
        }
        Mutation::DuplicateLine(at) => {
            let mut lines: Vec<&str> = s.lines().collect();
            let i = ((lines.len() as f64) * at) as usize % lines.len().max(1);
            if let Some(line) = lines.get(i).copied() {
                lines.insert(i, line);
            }
            s = lines.join("\n");
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = s.lines().collect();
            let n = lines.len().max(1);
            let (i, j) = (((n as f64) * a) as usize % n, ((n as f64) * b) as usize % n);
            if i < lines.len() && j < lines.len() {
                lines.swap(i, j);
            }
            s = lines.join("\n");
        }
        Mutation::Truncate(at) => s.truncate(place(&s, *at)),
    }
    s
}

fn valid_then_mutated() -> impl Strategy<Value = String> {
    (prop::sample::select(VALID), prop::collection::vec(mutation(), 1..12))
        .prop_map(|(base, edits)| edits.iter().fold(base.to_string(), mutate))
}

fn pieces_text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..60).prop_map(|p| p.join(" "))
}

/// What holds of any input: no panic (the call returns), lines in range,
/// shown text free of control characters, origins parallel to the table.
fn holds_for(input: &str) -> Result<(), TestCaseError> {
    let lines = input.lines().count();
    for strict in [false, true] {
        match import(input, &ImportOptions { strict }) {
            Ok(imported) => {
                for w in &imported.warnings {
                    prop_assert!((1..=lines).contains(&w.line), "{w} of {lines} lines");
                    prop_assert!(!w.to_string().chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{w:?}");
                }
                let (t, o) = (&imported.table, &imported.origins);
                prop_assert_eq!(t.services.len(), o.services.len());
                for (vs, so) in t.services.iter().zip(&o.services) {
                    prop_assert_eq!(vs.dests.len(), so.dests.len());
                    for origin in so.dests.iter().chain([&so.origin]) {
                        prop_assert!(origin.added <= origin.set && origin.set <= lines, "{origin:?}");
                    }
                }
                prop_assert_eq!(t.daemons.len(), o.daemons.len());
                let _ = export(t);
            }
            Err(e) => {
                prop_assert!((1..=lines).contains(&e.line), "{e} of {lines} lines");
                prop_assert!(!e.to_string().chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{e:?}");
                prop_assert!(e.text.len() <= MAX_LINE_BYTES, "{} bytes shown", e.text.len());
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        holds_for(&input)?;
    }

    #[test]
    fn ipvsadm_words_in_any_order_never_panic(input in pieces_text()) {
        holds_for(&input)?;
    }

    #[test]
    fn mutated_rule_files_never_panic(input in valid_then_mutated()) {
        holds_for(&input)?;
    }
}

#[test]
fn the_valid_files_import() {
    for text in VALID {
        holds_for(text).unwrap();
        import(text, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    }
}
