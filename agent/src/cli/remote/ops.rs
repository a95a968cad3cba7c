//! The operational commands against the appliance: its running config,
//! apply, try and confirm a config, a real server's weight, its log, reboot
//! and power off. Each prints what the local command prints; the answer's
//! `message` is written by the appliance as the local command would.

use super::client::Send;
use super::{Client, RemoteError};
use crate::cli::{EXIT_FAILED, EXIT_INVALID};
use lvs_agent::manage::api::{ConfigAnswer, Done, LogsAnswer, WeightAsk, MAX_BODY_BYTES, MAX_LOG_LINES};
use lvs_agent::manage::Power;
use lvs_config::ConfigError;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn print_done(done: &Done) {
    if done.message.is_empty() || done.message.ends_with('\n') {
        print!("{}", done.message);
    } else {
        println!("{}", done.message);
    }
}

/// The config's text as the body of a request, or the exit status once the
/// reason is printed: read as every config is (4 MiB at most), and refused
/// here when the appliance would refuse it for its size.
fn config_body(file: &Path, nothing: &str) -> Result<String, i32> {
    let text = lvs_agent::capped::read_config(file).map_err(|e| {
        eprintln!("{e}");
        eprintln!("lvs-agent: {nothing}");
        match e {
            ConfigError::Read { .. } => EXIT_FAILED,
            _ => EXIT_INVALID,
        }
    })?;
    if text.len() > MAX_BODY_BYTES {
        eprintln!(
            "{}: error: the file is {} bytes, more than the appliance takes over the network ({MAX_BODY_BYTES} bytes at most, docs/API.md)\n  \
             help: a config that large is generated: put it on the disk image (`lvs-image build`)",
            file.display(),
            text.len()
        );
        eprintln!("lvs-agent: {nothing}");
        return Err(EXIT_INVALID);
    }
    Ok(text)
}

/// A refusal of a config (with its line:col) is followed by what stays.
fn refused(result: Result<Done, RemoteError>, nothing: &str) -> Result<i32, RemoteError> {
    match result {
        Ok(done) => {
            print_done(&done);
            Ok(0)
        }
        Err(e @ RemoteError::Answer { status: 400 | 409 | 422, .. }) => {
            eprintln!("lvs-agent: {e}");
            eprintln!("lvs-agent: {nothing}");
            Ok(e.exit_status())
        }
        Err(e) => Err(e),
    }
}

/// POST /v1/config/apply: applied now and written to the config partition.
pub fn apply(client: &Client, file: &Path) -> Result<i32, RemoteError> {
    const NOTHING: &str = "nothing applied: the running config stays";
    let text = match config_body(file, NOTHING) {
        Ok(text) => text,
        Err(status) => return Ok(status),
    };
    refused(client.post("/config/apply", Send::Text(&text)), NOTHING)
}

/// POST /v1/config/try?within=...: runs until the deadline, then goes back unless confirmed.
pub fn try_config(client: &Client, file: &Path, within: Duration) -> Result<i32, RemoteError> {
    const NOTHING: &str = "nothing tried: the running config stays";
    let text = match config_body(file, NOTHING) {
        Ok(text) => text,
        Err(status) => return Ok(status),
    };
    refused(client.post(&format!("/config/try?within={}", within_query(within)), Send::Text(&text)), NOTHING)
}

/// `20s`, or `1500ms` when it is not whole seconds: what humantime reads back.
pub fn within_query(within: Duration) -> String {
    if within.subsec_nanos() == 0 {
        format!("{}s", within.as_secs())
    } else {
        format!("{}ms", within.as_millis().max(1))
    }
}

pub fn confirm(client: &Client) -> Result<i32, RemoteError> {
    refused(client.post("/config/confirm", Send::Nothing), "nothing confirmed")
}

pub fn weight(client: &Client, service: &str, real_server: &str, weight: &str) -> Result<i32, RemoteError> {
    let ask =
        WeightAsk { service: service.to_string(), real_server: real_server.to_string(), weight: weight.to_string() };
    let body = serde_json::to_string(&ask).unwrap_or_default();
    refused(client.post("/weight", Send::Json(body)), "no weight changed")
}

/// GET /v1/config: the running config's text on stdout, exactly (so that it
/// can be saved, edited and applied); where it comes from on stderr.
pub fn config(client: &Client) -> Result<i32, RemoteError> {
    let answer: ConfigAnswer = client.get("/config")?;
    print!("{}", answer.text);
    let _ = std::io::stdout().flush();
    eprintln!("lvs-agent: {}: {} (hash {})", client.endpoint(), answer.path, answer.hash);
    if let Some(trying) = &answer.trying {
        eprintln!("lvs-agent: {}", trying_note(trying.deadline_ms, SystemTime::now(), &answer.path));
    }
    Ok(0)
}

/// What a running try means for the text printed.
pub fn trying_note(deadline_ms: u64, now: SystemTime, path: &str) -> String {
    let deadline = UNIX_EPOCH.checked_add(Duration::from_millis(deadline_ms));
    let when = match deadline {
        Some(d) => {
            let left = d.duration_since(now).unwrap_or_default();
            let left = Duration::from_secs(left.as_secs());
            format!("until {} (in {})", humantime::format_rfc3339_seconds(d), humantime::format_duration(left))
        }
        None => format!("until {deadline_ms} ms after 1970"),
    };
    format!("this is a config being tried, {when}; unless confirmed (`lvs-agent confirm`), the appliance goes back to {path}")
}

/// GET /v1/logs: the last `lines` lines, or with `follow` each new one as it comes.
pub fn logs(client: &Client, lines: usize, follow: bool) -> Result<i32, RemoteError> {
    let lines = if lines > MAX_LOG_LINES {
        eprintln!("lvs-agent: the appliance keeps the last {MAX_LOG_LINES} lines; showing those");
        MAX_LOG_LINES
    } else {
        lines
    };
    if !follow {
        let answer: LogsAnswer = client.get(&format!("/logs?lines={lines}"))?;
        let text: String = answer.lines.iter().map(|l| format!("{l}\n")).collect();
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return Ok(0);
    }
    let reader = BufReader::new(client.stream(&format!("/logs?follow=1&lines={lines}"))?);
    let mut out = std::io::stdout().lock();
    for line in reader.lines() {
        let line = line.map_err(|e| client.stream_error(e))?;
        // A closed stdout (`| head`) ends the following quietly.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return Ok(0);
        }
    }
    eprintln!("lvs-agent: {}: the appliance ended the log stream", client.endpoint());
    Ok(0)
}

pub fn power(client: &Client, what: Power) -> Result<i32, RemoteError> {
    let path = match what {
        Power::Reboot => "/reboot",
        Power::Off => "/poweroff",
    };
    let done: Done = client.post(path, Send::Nothing)?;
    print_done(&done);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_goes_as_whole_seconds_or_milliseconds() {
        assert_eq!(within_query(Duration::from_secs(20)), "20s");
        assert_eq!(within_query(Duration::from_millis(1500)), "1500ms");
        assert_eq!(within_query(Duration::from_secs(24 * 3600)), "86400s");
    }

    #[test]
    fn a_try_is_told_with_its_deadline_and_what_comes_back() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let note = trying_note(1_700_000_020_000, now, "/config/appliance.ron");
        assert_eq!(
            note,
            "this is a config being tried, until 2023-11-14T22:13:40Z (in 20s); unless confirmed (`lvs-agent confirm`), the appliance goes back to /config/appliance.ron"
        );
    }

    #[test]
    fn a_config_over_the_api_limit_is_refused_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.ron");
        std::fs::write(&file, "/".repeat(MAX_BODY_BYTES + 1)).unwrap();
        assert_eq!(config_body(&file, "nothing"), Err(EXIT_INVALID));
        assert_eq!(config_body(&dir.path().join("none.ron"), "nothing"), Err(EXIT_FAILED));
        std::fs::write(&file, "Appliance()").unwrap();
        assert_eq!(config_body(&file, "nothing").as_deref(), Ok("Appliance()"));
    }
}
