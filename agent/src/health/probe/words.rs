//! Failure details in words: an errno as a person says it, bytes as they look.

use std::io;
use std::ops::RangeInclusive;

/// "connection refused", not "Connection refused (os error 111)".
pub fn io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => return "connection refused".into(),
        io::ErrorKind::ConnectionReset => return "connection reset".into(),
        io::ErrorKind::UnexpectedEof => return "connection closed".into(),
        _ => {}
    }
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{e:?}"),
    }
}

/// Bytes in double quotes, non-printable ones escaped: `"ok\r\n"`.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// The first bytes of what a server sent, for "not an HTTP response: ...".
pub fn quoted_start(bytes: &[u8]) -> String {
    const SHOWN: usize = 40;
    if bytes.len() > SHOWN {
        format!("{}...", quoted(&bytes[..SHOWN]))
    } else {
        quoted(bytes)
    }
}

/// "200", "200-299, 301".
pub fn statuses(expected: &[RangeInclusive<u16>]) -> String {
    let parts: Vec<String> = expected
        .iter()
        .map(|r| if r.start() == r.end() { r.start().to_string() } else { format!("{}-{}", r.start(), r.end()) })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_in_words() {
        assert_eq!(io_error(&io::Error::from_raw_os_error(111)), "connection refused");
        assert_eq!(io_error(&io::Error::from_raw_os_error(113)), "no route to host");
        assert_eq!(io_error(&io::Error::from_raw_os_error(24)), "too many open files");
    }

    #[test]
    fn bytes_and_statuses() {
        assert_eq!(quoted(b"ok\r\n"), r#""ok\r\n""#);
        assert_eq!(quoted_start(&[b'a'; 50]), format!("\"{}\"...", "a".repeat(40)));
        assert_eq!(statuses(&[200..=200, 300..=399]), "200, 300-399");
    }
}
