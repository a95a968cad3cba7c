//! The query strings of the API: `key=value` pairs, percent-decoded, each
//! route naming the keys it takes (any other is a 400, so that a typo is
//! not silently ignored).

use super::answer::{printable, Answer};
use crate::http::request::percent_decode;
use crate::manage::api::{StatusQuery, DEFAULT_LOG_LINES, MAX_LOG_LINES};
use std::time::Duration;

/// The pairs of `query`, when every key is one of `allowed`.
pub fn pairs(query: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, Answer> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        if !allowed.contains(&key.as_str()) {
            let takes = if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") };
            return Err(Answer::error(400, format!("unknown query key {}: this path takes {takes}", printable(&key))));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn decode(text: &str) -> Result<String, Answer> {
    percent_decode(text.as_bytes())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| Answer::error(400, format!("a query that is not percent-encoded UTF-8: {}", printable(text))))
}

/// `1`, `true` or nothing: on; `0`, `false`: off.
fn flag(key: &str, value: &str) -> Result<bool, Answer> {
    match value {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(Answer::error(400, format!("{key}={}: say {key}=1 or {key}=0", printable(other)))),
    }
}

const STATUS_FLAGS: [&str; 9] =
    ["stats", "rate", "exact", "thresholds", "persistent_conn", "tun_info", "nosort", "timeout", "daemon"];

/// The options of `GET /v1/status`.
pub fn status(query: &str) -> Result<StatusQuery, Answer> {
    let mut q = StatusQuery::default();
    for (key, value) in pairs(query, &STATUS_FLAGS)? {
        let on = flag(&key, &value)?;
        let field = match key.as_str() {
            "stats" => &mut q.stats,
            "rate" => &mut q.rate,
            "exact" => &mut q.exact,
            "thresholds" => &mut q.thresholds,
            "persistent_conn" => &mut q.persistent_conn,
            "tun_info" => &mut q.tun_info,
            "nosort" => &mut q.nosort,
            "timeout" => &mut q.timeout,
            _ => &mut q.daemon,
        };
        *field = on;
    }
    Ok(q)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogsAsk {
    pub lines: usize,
    pub follow: bool,
}

/// The options of `GET /v1/logs`: `lines` (default 100, at most 1000) and `follow`.
pub fn logs(query: &str) -> Result<LogsAsk, Answer> {
    let mut ask = LogsAsk { lines: DEFAULT_LOG_LINES, follow: false };
    for (key, value) in pairs(query, &["lines", "follow"])? {
        if key == "follow" {
            ask.follow = flag(&key, &value)?;
        } else {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                let why = format!("lines={}: say how many, 0 to {MAX_LOG_LINES}", printable(&value));
                return Err(Answer::error(400, why));
            }
            // More digits than a usize holds is more than the ring holds too.
            ask.lines = value.parse::<usize>().unwrap_or(usize::MAX).min(MAX_LOG_LINES);
        }
    }
    Ok(ask)
}

/// The `within` of `POST /v1/config/try` ("20s", "5m"), required.
pub fn within(query: &str) -> Result<Duration, Answer> {
    let mut within = None;
    for (_, value) in pairs(query, &["within"])? {
        let d = humantime::parse_duration(&value).map_err(|e| {
            Answer::error(400, format!("within={}: {e}; say how long, like within=20s", printable(&value)))
        })?;
        if d.is_zero() {
            return Err(Answer::error(400, "within=0: a try must run for some time, like within=20s"));
        }
        within = Some(d);
    }
    within.ok_or_else(|| Answer::error(400, "a try needs a deadline: POST /v1/config/try?within=20s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of<T>(r: Result<T, Answer>) -> u16 {
        r.map(|_| 200).unwrap_or_else(|a| a.status)
    }

    #[test]
    fn status_flags() {
        assert_eq!(status(""), Ok(StatusQuery::default()));
        let q = status("stats=1&rate=true&exact&nosort=0").unwrap();
        assert!(q.stats && q.rate && q.exact && !q.nosort && !q.daemon);
        let all = status(&STATUS_FLAGS.map(|f| format!("{f}=1")).join("&")).unwrap();
        assert!(all.stats && all.rate && all.exact && all.thresholds && all.persistent_conn);
        assert!(all.tun_info && all.nosort && all.timeout && all.daemon);
        assert_eq!(status_of(status("stats=yes")), 400);
        assert_eq!(status_of(status("colour=1")), 400);
        assert!(status("colour=1").unwrap_err().body.contains("colour"), "the unknown key is named");
    }

    #[test]
    fn log_lines_default_are_capped_and_must_be_a_count() {
        assert_eq!(logs(""), Ok(LogsAsk { lines: 100, follow: false }));
        assert_eq!(logs("lines=5&follow=1"), Ok(LogsAsk { lines: 5, follow: true }));
        assert_eq!(logs("lines=0"), Ok(LogsAsk { lines: 0, follow: false }));
        assert_eq!(logs("lines=5000").unwrap().lines, 1000);
        assert_eq!(logs("lines=99999999999999999999999999").unwrap().lines, 1000);
        for bad in ["lines=-1", "lines=banana", "lines=", "lines=1e3", "lines=+3", "follow=2", "tail=3", "lines=%zz"] {
            assert_eq!(status_of(logs(bad)), 400, "{bad}");
        }
    }

    #[test]
    fn a_try_needs_a_duration() {
        assert_eq!(within("within=20s"), Ok(Duration::from_secs(20)));
        assert_eq!(within("within=1m%2030s"), Ok(Duration::from_secs(90)), "percent-decoded");
        for bad in ["", "within=banana", "within=0s", "within=-5s", "within=20s&other=1", "within=500000000000000y"] {
            assert_eq!(status_of(within(bad)), 400, "{bad}");
        }
    }

    #[test]
    fn paths_without_options_take_no_query() {
        assert_eq!(pairs("", &[]), Ok(vec![]));
        assert_eq!(status_of(pairs("x=1", &[])), 400);
    }
}
