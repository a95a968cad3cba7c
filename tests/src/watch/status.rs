//! `lvs-agent status` (ipvsadm -Ln's layout) as the labs poll it: the
//! service lines and the real servers' `->` lines, each lab keeping what its
//! table needs and wording what is missing.

use std::net::SocketAddr;

/// A line of a status that a table is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// `TCP 192.0.2.80:80 rr`, spaces squeezed.
    Service(String),
    /// A real server: its address, then forwarding and weight if the line has
    /// them; `text` is the whole line, for an error that quotes it.
    Dest { addr: SocketAddr, forward: Option<&'a str>, weight: Option<u32>, text: &'a str },
}

/// The table's lines, in order; an error if `status` is not a status at all
/// (a shell's error, say). The header's `-> RemoteAddress:Port` is no address.
pub fn lines(status: &str) -> Result<Vec<Line<'_>>, String> {
    if !status.contains("IP Virtual Server") {
        return Err(format!("not a status: {:?}", status.trim()));
    }
    Ok(status.lines().filter_map(line).collect())
}

fn line(text: &str) -> Option<Line<'_>> {
    let f: Vec<&str> = text.split_whitespace().collect();
    match f.first().copied() {
        Some("TCP" | "UDP" | "SCTP" | "FWM") => Some(Line::Service(f.join(" "))),
        Some("->") => {
            let addr = f.get(1).unwrap_or(&"").parse().ok()?;
            Some(Line::Dest { addr, forward: f.get(2).copied(), weight: f.get(3).and_then(|w| w.parse().ok()), text })
        }
        _ => None,
    }
}

/// A status of one service, `TCP 192.0.2.80:80 rr`, with real servers as
/// (address, weight, active, inactive), laid out as `lvs-agent status` lays
/// it out: for the labs' parsing tests.
#[cfg(test)]
pub(crate) fn sample(dests: &[(&str, u32, u32, u32)]) -> String {
    let mut s = "IP Virtual Server version 1.2.1 (size=4096)\n\
Prot LocalAddress:Port Scheduler Flags\n\
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
TCP  192.0.2.80:80 rr\n"
        .to_string();
    for (addr, weight, active, inactive) in dests {
        s.push_str(&format!("  -> {addr:<29}Route   {weight:<7}{active:<11}{inactive:<10}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_services_and_real_servers_and_skips_the_header() {
        let status = sample(&[("192.0.2.21:80", 3, 0, 3), ("192.0.2.22:80", 1, 1, 2)]);
        assert!(
            status.contains("\n  -> 192.0.2.21:80                Route   3      0          3         \n"),
            "{status}"
        );
        let l = lines(&status).unwrap();
        assert_eq!(l.len(), 3, "{l:?}");
        assert_eq!(l[0], Line::Service("TCP 192.0.2.80:80 rr".into()));
        assert!(matches!(l[2], Line::Dest { forward: Some("Route"), weight: Some(1), .. }), "{l:?}");
        assert!(matches!(
            lines("IP Virtual Server\n  -> 192.0.2.21:80\n").unwrap()[..],
            [Line::Dest { forward: None, weight: None, .. }]
        ));
        assert_eq!(lines("sh: lvs-agent: not found\n"), Err("not a status: \"sh: lvs-agent: not found\"".into()));
    }
}
