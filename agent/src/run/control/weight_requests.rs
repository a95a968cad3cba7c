//! Operator weights at run time: `lvs-agent weight SERVICE REALSERVER N|clear`
//! hands a request to the running agent through its run directory, as `try`
//! does, and waits for the answer:
//!
//! - `weight/<id>.req`, written (atomically) by the CLI: the service, the real
//!   server and the weight or `clear`, one a line;
//! - `weight/<id>.answer`, written (atomically) by the agent once it has
//!   handled the request: `applied`, `refused` (the request names something
//!   the running config does not have) or `failed`, then what was done or why
//!   not. The CLI prints it, removes it, and exits by it.
//!
//! SIGUSR1 wakes the agent (SIGHUP would also re-read the config); the agent
//! also looks every second. The service is matched by the name the log and
//! `lvs-agent status` give it, so the agent, which knows its services, says
//! which there are when the name is not one. The weight goes through the
//! keeper, so health still wins (a server that is down stays at 0), and it is
//! kept in the state file, so that it survives a restart of the agent, until
//! it is cleared.

use crate::keeper::WeightRequest;
use lvs_config::values::Endpoint;
use std::path::{Path, PathBuf};

pub const WEIGHT_DIR: &str = "weight";
const REQUEST: &str = "req";
const ANSWER: &str = "answer";

/// A request is three short lines; a bigger file is not one, and is refused
/// unread.
pub const REQUEST_MAX_BYTES: u64 = 4096;
/// An answer is a line, but a refusal lists what the service has: a line of
/// every real server of the biggest service a config can hold.
pub const ANSWER_MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("empty service: name it as the log does (\"TCP 192.0.2.80:80\")")]
    EmptyService,
    /// The endpoint's own message says what is wrong with the text.
    #[error("real server {0}")]
    RealServer(String),
    #[error("weight `{0}`: write 0 to 2147483647, `drain` (0) or `clear`")]
    Weight(String),
    #[error("not a weight request (3 lines: service, real server, weight)")]
    NotARequest,
}

/// Reads a request from the command line's words.
pub fn parse(service: &str, real_server: &str, weight: &str) -> Result<WeightRequest, RequestError> {
    let name = service.split_whitespace().collect::<Vec<_>>().join(" ");
    let service = match name.contains(' ') {
        false if name.is_empty() => return Err(RequestError::EmptyService),
        false => format!("TCP {name}"),
        true => name,
    };
    let real_server = real_server.trim().parse::<Endpoint>().map_err(|e| RequestError::RealServer(e.to_string()))?;
    let weight = match weight.trim() {
        w if w.eq_ignore_ascii_case("clear") => None,
        // A drain is weight 0 (the API's answer adds the connections left).
        w if w.eq_ignore_ascii_case("drain") => Some(0),
        w => Some(
            w.parse::<i32>()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| RequestError::Weight(w.to_string()))?,
        ),
    };
    Ok(WeightRequest { service, real_server, weight })
}

pub fn to_text(request: &WeightRequest) -> String {
    let weight = request.weight.map_or("clear".to_string(), |w| w.to_string());
    format!("{}\n{}\n{weight}\n", request.service, request.real_server)
}

pub fn from_text(text: &str) -> Result<WeightRequest, RequestError> {
    match text.lines().collect::<Vec<_>>()[..] {
        [service, real_server, weight] => parse(service, real_server, weight),
        _ => Err(RequestError::NotARequest),
    }
}

/// The request file of request `id` (the CLI's pid).
pub fn request_path(run_dir: &Path, id: u32) -> PathBuf {
    run_dir.join(WEIGHT_DIR).join(format!("{id}.{REQUEST}"))
}

/// Where the answer to the request at `request` goes.
pub fn answer_path(request: &Path) -> PathBuf {
    request.with_extension(ANSWER)
}

/// The requests waiting in `<run_dir>/weight`.
pub fn pending(run_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(run_dir.join(WEIGHT_DIR)).into_iter().flatten().flatten() {
        let path = entry.path();
        let visible = entry.file_name().to_str().is_some_and(|n| !n.starts_with('.'));
        if visible && path.extension().is_some_and(|e| e == REQUEST) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Applied,
    /// It names something the running config does not have, or is not a request.
    Refused,
    /// Something else failed (the keeper is gone, the kernel refused).
    Failed,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Refused => "refused",
            Verdict::Failed => "failed",
        }
    }
}

pub fn answer_text(verdict: Verdict, what: &str) -> String {
    format!("{}\n{what}\n", verdict.word())
}

/// An answer as the agent wrote it; None when it is not one.
pub fn read_answer(text: &str) -> Option<(Verdict, String)> {
    let (word, what) = text.split_once('\n')?;
    let verdict = [Verdict::Applied, Verdict::Refused, Verdict::Failed].into_iter().find(|v| v.word() == word)?;
    Some((verdict, what.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_service_as_the_log_does_and_checks_the_rest() {
        let r = parse("  TCP   192.0.2.80:80 ", "192.0.2.21", "7").unwrap();
        assert_eq!(
            (r.service.as_str(), r.real_server.to_string(), r.weight),
            ("TCP 192.0.2.80:80", "192.0.2.21".into(), Some(7))
        );
        assert_eq!(parse("192.0.2.80:80", "192.0.2.21:8080", "clear").unwrap().service, "TCP 192.0.2.80:80");
        assert_eq!(parse("fwm 5 IPv6", "[2001:db8::21]", "CLEAR").unwrap().weight, None);
        assert_eq!(parse("FWM 5", "192.0.2.21", "2147483647").unwrap().weight, Some(2147483647));
        assert_eq!(parse("FWM 5", "192.0.2.21", "0").unwrap().weight, Some(0));
        assert_eq!(parse("FWM 5", "192.0.2.21", "drain").unwrap().weight, Some(0));
        assert!(parse(" ", "192.0.2.21", "1").unwrap_err().to_string().starts_with("empty service"));
        assert!(parse("FWM 5", "rs1", "1").unwrap_err().to_string().starts_with("real server `rs1` is not an address"));
        for bad in ["2147483648", "-1", "five", ""] {
            let e = parse("FWM 5", "192.0.2.21", bad).unwrap_err().to_string();
            assert!(e.contains("write 0 to 2147483647, `drain` (0) or `clear`"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_request_goes_through_the_run_directory_and_its_answer_comes_back_beside_it() {
        let run = tempfile::tempdir().unwrap();
        assert!(pending(run.path()).is_empty());
        let request = parse("TCP 192.0.2.80:80", "192.0.2.21", "7").unwrap();
        assert_eq!(to_text(&request), "TCP 192.0.2.80:80\n192.0.2.21\n7\n");
        assert_eq!(from_text(&to_text(&request)), Ok(request.clone()));
        let clear = WeightRequest { weight: None, ..request.clone() };
        assert_eq!(from_text(&to_text(&clear)), Ok(clear));
        assert!(from_text("TCP 192.0.2.80:80\n").is_err());
        let dir = run.path().join(WEIGHT_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(request_path(run.path(), 1), to_text(&request)).unwrap();
        std::fs::write(dir.join(".1.req.tmp"), "half").unwrap();
        std::fs::write(dir.join("2.answer"), "applied\n").unwrap();
        assert_eq!(pending(run.path()), [dir.join("1.req")]);
        assert_eq!(answer_path(&dir.join("1.req")), dir.join("1.answer"));
        let text = answer_text(Verdict::Refused, "TCP 192.0.2.80:80 has no real server 192.0.2.22:80");
        assert_eq!(
            read_answer(&text),
            Some((Verdict::Refused, "TCP 192.0.2.80:80 has no real server 192.0.2.22:80".to_string()))
        );
        assert_eq!(read_answer("maybe\nx\n"), None);
    }
}
