//! What the management server answers: a status and a JSON body, written as
//! one HTTP/1.1 response with its length and `Connection: close`.

use crate::manage::api::ErrorAnswer;
use crate::manage::OpError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// JSON.
    pub body: String,
    /// The methods a path takes, for a 405.
    pub allow: Option<&'static str>,
}

impl Answer {
    /// 200 with `value` as its body.
    pub fn ok<T: Serialize>(value: &T) -> Answer {
        Answer::json(200, value)
    }

    pub fn json<T: Serialize>(status: u16, value: &T) -> Answer {
        match serde_json::to_string(value) {
            Ok(body) => Answer { status, body, allow: None },
            // Our own types always serialize; if one did not, the client still gets an answer.
            Err(e) => Answer::error(500, format!("the answer could not be written as JSON: {e}")),
        }
    }

    /// An `ErrorAnswer`: `why` says what happened and what to do.
    pub fn error(status: u16, why: impl Into<String>) -> Answer {
        let body = serde_json::to_string(&ErrorAnswer { error: why.into() })
            .unwrap_or_else(|_| r#"{"error":"unknown"}"#.to_string());
        Answer { status, body, allow: None }
    }

    /// 405, naming the methods `allow` that the path takes.
    pub fn wrong_method(method: &str, path: &str, allow: &'static str) -> Answer {
        let mut a = Answer::error(405, format!("{path} takes {allow}, not {}", printable(method)));
        a.allow = Some(allow);
        a
    }

    /// The status an operation's refusal maps to (docs/API.md).
    pub fn from_op(e: OpError) -> Answer {
        let status = match e {
            OpError::Refused(_) => 422,
            OpError::Conflict(_) => 409,
            OpError::Unavailable(_) => 503,
            OpError::Failed(_) => 500,
        };
        Answer::error(status, e.to_string())
    }

    /// The whole HTTP response.
    pub fn to_http(&self) -> Vec<u8> {
        let mut head = response_head(self.status, "application/json", Some(self.body.len()));
        if let Some(allow) = self.allow {
            head.push_str(&format!("Allow: {allow}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// The head of a response up to (not including) its blank line; a stream
/// (`len` None) ends when the connection does.
pub fn response_head(status: u16, content_type: &str, len: Option<usize>) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: lvs-agent\r\nContent-Type: {content_type}\r\nConnection: close\r\n",
        reason(status)
    );
    if let Some(len) = len {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    if matches!(status, 429 | 503) {
        head.push_str("Retry-After: 1\r\n");
    }
    head
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// `text` fit for one log line or error message: at most 120 characters,
/// anything but printable ASCII as `?` (a client cannot forge log lines).
pub fn printable(text: &str) -> String {
    let mut out: String = text.chars().take(120).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect();
    if text.chars().nth(120).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_whole_json_with_its_length_and_closes() {
        let a = Answer::error(404, "no such path: /v1/nope");
        let text = String::from_utf8(a.to_http()).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("\r\nContent-Type: application/json\r\n"), "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        assert!(text.contains(&format!("\r\nContent-Length: {}\r\n", a.body.len())), "{text}");
        assert!(text.ends_with("\r\n\r\n{\"error\":\"no such path: /v1/nope\"}"), "{text}");
        let a = Answer::wrong_method("DELETE", "/v1/status", "GET");
        assert!(String::from_utf8(a.to_http()).unwrap().contains("\r\nAllow: GET\r\n"));
        assert!(String::from_utf8(Answer::error(503, "busy").to_http()).unwrap().contains("\r\nRetry-After: 1\r\n"));
    }

    #[test]
    fn operation_errors_map_to_their_statuses() {
        for (e, status) in [
            (OpError::Refused("r".into()), 422),
            (OpError::Conflict("c".into()), 409),
            (OpError::Unavailable("u".into()), 503),
            (OpError::Failed("f".into()), 500),
        ] {
            let a = Answer::from_op(e.clone());
            assert_eq!(a.status, status, "{e:?}");
            let back: ErrorAnswer = serde_json::from_str(&a.body).unwrap();
            assert_eq!(back.error, e.to_string());
        }
    }

    #[test]
    fn what_a_client_sent_is_logged_printable_and_short() {
        assert_eq!(printable("/v1/status?x=1"), "/v1/status?x=1");
        assert_eq!(printable("/a\nforged line\r"), "/a?forged?line?");
        assert_eq!(printable(&"a".repeat(500)), format!("{}...", "a".repeat(120)));
    }
}
