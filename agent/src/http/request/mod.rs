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
/// `buf[..searched]` is known to hold no end (0: nothing known): only the new
/// bytes and the three before them can, so a head that arrives a byte at a
/// time is searched once in all, not once per byte.
pub fn head_end(buf: &[u8], searched: usize) -> Option<usize> {
    let from = searched.saturating_sub(3).min(buf.len());
    let buf = &buf[from..];
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    end.map(|end| from + end)
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
pub(crate) fn is_tchar(b: u8) -> bool {
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

pub(crate) fn percent_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let (hi, lo) = (hex_digit(*raw.get(i + 1)?)?, hex_digit(*raw.get(i + 2)?)?);
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}

/// One hex digit (not `u8::from_str_radix`, which takes `+1` for `01`).
fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
