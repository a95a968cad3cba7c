//! An HTTP response read in pieces, judged as soon as it can be: on the status
//! line when no body is expected, else when the needle appears, the body ends
//! or `max_bytes` of body have been read. Keeps a short status line and
//! counters, never the response.

use super::needle::Needle;
use super::words::quoted;
use super::{Failure, Phase};
use std::ops::RangeInclusive;

/// Longer status lines are not HTTP as health checks meet it.
const STATUS_LINE_MAX: usize = 256;
/// The headers are skipped, but not forever.
pub const HEADERS_MAX: usize = 16 * 1024;

pub enum Step {
    More,
    Done(Result<String, Failure>),
}

pub struct Response<'a> {
    expect_status: &'a [RangeInclusive<u16>],
    needle: Option<&'a Needle>,
    max_bytes: usize,
    at: Phase,
    line: [u8; STATUS_LINE_MAX],
    line_len: usize,
    status: u16,
    /// Bytes of the header line being read, not counting CR: 0 at a line start.
    header_line: usize,
    header_bytes: usize,
    body_bytes: usize,
    matched: usize,
}

impl<'a> Response<'a> {
    pub fn new(expect_status: &'a [RangeInclusive<u16>], needle: Option<&'a Needle>, max_bytes: usize) -> Self {
        Response {
            expect_status,
            needle,
            max_bytes,
            at: Phase::StatusLine,
            line: [0; STATUS_LINE_MAX],
            line_len: 0,
            status: 0,
            header_line: 0,
            header_bytes: 0,
            body_bytes: 0,
            matched: 0,
        }
    }

    pub fn phase(&self) -> Phase {
        self.at
    }

    pub fn feed(&mut self, mut piece: &[u8]) -> Step {
        while !piece.is_empty() {
            let (used, step) = match self.at {
                Phase::StatusLine => self.status_line(piece),
                Phase::Headers => self.headers(piece),
                _ => self.body(piece),
            };
            if let Step::Done(_) = step {
                return step;
            }
            piece = &piece[used..];
        }
        Step::More
    }

    /// The server closed the connection.
    pub fn end(&self) -> Result<String, Failure> {
        match self.at {
            Phase::StatusLine => Err(Failure::ClosedInStatusLine { start: self.line().to_vec() }),
            Phase::Headers => Err(Failure::ClosedInHeaders { status: self.status }),
            _ => Err(self.lacks(None)),
        }
    }

    fn line(&self) -> &[u8] {
        &self.line[..self.line_len]
    }

    fn status_line(&mut self, piece: &[u8]) -> (usize, Step) {
        let (take, ended) = match piece.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (piece.len(), false),
        };
        let keep = take - usize::from(ended);
        if self.line_len + keep > STATUS_LINE_MAX {
            return (take, Step::Done(Err(self.not_http(piece))));
        }
        self.line[self.line_len..self.line_len + keep].copy_from_slice(&piece[..keep]);
        self.line_len += keep;
        if !ended {
            return (take, Step::More);
        }
        if self.line.get(self.line_len.wrapping_sub(1)) == Some(&b'\r') {
            self.line_len -= 1;
        }
        let Some(status) = parse_status(self.line()) else {
            return (take, Step::Done(Err(self.not_http(&[]))));
        };
        self.status = status;
        if !self.expect_status.iter().any(|r| r.contains(&status)) {
            return (take, Step::Done(Err(Failure::Status { status, expected: self.expect_status.to_vec() })));
        }
        if self.needle.is_none() {
            return (take, Step::Done(Ok(format!("HTTP {status}"))));
        }
        self.at = Phase::Headers;
        (take, Step::More)
    }

    fn headers(&mut self, piece: &[u8]) -> (usize, Step) {
        for (i, &b) in piece.iter().enumerate() {
            self.header_bytes += 1;
            if self.header_bytes > HEADERS_MAX {
                return (i + 1, Step::Done(Err(Failure::HeadersTooLong { status: self.status })));
            }
            match b {
                b'\n' if self.header_line == 0 => {
                    self.at = Phase::Body;
                    return (i + 1, self.body_check(&[]));
                }
                b'\n' => self.header_line = 0,
                b'\r' => {}
                _ => self.header_line += 1,
            }
        }
        (piece.len(), Step::More)
    }

    fn body(&mut self, piece: &[u8]) -> (usize, Step) {
        let take = piece.len().min(self.max_bytes - self.body_bytes);
        self.body_bytes += take;
        (take, self.body_check(&piece[..take]))
    }

    fn body_check(&mut self, piece: &[u8]) -> Step {
        let needle = self.needle.expect("a body is read only for a needle");
        if needle.feed(&mut self.matched, piece) {
            return Step::Done(Ok(format!("HTTP {}, body has {}", self.status, quoted(needle.bytes()))));
        }
        if self.body_bytes >= self.max_bytes {
            return Step::Done(Err(self.lacks(Some(self.max_bytes))));
        }
        Step::More
    }

    fn lacks(&self, within: Option<usize>) -> Failure {
        let needle = self.needle.map(|n| n.bytes().to_vec()).unwrap_or_default();
        Failure::BodyLacks { status: self.status, needle, within }
    }

    /// Enough of the line and of `more` to show that it is not HTTP: one
    /// byte more than is quoted, so that the quote says it was cut.
    fn not_http(&self, more: &[u8]) -> Failure {
        const KEPT: usize = 41;
        let mut start = self.line[..self.line_len.min(KEPT)].to_vec();
        start.extend_from_slice(&more[..more.len().min(KEPT - start.len())]);
        Failure::NotHttp { start }
    }
}

/// "HTTP/1.1 200 OK" -> 200.
fn parse_status(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let space = rest.iter().position(|&b| b == b' ')?;
    let code = rest.get(space + 1..space + 4)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(space + 4).is_some_and(|&b| b != b' ') {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::probe::Verdict;

    /// The verdict as a probe reports it: a failure's detail is its text.
    fn judge(text: &[u8], status: &[RangeInclusive<u16>], needle: Option<&str>, max: usize, piece: usize) -> Verdict {
        let needle = needle.map(|n| Needle::new(n.as_bytes()));
        let mut r = Response::new(status, needle.as_ref(), max);
        for chunk in text.chunks(piece) {
            if let Step::Done(result) = r.feed(chunk) {
                return Verdict::from(result);
            }
        }
        Verdict::from(r.end())
    }

    fn pass(detail: &str) -> Verdict {
        Verdict { passed: true, detail: detail.into() }
    }

    fn fail(detail: &str) -> Verdict {
        Verdict { passed: false, detail: detail.into() }
    }

    fn failure(verdict: Verdict) -> String {
        assert!(!verdict.passed, "{verdict:?}");
        verdict.detail
    }

    fn every_piece(text: &[u8], status: &[RangeInclusive<u16>], needle: Option<&str>, max: usize) -> Verdict {
        let whole = judge(text, status, needle, max, text.len().max(1));
        for piece in 1..text.len().min(40) {
            assert_eq!(judge(text, status, needle, max, piece), whole, "read {piece} bytes at a time");
        }
        whole
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall ok here";

    #[test]
    fn status_alone_decides_without_a_needle() {
        assert_eq!(every_piece(OK, &[200..=200], None, 64), pass("HTTP 200"));
        assert_eq!(every_piece(b"HTTP/1.0 204\n", &[200..=299], None, 64), pass("HTTP 204"));
        assert_eq!(
            every_piece(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", &[200..=200, 301..=302], None, 64),
            fail("HTTP 503, expected 200, 301-302")
        );
    }

    #[test]
    fn body_needle_found_missing_or_beyond_max_bytes() {
        assert_eq!(every_piece(OK, &[200..=200], Some("ok"), 64), pass("HTTP 200, body has \"ok\""));
        assert_eq!(every_piece(OK, &[200..=200], Some("fine"), 64), fail("HTTP 200, body lacks \"fine\""));
        assert_eq!(
            every_piece(OK, &[200..=200], Some("here"), 6),
            fail("HTTP 200, body lacks \"here\" in its first 6 bytes")
        );
        assert_eq!(
            every_piece(b"HTTP/1.1 200 OK\n\nok", &[200..=200], Some("ok"), 2),
            pass("HTTP 200, body has \"ok\"")
        );
    }

    #[test]
    fn not_http_and_early_ends() {
        assert_eq!(
            every_piece(b"SSH-2.0-OpenSSH_9.2\r\n", &[200..=200], None, 64),
            fail("not an HTTP response: \"SSH-2.0-OpenSSH_9.2\"")
        );
        assert_eq!(every_piece(b"", &[200..=200], None, 64), fail("connection closed before the status line"));
        assert_eq!(
            every_piece(b"HTTP/1.1 200 OK\r\nServer: x", &[200..=200], Some("ok"), 64),
            fail("connection closed in the headers")
        );
        assert!(
            failure(judge(b"HTTP/1.1 2000 OK\r\n", &[200..=200], None, 64, 100)).starts_with("not an HTTP response")
        );
        let long = [b"HTTP/1.1 200 ".as_slice(), &[b'x'; 300]].concat();
        assert!(
            failure(judge(&long, &[200..=200], None, 64, 100)).starts_with("not an HTTP response: \"HTTP/1.1 200 xxx")
        );
    }

    #[test]
    fn endless_headers_stop() {
        let mut text = b"HTTP/1.1 200 OK\r\n".to_vec();
        text.extend(std::iter::repeat_n(b"X-A: b\r\n".as_slice(), 3000).flatten());
        assert_eq!(
            judge(&text, &[200..=200], Some("ok"), 64, 1000),
            fail(&format!("HTTP 200, headers longer than {HEADERS_MAX} bytes"))
        );
    }
}
