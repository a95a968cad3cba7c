//! An address with an optional port, as people write real servers: ipvsadm's
//! `-r 192.0.2.21` and the config's `RealServer(address: "192.0.2.21")` both
//! take the service's port when none is given.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An address with an optional port: "192.0.2.1:80", "192.0.2.1", "[2001:db8::1]:80", "2001:db8::1".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl Endpoint {
    /// The socket address, taking `default_port` where the text named none.
    pub fn with_default_port(&self, default_port: u16) -> SocketAddr {
        SocketAddr::new(self.ip, self.port.unwrap_or(default_port))
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint { ip: a.ip(), port: Some(a.port()) }
    }
}

/// Why a text is not an [`Endpoint`]. The part after "; " says what to write
/// (the config shows it as the help line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Neither an address with a port nor a bare address (a host name, a port out of range).
    #[error(
        "`{text}` is not an address; write \"192.0.2.1:80\", \"192.0.2.1\", \"[2001:db8::1]:80\" or \"2001:db8::1\""
    )]
    NotAnAddress { text: String },
}

impl FromStr for Endpoint {
    type Err = EndpointError;
    fn from_str(s: &str) -> Result<Self, EndpointError> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(sa.into());
        }
        let bare = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Endpoint { ip, port: None });
        }
        Err(EndpointError::NotAnAddress { text: s.to_string() })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}", SocketAddr::new(self.ip, port)),
            None => write!(f, "{}", self.ip),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Endpoint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address such as \"192.0.2.1:80\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Endpoint, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_take_an_optional_port() {
        let e: Endpoint = "192.0.2.1:80".parse().unwrap();
        assert_eq!(e.port, Some(80));
        let e: Endpoint = "2001:db8::1".parse().unwrap();
        assert_eq!(e.port, None);
        assert_eq!("[2001:db8::1]".parse::<Endpoint>().unwrap(), e);
        assert_eq!(e.with_default_port(443).to_string(), "[2001:db8::1]:443");
        let e: Endpoint = "[2001:db8::1]:8080".parse().unwrap();
        assert_eq!(e.to_string(), "[2001:db8::1]:8080");
        assert!("192.0.2.1:99999".parse::<Endpoint>().is_err());
        assert!("host.example:80".parse::<Endpoint>().is_err());
        assert_eq!(
            "host.example:80".parse::<Endpoint>().unwrap_err().to_string(),
            "`host.example:80` is not an address; write \"192.0.2.1:80\", \"192.0.2.1\", \"[2001:db8::1]:80\" or \"2001:db8::1\""
        );
    }
}
