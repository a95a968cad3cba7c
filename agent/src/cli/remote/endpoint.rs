//! `--endpoint HOST:PORT`: where the appliance's management API listens.

use std::fmt;
use std::net::Ipv6Addr;

/// A host (a name, an IPv4 address or an IPv6 address) and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Without brackets: "192.0.2.10", "2001:db8::10", "lb1.example.net".
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// The URL of `path` ("/v1/status") on it.
    pub fn url(&self, path: &str) -> String {
        format!("https://{self}{path}")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// clap's parser: a wrong endpoint is a usage error (exit status 2).
pub fn parse(text: &str) -> Result<Endpoint, String> {
    let text = text.trim();
    if text.contains("://") {
        return Err(format!(
            "{text}: give HOST:PORT, without a scheme (the API is always https), e.g. 192.0.2.10:9443"
        ));
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest
            .split_once("]:")
            .ok_or_else(|| format!("{text}: an IPv6 endpoint is [ADDRESS]:PORT, e.g. [2001:db8::10]:9443"))?;
        host.parse::<Ipv6Addr>().map_err(|_| format!("{text}: {host} is not an IPv6 address"))?;
        (host, port)
    } else {
        let (host, port) =
            text.rsplit_once(':').ok_or_else(|| format!("{text}: no port; give HOST:PORT, e.g. {text}:9443"))?;
        if host.contains(':') {
            return Err(format!("{text}: write an IPv6 address in brackets, e.g. [2001:db8::10]:9443"));
        }
        (host, port)
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        return Err(format!("{text}: {host:?} is not a host name or address"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{text}: {port:?} is not a port (1 to 65535)"))?;
    Ok(Endpoint { host: host.to_string(), port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_ipv4_and_bracketed_ipv6() {
        let e = parse("192.0.2.10:9443").unwrap();
        assert_eq!(e, Endpoint { host: "192.0.2.10".into(), port: 9443 });
        assert_eq!(e.url("/v1/status"), "https://192.0.2.10:9443/v1/status");
        let e = parse("[2001:db8::10]:9443").unwrap();
        assert_eq!(e.host, "2001:db8::10");
        assert_eq!(e.to_string(), "[2001:db8::10]:9443");
        let e = parse("lb1.example.net:443").unwrap();
        assert_eq!(e.to_string(), "lb1.example.net:443");
    }

    #[test]
    fn refuses_what_is_not_host_and_port_saying_how_to_write_it() {
        for (text, says) in [
            ("192.0.2.10", "no port"),
            ("2001:db8::10:9443", "in brackets"),
            ("[2001:db8::10]", "[ADDRESS]:PORT"),
            ("[lb1]:9443", "not an IPv6 address"),
            ("https://192.0.2.10:9443", "without a scheme"),
            (":9443", "not a host"),
            ("192.0.2.10:0", "not a port"),
            ("192.0.2.10:https", "not a port"),
            ("192.0.2.10:70000", "not a port"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
