//! The request head under a property-test fuzz harness: arbitrary bytes and
//! arbitrary mutations of valid heads never panic and give a bounded result;
//! valid heads give what they say; the end of a head arriving in pieces is
//! found where it is in the whole.
//!
//! A short run by default (4096 cases a property: about a second each on an
//! idle machine, in a debug build); set PROPTEST_CASES for a long one. A
//! failing case is kept by proptest in agent/proptest-regressions/; put its
//! bytes among the regressions of `tests.rs` too. (This harness found `%+A`,
//! which `u8::from_str_radix` decoded to 0x0a.)

use super::*;
use proptest::prelude::*;
use proptest::sample::{select, Index};

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 4096;
    }
    config
}

/// What heads are made of: the bytes a head parser looks at twice.
const MADE_OF: &[u8] = b" /\r\n:%?#GETHADPOSThtp1.09afAF+-~\t";

/// From 16 random bits, a byte of a head more often than chance (seven in
/// ten), else any byte.
fn as_head_byte(bits: u16) -> u8 {
    let [pick, byte] = bits.to_be_bytes();
    if pick < 179 {
        MADE_OF[usize::from(byte) % MADE_OF.len()]
    } else {
        byte
    }
}

fn head_byte() -> impl Strategy<Value = u8> {
    any::<u16>().prop_map(as_head_byte)
}

/// Up to `max` bytes of `head_byte`, mapped as a whole: a mapped strategy per
/// byte costs ten times as much in a debug build, for the same bytes.
fn head_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u16>(), 0..max).prop_map(|v| v.into_iter().map(as_head_byte).collect())
}

/// A valid head and the request it is.
fn valid_head() -> impl Strategy<Value = (Vec<u8>, Request)> {
    let method = prop_oneof![Just("GET".to_string()), Just("HEAD".to_string()), "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}"];
    // Each byte of the path with whether to write it escaped (bytes that must be, always are).
    let path = prop::collection::vec(prop::collection::vec((1u8.., any::<bool>(), any::<bool>()), 0..12), 0..5);
    let absolute = prop::option::of("[a-z0-9.]{1,20}(:[0-9]{1,5})?");
    let query = prop::option::of("[?#][a-z0-9=&%/?]{0,12}");
    let version = select(vec!["HTTP/1.0", "HTTP/1.1"]);
    let header = ("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}", "[ -~]{0,40}", any::<bool>());
    let headers = prop::collection::vec(header, 0..8);
    (method, path, absolute, query, version, headers, any::<bool>(), any::<bool>()).prop_map(
        |(method, segments, absolute, query, version, headers, lead, crlf)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let (mut target, mut decoded) = (String::new(), Vec::new());
            for segment in &segments {
                target.push('/');
                decoded.push(b'/');
                for &(b, escape, upper) in segment {
                    let plain = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
                    if plain && !escape {
                        target.push(b as char);
                    } else if upper {
                        target.push_str(&format!("%{b:02X}"));
                    } else {
                        target.push_str(&format!("%{b:02x}"));
                    }
                    decoded.push(b);
                }
            }
            if target.is_empty() {
                target.push('/');
                decoded.push(b'/');
            }
            target.push_str(query.as_deref().unwrap_or(""));
            if let Some(host) = absolute {
                target = format!("http://{host}{target}");
            }
            let mut head = if lead { eol.to_string() } else { String::new() };
            head.push_str(&format!("{method} {target} {version}{eol}"));
            for (name, value, space) in headers {
                head.push_str(&format!("{name}:{}{value}{eol}", if space { " " } else { "" }));
            }
            head.push_str(eol);
            let method = match method.as_str() {
                "GET" => Method::Get,
                "HEAD" => Method::Head,
                _ => Method::Other,
            };
            (head.into_bytes(), Request { method, path: decoded })
        },
    )
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
    Repeat(Index, Index),
    Splice(Index, &'static [u8]),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets: Vec<&'static [u8]> = vec![
        b"%",
        b"%+1",
        b"%00",
        b"%2e%2e",
        b"\r\n",
        b"\n\n",
        b"\r\n\r\n",
        b"\r",
        b" ",
        b"  ",
        b":",
        b"HTTP/9.9",
        b"\xff",
        b"\xc3",
        b"..",
        b"http://",
        b"?",
        b"\0",
        b" \r\n folded",
    ];
    prop_oneof![
        (any::<Index>(), head_byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), head_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<Index>()).prop_map(|(i, n)| Mutation::Repeat(i, n)),
        (any::<Index>(), select(snippets)).prop_map(|(i, s)| Mutation::Splice(i, s)),
    ]
}

fn mutate(head: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match m {
        Mutation::Replace(i, b) if !head.is_empty() => {
            let i = at(i, head.len());
            head[i] = *b;
        }
        Mutation::Insert(i, b) => head.insert(at(i, head.len() + 1), *b),
        Mutation::Delete(i) if !head.is_empty() => {
            head.remove(at(i, head.len()));
        }
        Mutation::Truncate(i) => head.truncate(at(i, head.len() + 1)),
        Mutation::Repeat(i, n) if !head.is_empty() => {
            let start = at(i, head.len());
            let part = head[start..start + at(n, head.len() - start) + 1].to_vec();
            head.splice(start..start, part);
        }
        Mutation::Splice(i, s) => {
            let i = at(i, head.len() + 1);
            head.splice(i..i, s.iter().copied());
        }
        _ => {}
    }
}

/// What holds of anything parsed: a path that starts with `/`, has no NUL and
/// is no longer than the head; an end of head, where one is, at its first
/// blank line.
fn bounded(head: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(req) = parse(head) {
        prop_assert!(req.path.starts_with(b"/"), "{:?}", req);
        prop_assert!(!req.path.contains(&0), "{:?}", req);
        prop_assert!(req.path.len() <= head.len(), "{:?}", req);
    }
    let blank = |b: &[u8]| b.windows(2).any(|w| w == b"\n\n") || b.windows(4).any(|w| w == b"\r\n\r\n");
    match head_end(head, 0) {
        Some(end) => {
            prop_assert!(end <= head.len());
            prop_assert!(head[..end].ends_with(b"\n\n") || head[..end].ends_with(b"\r\n\r\n"));
            prop_assert!(!blank(&head[..end - 1]), "an earlier end before {end}");
        }
        None => prop_assert!(!blank(head)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_parsed_without_panic_within_bounds(bytes in head_bytes(1024)) {
        bounded(&bytes)?;
    }

    #[test]
    fn valid_heads_give_what_they_say((head, request) in valid_head()) {
        prop_assert_eq!(head_end(&head, 0), Some(head.len()), "{}", String::from_utf8_lossy(&head));
        prop_assert_eq!(parse(&head), Ok(request), "{}", String::from_utf8_lossy(&head));
    }

    #[test]
    fn mutated_valid_heads_are_parsed_without_panic_within_bounds(
        (head, _) in valid_head(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let mut head = head;
        for m in &mutations {
            mutate(&mut head, m);
        }
        bounded(&head)?;
    }

    /// An escape is `%` and two hex digits, nothing else (`u8::from_str_radix`
    /// took `%+1`).
    #[test]
    fn percent_escapes_are_a_percent_and_two_hex_digits(raw in head_bytes(64)) {
        let hex = b"0123456789abcdefABCDEF";
        let mut escapes = 0;
        let mut valid = true;
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'%' {
                escapes += 1;
                valid &= raw.len() > i + 2 && hex.contains(&raw[i + 1]) && hex.contains(&raw[i + 2]);
                i += 3;
            } else {
                i += 1;
            }
        }
        match percent_decode(&raw) {
            Some(decoded) => {
                prop_assert!(valid, "{:?} decoded to {:?}", String::from_utf8_lossy(&raw), decoded);
                prop_assert_eq!(decoded.len(), raw.len() - 2 * escapes);
            }
            None => prop_assert!(!valid, "{:?} refused", String::from_utf8_lossy(&raw)),
        }
    }

    /// As `read_head` reads: the end found in the new bytes of each piece is
    /// the end of the whole.
    #[test]
    fn the_end_of_a_head_in_pieces_is_where_it_is_in_the_whole(
        bytes in head_bytes(512),
        pieces in prop::collection::vec(1usize..40, 1..64),
    ) {
        let (mut buf, mut pieces) = (Vec::new(), pieces.into_iter().cycle());
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let searched = buf.len();
            let n = pieces.next().unwrap_or(1).min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            let found = head_end(&buf, searched);
            prop_assert_eq!(found, head_end(&buf, 0));
            if found.is_some() {
                break;
            }
        }
    }
}
