//! Operator weights at run time: `lvs-agent weight SERVICE REALSERVER N|clear`
//! hands a request to the running agent through its run directory, as `try`
//! does: `weight/<id>.req`, written (atomically) by the CLI, holds the
//! service, the real server and the weight or `clear`, one a line; the agent
//! applies it, logs what it did or why not, and removes it.
//!
//! SIGUSR1 wakes the agent (SIGHUP would also re-read the config); the agent
//! also looks every second. The service is matched by the name the log and
//! `lvs-agent status` give it, so the agent, which knows its services, says
//! which there are when the name is not one. The weight goes through the
//! reconciler, so health still wins (a server that is down stays at 0), and
//! it is kept in the state file, so that it survives a restart of the agent,
//! until it is cleared.

use lvs_config::values::Endpoint;
use std::path::{Path, PathBuf};

pub const WEIGHT_DIR: &str = "weight";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// "TCP 192.0.2.80:80", "FWM 5": spaces made single, a bare address made TCP.
    pub service: String,
    /// Without a port, the service's.
    pub real_server: Endpoint,
    /// None clears the operator's weight: back to the configured one.
    pub weight: Option<u32>,
}

impl Request {
    pub fn parse(service: &str, real_server: &str, weight: &str) -> Result<Request, String> {
        let mut name = String::new();
        for word in service.split_whitespace() {
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(word);
        }
        let service = match name.contains(' ') {
            false if name.is_empty() => {
                return Err("empty service: name it as the log does (\"TCP 192.0.2.80:80\")".into())
            }
            false => format!("TCP {name}"),
            true => name,
        };
        let real_server = real_server.trim().parse().map_err(|e| format!("real server {e}"))?;
        let weight = match weight.trim() {
            w if w.eq_ignore_ascii_case("clear") => None,
            w => Some(
                w.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("weight `{w}`: write 0 to 2147483647, or `clear`"))? as u32,
            ),
        };
        Ok(Request { service, real_server, weight })
    }

    pub fn to_text(&self) -> String {
        let weight = self.weight.map_or("clear".to_string(), |w| w.to_string());
        format!("{}\n{}\n{weight}\n", self.service, self.real_server)
    }

    pub fn from_text(text: &str) -> Result<Request, String> {
        match text.lines().collect::<Vec<_>>()[..] {
            [service, real_server, weight] => Request::parse(service, real_server, weight),
            _ => Err("not a weight request (3 lines)".to_string()),
        }
    }
}

/// The requests waiting in `<run_dir>/weight`.
pub fn pending(run_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(run_dir.join(WEIGHT_DIR)).into_iter().flatten().flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.ends_with(".req")) {
            found.push(entry.path());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_service_as_the_log_does_and_checks_the_rest() {
        let r = Request::parse("  TCP   192.0.2.80:80 ", "192.0.2.21", "7").unwrap();
        assert_eq!(
            (r.service.as_str(), r.real_server.to_string(), r.weight),
            ("TCP 192.0.2.80:80", "192.0.2.21".into(), Some(7))
        );
        assert_eq!(Request::parse("192.0.2.80:80", "192.0.2.21:8080", "clear").unwrap().service, "TCP 192.0.2.80:80");
        assert_eq!(Request::parse("fwm 5 IPv6", "[2001:db8::21]", "CLEAR").unwrap().weight, None);
        assert_eq!(Request::parse("FWM 5", "192.0.2.21", "2147483647").unwrap().weight, Some(2147483647));
        assert_eq!(Request::parse("FWM 5", "192.0.2.21", "0").unwrap().weight, Some(0));
        assert!(Request::parse(" ", "192.0.2.21", "1").unwrap_err().starts_with("empty service"));
        assert!(Request::parse("FWM 5", "rs1", "1").unwrap_err().starts_with("real server `rs1` is not an address"));
        for bad in ["2147483648", "-1", "five", ""] {
            let e = Request::parse("FWM 5", "192.0.2.21", bad).unwrap_err();
            assert!(e.contains("write 0 to 2147483647, or `clear`"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_request_goes_through_the_run_directory() {
        let run = tempfile::tempdir().unwrap();
        assert!(pending(run.path()).is_empty());
        let request = Request::parse("TCP 192.0.2.80:80", "192.0.2.21", "7").unwrap();
        assert_eq!(request.to_text(), "TCP 192.0.2.80:80\n192.0.2.21\n7\n");
        assert_eq!(Request::from_text(&request.to_text()), Ok(request.clone()));
        let clear = Request { weight: None, ..request.clone() };
        assert_eq!(Request::from_text(&clear.to_text()), Ok(clear));
        assert!(Request::from_text("TCP 192.0.2.80:80\n").is_err());
        let dir = run.path().join(WEIGHT_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("1.req"), request.to_text()).unwrap();
        std::fs::write(dir.join(".1.req.tmp"), "half").unwrap();
        assert_eq!(pending(run.path()), [dir.join("1.req")]);
    }
}
