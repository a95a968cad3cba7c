//! Persistence: how long, and which clients count as one (the netmask).

use super::Family;
use std::fmt;
use std::net::Ipv4Addr;

/// Which clients are kept together by persistence: an IPv4 netmask, or an IPv6 prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersistMask {
    V4(Ipv4Addr),
    V6(u8),
}

impl PersistMask {
    /// One client per entry: what ipvsadm uses when `-M` is not given.
    pub fn host(family: Family) -> PersistMask {
        match family {
            Family::Ipv4 => PersistMask::V4(Ipv4Addr::BROADCAST),
            Family::Ipv6 => PersistMask::V6(128),
        }
    }

    /// Reads "255.255.255.0", "/24" or "24" for IPv4; "/64" or "64" for IPv6.
    pub fn parse(text: &str, family: Family) -> Result<PersistMask, PersistMaskError> {
        let prefix = text.strip_prefix('/').unwrap_or(text);
        let owned = || text.to_string();
        if let Ok(len) = prefix.parse::<u8>() {
            return match family {
                Family::Ipv4 if (1..=32).contains(&len) => {
                    Ok(PersistMask::V4(Ipv4Addr::from(u32::MAX << (32 - u32::from(len)))))
                }
                Family::Ipv6 if (1..=128).contains(&len) => Ok(PersistMask::V6(len)),
                Family::Ipv4 => Err(PersistMaskError::PrefixV4 { text: owned() }),
                Family::Ipv6 => Err(PersistMaskError::PrefixV6 { text: owned() }),
            };
        }
        match (family, text.parse::<Ipv4Addr>()) {
            (Family::Ipv4, Ok(mask)) => {
                let bits = u32::from(mask);
                if bits == 0 || bits.leading_ones() + bits.trailing_zeros() != 32 {
                    Err(PersistMaskError::NotContiguous { text: owned() })
                } else {
                    Ok(PersistMask::V4(mask))
                }
            }
            (Family::Ipv6, Ok(_)) => Err(PersistMaskError::V4MaskForV6 { text: owned() }),
            _ => Err(PersistMaskError::Unreadable { text: owned() }),
        }
    }
}

/// Why a persistence netmask was refused; each names the text as written
/// (`netmask `/33` is not a prefix length from 1 to 32`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PersistMaskError {
    #[error("netmask `{text}` is not a prefix length from 1 to 32")]
    PrefixV4 { text: String },
    #[error("netmask `{text}` is not a prefix length from 1 to 128")]
    PrefixV6 { text: String },
    #[error("netmask `{text}` is not a contiguous netmask (ones, then zeros)")]
    NotContiguous { text: String },
    #[error("netmask `{text}` is an IPv4 netmask, but the service is IPv6")]
    V4MaskForV6 { text: String },
    #[error("netmask `{text}` is neither a netmask nor a prefix length")]
    Unreadable { text: String },
}

impl fmt::Display for PersistMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistMask::V4(mask) => write!(f, "{mask}"),
            PersistMask::V6(prefix) => write!(f, "{prefix}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Persistence {
    /// Seconds a client's template entry outlives its last connection.
    pub timeout: u32,
    pub netmask: PersistMask,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_parse_and_errors_name_the_text() {
        assert_eq!(PersistMask::parse("/24", Family::Ipv4), Ok(PersistMask::V4(Ipv4Addr::new(255, 255, 255, 0))));
        assert_eq!(PersistMask::parse("64", Family::Ipv6), Ok(PersistMask::V6(64)));
        let e = PersistMask::parse("/33", Family::Ipv4).unwrap_err();
        assert_eq!(e, PersistMaskError::PrefixV4 { text: "/33".to_string() });
        assert_eq!(e.to_string(), "netmask `/33` is not a prefix length from 1 to 32");
        assert_eq!(
            PersistMask::parse("255.0.255.0", Family::Ipv4).unwrap_err().to_string(),
            "netmask `255.0.255.0` is not a contiguous netmask (ones, then zeros)"
        );
        assert_eq!(
            PersistMask::parse("255.255.255.0", Family::Ipv6).unwrap_err().to_string(),
            "netmask `255.255.255.0` is an IPv4 netmask, but the service is IPv6"
        );
    }
}
