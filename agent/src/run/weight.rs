//! Operator weights at run time: `lvs-agent weight SERVICE REALSERVER N|clear`
//! hands a request to the running agent through its run directory, as `try`
//! does, and waits for the answer:
//!
//! - `weight/<id>.req`: written (atomically) by the CLI: the service as the
//!   log names it ("TCP 192.0.2.80:80"), the real server with its port, and
//!   the weight or `clear`, one a line;
//! - `weight/<id>.ans`: written by the agent once applied: `ok` or `error`,
//!   then what it did or why not. The CLI prints it and removes it.
//!
//! SIGUSR1 wakes the agent (SIGHUP would also re-read the config); the agent
//! also looks every second. The weight goes through the reconciler, so health
//! still wins (a server that is down stays at 0), and it is kept in the state
//! file, so that it survives a restart of the agent, until it is cleared.

use crate::config::values::Endpoint;
use crate::ipvs::{Family, Protocol, ServiceKey};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const WEIGHT_DIR: &str = "weight";

/// The largest weight the kernel takes (ipvsadm refuses above 65535, the kernel does not).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub service: ServiceKey,
    pub real_server: SocketAddr,
    /// None clears the operator's weight: back to the configured one.
    pub weight: Option<u32>,
}

/// A service as `ipvsadm -Ln` and the agent's log name it: "TCP 192.0.2.80:80",
/// "UDP [2001:db8::1]:53", "FWM 5", "FWM 5 IPv6"; a bare "192.0.2.80:80" is TCP.
pub fn parse_service(text: &str) -> Result<ServiceKey, String> {
    let help = "write it as the agent's log and `lvs-agent status` name it: \"TCP 192.0.2.80:80\", \
                \"UDP [2001:db8::1]:53\", \"FWM 5\" or \"FWM 5 IPv6\" (a bare \"192.0.2.80:80\" means TCP)";
    let words: Vec<&str> = text.split_whitespace().collect();
    let protocol = |w: &str| match w.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => None,
    };
    let inet = |protocol, addr: &str| match addr.parse::<SocketAddr>() {
        Ok(addr) => Ok(ServiceKey::Inet { protocol, addr }),
        Err(_) => Err(format!("service `{text}`: `{addr}` is not an address with a port; {help}")),
    };
    match words[..] {
        [addr] => inet(Protocol::Tcp, addr),
        [p, addr] if protocol(p).is_some() => inet(protocol(p).unwrap_or(Protocol::Tcp), addr),
        [fwm, mark] | [fwm, mark, _] if fwm.eq_ignore_ascii_case("fwm") => {
            let family = match words.get(2).map(|f| f.to_ascii_lowercase()) {
                None => Family::Ipv4,
                Some(f) if f == "ipv6" => Family::Ipv6,
                Some(f) if f == "ipv4" => Family::Ipv4,
                Some(_) => return Err(format!("service `{text}`: the family is IPv4 or IPv6; {help}")),
            };
            match mark.parse::<u32>() {
                Ok(mark) if mark > 0 => Ok(ServiceKey::Fwmark { family, mark }),
                _ => Err(format!("service `{text}`: `{mark}` is not a firewall mark (1 to 4294967295); {help}")),
            }
        }
        _ => Err(format!("service `{text}` is not a service; {help}")),
    }
}

/// A real server's address; without a port, the service's (0 for fwmark services), as in the config.
pub fn parse_real_server(text: &str, service: &ServiceKey) -> Result<SocketAddr, String> {
    let endpoint: Endpoint = text.trim().parse().map_err(|e| format!("real server {e}"))?;
    Ok(endpoint.with_default_port(service.port().unwrap_or(0)))
}

/// `clear`, or a weight from 0 to 2147483647.
pub fn parse_weight(text: &str) -> Result<Option<u32>, String> {
    if text.trim().eq_ignore_ascii_case("clear") {
        return Ok(None);
    }
    match text.trim().parse::<u64>() {
        Ok(w) if w <= u64::from(MAX_WEIGHT) => Ok(Some(w as u32)),
        _ => Err(format!(
            "weight `{text}`: write a number from 0 (no new connections) to {MAX_WEIGHT}, or `clear` to go back to the configured weight"
        )),
    }
}

impl Request {
    pub fn parse(service: &str, real_server: &str, weight: &str) -> Result<Request, String> {
        let service = parse_service(service)?;
        Ok(Request { real_server: parse_real_server(real_server, &service)?, weight: parse_weight(weight)?, service })
    }

    pub fn to_text(&self) -> String {
        let weight = self.weight.map_or("clear".to_string(), |w| w.to_string());
        format!("{}\n{}\n{weight}\n", self.service, self.real_server)
    }

    pub fn from_text(text: &str) -> Result<Request, String> {
        let lines: Vec<&str> = text.lines().collect();
        match lines[..] {
            [service, real_server, weight] => Request::parse(service, real_server, weight),
            _ => Err("not a weight request: 3 lines expected (service, real server, weight)".to_string()),
        }
    }
}

/// The requests waiting in `<run_dir>/weight`, oldest name first, each with
/// where its answer goes.
pub fn pending(run_dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(WEIGHT_DIR)) else { return Vec::new() };
    let mut found: Vec<(PathBuf, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "req"))
        .map(|p| (p.clone(), p.with_extension("ans")))
        .collect();
    found.sort();
    found
}

/// The answer file's text.
pub fn answer(result: &Result<String, String>) -> String {
    match result {
        Ok(what) => format!("ok\n{what}\n"),
        Err(why) => format!("error\n{why}\n"),
    }
}

/// An answer file's text back: Ok(what it did) or Err(why not).
pub fn read_answer(text: &str) -> Result<String, String> {
    let (status, rest) = text.split_once('\n').unwrap_or((text, ""));
    let rest = rest.trim_end().to_string();
    if status == "ok" {
        Ok(rest)
    } else {
        Err(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(addr: &str) -> ServiceKey {
        ServiceKey::Inet { protocol: Protocol::Tcp, addr: addr.parse().unwrap() }
    }

    #[test]
    fn services_read_as_the_log_and_status_name_them() {
        assert_eq!(parse_service("TCP 192.0.2.80:80"), Ok(tcp("192.0.2.80:80")));
        assert_eq!(parse_service("192.0.2.80:80"), Ok(tcp("192.0.2.80:80")));
        assert_eq!(
            parse_service("udp [2001:db8::1]:53"),
            Ok(ServiceKey::Inet { protocol: Protocol::Udp, addr: "[2001:db8::1]:53".parse().unwrap() })
        );
        assert_eq!(parse_service("FWM 5"), Ok(ServiceKey::Fwmark { family: Family::Ipv4, mark: 5 }));
        assert_eq!(parse_service("fwm 5 IPv6"), Ok(ServiceKey::Fwmark { family: Family::Ipv6, mark: 5 }));
        for key in [tcp("192.0.2.80:80"), ServiceKey::Fwmark { family: Family::Ipv6, mark: 9 }] {
            assert_eq!(parse_service(&key.to_string()), Ok(key), "the display form reads back");
        }
        let e = parse_service("192.0.2.80").unwrap_err();
        assert!(e.starts_with("service `192.0.2.80`: `192.0.2.80` is not an address with a port; write it as"), "{e}");
        assert!(parse_service("FWM 0").unwrap_err().contains("not a firewall mark"));
        assert!(parse_service("ICMP 192.0.2.80:80").unwrap_err().contains("is not a service"));
        assert!(parse_service("").is_err());
    }

    #[test]
    fn real_servers_take_the_service_port_and_weights_are_checked() {
        let key = tcp("192.0.2.80:80");
        assert_eq!(parse_real_server("192.0.2.21", &key), Ok("192.0.2.21:80".parse().unwrap()));
        assert_eq!(parse_real_server("192.0.2.21:8080", &key), Ok("192.0.2.21:8080".parse().unwrap()));
        assert!(parse_real_server("rs1", &key).unwrap_err().starts_with("real server `rs1` is not an address"));
        assert_eq!(parse_weight("5"), Ok(Some(5)));
        assert_eq!(parse_weight("0"), Ok(Some(0)));
        assert_eq!(parse_weight("2147483647"), Ok(Some(MAX_WEIGHT)));
        assert_eq!(parse_weight("CLEAR"), Ok(None));
        for bad in ["2147483648", "-1", "five", ""] {
            assert!(parse_weight(bad).unwrap_err().contains("from 0 (no new connections) to 2147483647"), "{bad}");
        }
    }

    #[test]
    fn a_request_and_its_answer_go_through_the_run_directory() {
        let run = tempfile::tempdir().unwrap();
        assert!(pending(run.path()).is_empty());
        let request = Request::parse("TCP 192.0.2.80:80", "192.0.2.21", "7").unwrap();
        assert_eq!(request.to_text(), "TCP 192.0.2.80:80\n192.0.2.21:80\n7\n");
        assert_eq!(Request::from_text(&request.to_text()), Ok(request.clone()));
        let clear = Request { weight: None, ..request.clone() };
        assert_eq!(Request::from_text(&clear.to_text()), Ok(clear));
        assert!(Request::from_text("TCP 192.0.2.80:80\n").is_err());
        let dir = run.path().join(WEIGHT_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("2.req"), request.to_text()).unwrap();
        std::fs::write(dir.join("1.req"), request.to_text()).unwrap();
        std::fs::write(dir.join("1.req.tmp"), "half").unwrap();
        std::fs::write(dir.join("0.ans"), "ok\n").unwrap();
        assert_eq!(pending(run.path()), [(dir.join("1.req"), dir.join("1.ans")), (dir.join("2.req"), dir.join("2.ans"))]);
        for result in [Ok("set".to_string()), Err("no such service".to_string())] {
            assert_eq!(read_answer(&answer(&result)), result);
        }
    }
}
