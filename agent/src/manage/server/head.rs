//! The request head of the management API: the request line, and the
//! headers that say how long the body is. Stricter than the static server
//! about the body: a length that cannot be trusted is refused, never guessed.

use super::answer::{printable, Answer};
use crate::http::request::is_tchar;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The path, as sent (no percent-decoding: every path of the API is plain ASCII).
    pub path: String,
    /// What follows `?`, empty when nothing does.
    pub query: String,
    /// The `Content-Length`, when there is one.
    pub length: Option<u64>,
}

impl Head {
    /// `path?query`, for the log.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// Parses a whole head (up to and including its blank line).
pub fn parse(head: &[u8]) -> Result<Head, Answer> {
    let text = std::str::from_utf8(head).map_err(|_| bad("the request head is not UTF-8"))?;
    // RFC 9112 2.2: a server should ignore empty lines before the request line.
    let mut lines = text.trim_start_matches(['\r', '\n']).split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not an HTTP request line: send METHOD /v1/PATH HTTP/1.1"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(bad("not an HTTP method"));
    }
    version_ok(version)?;
    let mut length = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| bad("a header line without a colon"))?;
        // A line starting with white space is obsolete folding, refused by RFC 9112 5.2.
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(bad("a header name that is not a token"));
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Answer::error(411, "send the body with Content-Length, not a Transfer-Encoding"));
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n = content_length(value)?;
            // RFC 9112 6.3: differing lengths are an error (two requests could be read from one).
            if length.is_some_and(|m| m != n) {
                return Err(bad("two different Content-Length headers"));
            }
            length = Some(n);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !path.starts_with('/') || target.contains('#') {
        return Err(bad(format!("not a path: {}; ask for /v1/...", printable(target))));
    }
    Ok(Head { method: method.to_string(), path: path.to_string(), query: query.to_string(), length })
}

fn version_ok(version: &str) -> Result<(), Answer> {
    match version.strip_prefix("HTTP/").map(str::as_bytes) {
        Some(b"1.0" | b"1.1") => Ok(()),
        Some([a, b'.', b]) if a.is_ascii_digit() && b.is_ascii_digit() => {
            Err(Answer::error(505, "speak HTTP/1.1 (or 1.0)"))
        }
        _ => Err(bad("not an HTTP version")),
    }
}

/// Digits only (no sign, no list): a length too big for u64 is too large for us anyway.
fn content_length(value: &str) -> Result<u64, Answer> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("Content-Length is not a number: {}", printable(value))));
    }
    Ok(value.parse().unwrap_or(u64::MAX))
}

fn bad(why: impl Into<String>) -> Answer {
    Answer::error(400, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, path: &str, query: &str, length: Option<u64>) -> Head {
        Head { method: method.into(), path: path.into(), query: query.into(), length }
    }

    #[test]
    fn reads_the_method_path_query_and_length() {
        assert_eq!(parse(b"GET /v1/status HTTP/1.1\r\nHost: a\r\n\r\n"), Ok(head("GET", "/v1/status", "", None)));
        assert_eq!(
            parse(b"POST /v1/config/try?within=20s HTTP/1.1\r\nContent-Length: 12\r\ncontent-length:12\r\n\r\n"),
            Ok(head("POST", "/v1/config/try", "within=20s", Some(12)))
        );
        assert_eq!(parse(b"\r\nGET /v1/logs?lines=3 HTTP/1.0\n\n"), Ok(head("GET", "/v1/logs", "lines=3", None)));
        assert_eq!(parse(b"GET /v1/x HTTP/1.1\r\n\r\n").unwrap().target(), "/v1/x");
        assert_eq!(parse(b"GET /v1/x?a=b HTTP/1.1\r\n\r\n").unwrap().target(), "/v1/x?a=b");
        let huge = parse(b"POST /v1/config/apply HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert_eq!(huge.unwrap().length, Some(u64::MAX), "too large, not malformed: the 413 comes later");
    }

    #[test]
    fn chunked_and_untrustworthy_lengths_are_refused() {
        let status = |h: &[u8]| parse(h).map(|_| 0).unwrap_or_else(|a| a.status);
        assert_eq!(status(b"POST /v1/config/apply HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
        assert_eq!(status(b"POST /v1/config/apply HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
        for bad in ["-1", "+5", "5, 5", "0x10", "", "1 2"] {
            let h = format!("POST /v1/weight HTTP/1.1\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(status(h.as_bytes()), 400, "{bad:?}");
        }
    }

    #[test]
    fn garbage_is_a_bad_request_and_other_versions_are_not_supported() {
        let bad: &[&[u8]] = &[
            b"\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\r\n\r\n",
            b"GET /v1/status\r\n\r\n",
            b"GET  /v1/status HTTP/1.1\r\n\r\n",
            b"G(T /v1/status HTTP/1.1\r\n\r\n",
            b"GET v1/status HTTP/1.1\r\n\r\n",
            b"GET http://a/v1/status HTTP/1.1\r\n\r\n",
            b"GET /v1/status#x HTTP/1.1\r\n\r\n",
            b"GET /v1/status HTTP/one\r\n\r\n",
            b"GET /v1/status HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET /v1/status HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            b"GET /v1/\xff HTTP/1.1\r\n\r\n",
        ];
        for h in bad {
            assert_eq!(parse(h).map_err(|a| a.status), Err(400), "{}", String::from_utf8_lossy(h));
        }
        assert_eq!(parse(b"GET /v1/status HTTP/2.0\r\n\r\n").map_err(|a| a.status), Err(505));
    }
}
