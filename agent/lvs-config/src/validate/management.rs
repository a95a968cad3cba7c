//! `management: Management(listen: [...], pki: ...)`: the addresses the
//! management API listens on and the folder its certificates are in. Whether
//! that folder holds usable certificates is the agent's to check (it reads
//! files); here only what the text says.

use super::{has_control, Findings};
use crate::diagnostic::shown;
use crate::file;
use crate::model::{self, DEFAULT_PKI_DIR};
use crate::path::Path;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// What a listen entry looks like, for the help lines.
const EXAMPLE: &str = "\"192.0.2.10:9443\" or \"[2001:db8::10]:9443\"";

pub fn management(f: &mut Findings, at: &Path, m: &file::Management) -> model::Management {
    model::Management { listen: listen(f, &at.field("listen"), &m.listen), pki: pki(f, at, m.pki.as_ref()) }
}

fn listen(f: &mut Findings, at: &Path, entries: &[String]) -> Vec<SocketAddr> {
    if entries.is_empty() {
        f.error(
            at.clone(),
            "management listens on no address",
            "list the addresses and ports to listen on, e.g. `listen: [\"192.0.2.10:9443\"]`, or remove `management` for no listener",
        );
    }
    let mut listen: Vec<SocketAddr> = Vec::new();
    for (i, text) in entries.iter().enumerate() {
        let here = at.index(i);
        let Some(addr) = socket_addr(f, &here, text) else { continue };
        if let Some(first) = listen.iter().position(|a| *a == addr) {
            f.error(
                here,
                format!("management listen address {addr} is listed twice (also entry {})", first + 1),
                "remove one of the two",
            );
            continue;
        }
        if let Some(other) = listen.iter().find(|a| overlap(**a, addr)) {
            f.error(
                here,
                format!("management listen address {addr} overlaps {other}: both take port {} on {addr}", addr.port()),
                "listen either on the unspecified address (every address of the family) or on the addresses, not both",
            );
            continue;
        }
        listen.push(addr);
    }
    listen
}

/// One entry as an address and port, or None with an error.
fn socket_addr(f: &mut Findings, at: &Path, text: &str) -> Option<SocketAddr> {
    let addr = match text.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            let why = if text.parse::<IpAddr>().is_ok() {
                "has no port".to_string()
            } else if text.matches(':').count() > 1 && !text.starts_with('[') {
                "is an IPv6 address without brackets around it".to_string()
            } else {
                "is not an address and port".to_string()
            };
            f.error(
                at.clone(),
                format!("management listen address `{}` {why}", shown(text)),
                format!("write an IP address and a port, e.g. {EXAMPLE}; host names are not looked up"),
            );
            return None;
        }
    };
    if addr.port() == 0 {
        f.error(
            at.clone(),
            format!("management listen address {addr} has port 0"),
            "write the port clients connect to, e.g. 9443 (port 0 would pick a random one)",
        );
        return None;
    }
    let ip = addr.ip();
    let refused = match ip {
        _ if ip.is_multicast() => Some("a multicast address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        _ => None,
    };
    if let Some(why) = refused {
        f.error(
            at.clone(),
            format!("management listen address {addr} is {why}, which nothing can listen on"),
            format!("write an address of this appliance, e.g. {EXAMPLE}, or 0.0.0.0:9443 for every IPv4 address"),
        );
        return None;
    }
    Some(addr)
}

/// Whether binding both would fail: the same port and family, one of them
/// the unspecified address.
fn overlap(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.is_ipv4() == b.is_ipv4() && (a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn pki(f: &mut Findings, at: &Path, pki: Option<&PathBuf>) -> PathBuf {
    let Some(dir) = pki else { return PathBuf::from(DEFAULT_PKI_DIR) };
    let text = dir.to_string_lossy();
    if !dir.is_absolute() {
        f.error(
            at.field("pki"),
            format!("management pki `{}` is not an absolute path", shown(&text)),
            format!("write the full path of the folder with ca.pem and server.pem, e.g. \"{DEFAULT_PKI_DIR}\""),
        );
    } else if has_control(&text) {
        f.error(
            at.field("pki"),
            format!("management pki `{}` holds a control character", shown(&text)),
            format!("the agent logs this path: write it without control characters, e.g. \"{DEFAULT_PKI_DIR}\""),
        );
    }
    dir.clone()
}
