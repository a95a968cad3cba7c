//! Which operation a request asks for (docs/API.md), without a socket: the
//! method, the path and query, and the body, to an answer. Everything a
//! client can get wrong in a well-formed request is answered here.

use super::answer::{printable, Answer};
use super::query;
use crate::manage::api::{WeightAsk, MAX_BODY_BYTES, PREFIX};
use crate::manage::{Operations, Power};

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routed {
    Answer(Answer),
    /// Stream the last `lines` log lines, then each new one.
    Follow {
        lines: usize,
    },
}

impl From<Answer> for Routed {
    fn from(a: Answer) -> Routed {
        Routed::Answer(a)
    }
}

/// Answers `method path?query` with `body` (None: the request had no
/// Content-Length, so no body) from `ops`.
pub fn route(method: &str, path: &str, query: &str, body: Option<&[u8]>, ops: &dyn Operations) -> Routed {
    match answer(method, path, query, body, ops) {
        Ok(routed) => routed,
        Err(answer) => Routed::Answer(answer),
    }
}

fn answer(method: &str, path: &str, query: &str, body: Option<&[u8]>, ops: &dyn Operations) -> Result<Routed, Answer> {
    let Some(rest) = path.strip_prefix(PREFIX).filter(|r| r.starts_with('/')) else {
        return Err(not_found(path));
    };
    let allow = match rest {
        "/status" | "/config" | "/logs" => "GET",
        "/config/validate" | "/config/apply" | "/config/try" | "/config/confirm" | "/weight" | "/reboot"
        | "/poweroff" => "POST",
        _ => return Err(not_found(path)),
    };
    if method != allow {
        return Err(Answer::wrong_method(method, path, allow));
    }
    Ok(match rest {
        "/status" => done(ops.status(&query::status(query)?)),
        "/config" => {
            query::pairs(query, &[])?;
            done(ops.config())
        }
        "/logs" => {
            let ask = query::logs(query)?;
            if ask.follow {
                return Ok(Routed::Follow { lines: ask.lines });
            }
            Answer::ok(&crate::manage::api::LogsAnswer { lines: ops.logs(ask.lines) })
        }
        "/config/validate" => {
            query::pairs(query, &[])?;
            let validation = ops.validate(config_text(body)?);
            Answer::json(if validation.valid { 200 } else { 422 }, &validation)
        }
        "/config/apply" => {
            query::pairs(query, &[])?;
            done(ops.apply(config_text(body)?))
        }
        "/config/try" => {
            let within = query::within(query)?;
            done(ops.try_config(config_text(body)?, within))
        }
        "/config/confirm" => {
            query::pairs(query, &[])?;
            done(ops.confirm())
        }
        "/weight" => {
            query::pairs(query, &[])?;
            let body = required(body)?;
            let ask: WeightAsk = serde_json::from_slice(body).map_err(|e| {
                Answer::error(
                    400,
                    format!("the body is not a weight request ({e}): send {{\"service\":..., \"real_server\":..., \"weight\":...}}"),
                )
            })?;
            done(ops.weight(&ask))
        }
        "/reboot" => {
            query::pairs(query, &[])?;
            done(ops.power(Power::Reboot))
        }
        _ => {
            query::pairs(query, &[])?;
            done(ops.power(Power::Off))
        }
    }
    .into())
}

fn done<T: serde::Serialize>(result: Result<T, crate::manage::OpError>) -> Answer {
    match result {
        Ok(value) => Answer::ok(&value),
        Err(e) => Answer::from_op(e),
    }
}

fn not_found(path: &str) -> Answer {
    Answer::error(404, format!("no such path: {}; the API is under {PREFIX}/ (docs/API.md)", printable(path)))
}

/// The body of a request that needs one.
fn required(body: Option<&[u8]>) -> Result<&[u8], Answer> {
    // Checked again here (the server refuses earlier) so that this holds for any caller.
    match body {
        None => Err(Answer::error(411, "send the body with a Content-Length")),
        Some(b) if b.len() > MAX_BODY_BYTES => {
            Err(Answer::error(413, format!("the body is larger than {MAX_BODY_BYTES} bytes")))
        }
        Some(b) => Ok(b),
    }
}

fn config_text(body: Option<&[u8]>) -> Result<&str, Answer> {
    std::str::from_utf8(required(body)?).map_err(|e| {
        Answer::error(400, format!("the config is not UTF-8 (byte {}): send the RON file as it is", e.valid_up_to()))
    })
}

#[cfg(test)]
mod tests;
