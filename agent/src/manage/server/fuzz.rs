//! One whole request as the server reads it, answered by an agent that says
//! yes to everything: for the fuzz target `manage_request` (tests/fuzz), which
//! feeds it garbage. What the socket adds (TLS, deadlines) is not here; what
//! a client's bytes reach is: the head, the body's length, the query, the
//! JSON, the route.

use super::head;
use super::routes::{route, Routed};
use crate::manage::api::{ConfigAnswer, Done, StatusAnswer, StatusQuery, Validation, WeightAsk, MAX_BODY_BYTES};
use crate::manage::{OpError, Operations, Power};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// The status `bytes` (a head, then what follows it) would be answered with;
/// None while the head has not ended. A follow counts as 200.
pub fn answer_request(bytes: &[u8]) -> Option<u16> {
    let end = crate::http::request::head_end(bytes, 0)?;
    let head = match head::parse(&bytes[..end]) {
        Ok(h) => h,
        Err(a) => return Some(a.status),
    };
    let rest = &bytes[end..];
    let body = match head.length {
        None if !rest.is_empty() => return Some(411),
        None => None,
        Some(n) => match usize::try_from(n) {
            Ok(n) if n <= MAX_BODY_BYTES => Some(rest.get(..n).unwrap_or(rest)),
            _ => return Some(413),
        },
    };
    Some(match route(&head.method, &head.path, &head.query, body, &Agreeable) {
        Routed::Answer(a) => a.status,
        Routed::Follow { .. } => 200,
    })
}

struct Agreeable;

fn done() -> Result<Done, OpError> {
    Ok(Done { message: "done".into() })
}

impl Operations for Agreeable {
    fn status(&self, _: &StatusQuery) -> Result<StatusAnswer, OpError> {
        Ok(StatusAnswer::default())
    }
    fn config(&self) -> Result<ConfigAnswer, OpError> {
        Ok(ConfigAnswer { path: "/config/appliance.ron".into(), text: String::new(), hash: "0".into(), trying: None })
    }
    fn validate(&self, _: &str) -> Validation {
        Validation { valid: true, ..Validation::default() }
    }
    fn apply(&self, _: &str) -> Result<Done, OpError> {
        done()
    }
    fn try_config(&self, _: &str, _: Duration) -> Result<Done, OpError> {
        done()
    }
    fn confirm(&self) -> Result<Done, OpError> {
        done()
    }
    fn weight(&self, _: &WeightAsk) -> Result<Done, OpError> {
        done()
    }
    fn logs(&self, lines: usize) -> Vec<String> {
        vec![String::new(); lines.min(crate::manage::api::MAX_LOG_LINES)]
    }
    fn follow(&self) -> Receiver<String> {
        std::sync::mpsc::channel().1
    }
    fn power(&self, _: Power) -> Result<Done, OpError> {
        done()
    }
}

#[cfg(test)]
mod tests {
    use super::answer_request;

    #[test]
    fn requests_get_the_statuses_the_api_gives_them() {
        let cases: [(&[u8], Option<u16>); 8] = [
            (b"GET /v1/status HTTP/1.1\r\n\r\n", Some(200)),
            (b"GET /v1/status HTTP/1.1\r\n", None),
            (b"POST /v1/config/apply HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n", Some(413)),
            (b"POST /v1/weight HTTP/1.1\r\nContent-Length: 5\r\n\r\n{oops", Some(400)),
            (b"POST /v1/config/try?within=banana HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Some(400)),
            (b"GET /v2/status HTTP/1.1\r\n\r\n", Some(404)),
            (b"DELETE /v1/status HTTP/1.1\r\n\r\n", Some(405)),
            (b"\xff\xfe\r\n\r\n", Some(400)),
        ];
        for (request, status) in cases {
            assert_eq!(answer_request(request), status, "{}", String::from_utf8_lossy(request));
        }
    }
}
