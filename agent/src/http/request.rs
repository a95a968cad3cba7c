//! The request head: request line and header lines, strictly enough that
//! garbage gets a 400 and loosely enough for curl, wget, probes and netcat.

use super::status::Status;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// A well-formed method this server does not serve (405).
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The path, percent-decoded: starts with `/`, no query, no NUL.
    pub path: Vec<u8>,
}

/// Where the head ends in `buf`: the index just past its blank line.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses a whole head (up to and including its blank line).
pub fn parse(head: &[u8]) -> Result<Request, Status> {
    let text = std::str::from_utf8(head).map_err(|_| Status::BadRequest)?;
    // RFC 9112 2.2: a server should ignore empty lines before the request line.
    let mut lines = text.trim_start_matches(['\r', '\n']).split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or(Status::BadRequest)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    version_ok(version)?;
    for line in lines.take_while(|l| !l.is_empty()) {
        header_ok(line)?;
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        m if !m.is_empty() && m.bytes().all(is_tchar) => Method::Other,
        _ => return Err(Status::BadRequest),
    };
    Ok(Request { method, path: path_of(target)? })
}

fn version_ok(version: &str) -> Result<(), Status> {
    let digits = version.strip_prefix("HTTP/").ok_or(Status::BadRequest)?;
    match digits.as_bytes() {
        b"1.0" | b"1.1" => Ok(()),
        [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => Err(Status::VersionNotSupported),
        _ => Err(Status::BadRequest),
    }
}

fn header_ok(line: &str) -> Result<(), Status> {
    // A line starting with white space is obsolete folding, refused by RFC 9112 5.2.
    let (name, _) = line.split_once(':').ok_or(Status::BadRequest)?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(Status::BadRequest);
    }
    Ok(())
}

/// RFC 9110 5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The decoded path of an origin-form (`/a/b?q`) or absolute-form
/// (`http://host/a/b`) target.
fn path_of(target: &str) -> Result<Vec<u8>, Status> {
    let target = match target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    if !target.starts_with('/') {
        return Err(Status::BadRequest);
    }
    let raw = target.split(['?', '#']).next().unwrap_or("/");
    let path = percent_decode(raw.as_bytes()).ok_or(Status::BadRequest)?;
    if path.contains(&0) {
        return Err(Status::BadRequest);
    }
    Ok(path)
}

fn percent_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request {
        Request { method: Method::Get, path: path.as_bytes().to_vec() }
    }

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\nHost: a\r\n"), None);
    }

    #[test]
    fn reads_get_and_head_in_both_versions() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\n\r\n"), Ok(get("/")));
        assert_eq!(parse(b"GET /a/b.html?x=1#top HTTP/1.0\r\n\r\n"), Ok(get("/a/b.html")));
        assert_eq!(parse(b"\r\nGET /x HTTP/1.0\n\n"), Ok(get("/x")), "bare LF and a leading blank line");
        let head = parse(b"HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(head.method, Method::Head);
    }

    #[test]
    fn decodes_percent_escapes_and_absolute_targets() {
        assert_eq!(parse(b"GET /a%20b/%2e%2E HTTP/1.1\r\n\r\n"), Ok(get("/a b/..")));
        assert_eq!(parse(b"GET http://192.0.2.10:80/x/y HTTP/1.1\r\n\r\n"), Ok(get("/x/y")));
        assert_eq!(parse(b"GET http://192.0.2.10 HTTP/1.1\r\n\r\n"), Ok(get("/")));
    }

    #[test]
    fn other_methods_are_not_allowed() {
        for m in ["POST", "PUT", "DELETE", "OPTIONS", "BREW"] {
            let head = format!("{m} / HTTP/1.1\r\n\r\n");
            assert_eq!(parse(head.as_bytes()).map(|r| r.method), Ok(Method::Other), "{m}");
        }
    }

    #[test]
    fn garbage_is_a_bad_request() {
        let bad: &[&[u8]] = &[
            b"\r\n\r\n",
            b"hello\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"GET / FTP/1.0\r\n\r\n",
            b"GET / HTTP/one\r\n\r\n",
            b"GET relative HTTP/1.1\r\n\r\n",
            b"GET /%zz HTTP/1.1\r\n\r\n",
            b"GET /%4 HTTP/1.1\r\n\r\n",
            b"GET /a%00b HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ];
        for head in bad {
            assert_eq!(parse(head), Err(Status::BadRequest), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn other_versions_are_not_supported() {
        assert_eq!(parse(b"GET / HTTP/2.0\r\n\r\n"), Err(Status::VersionNotSupported));
        assert_eq!(parse(b"GET / HTTP/0.9\r\n\r\n"), Err(Status::VersionNotSupported));
    }
}
