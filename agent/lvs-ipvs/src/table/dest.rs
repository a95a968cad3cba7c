//! A destination (real server): address, forwarding method, weight,
//! thresholds, and tunnel settings.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The forwarding method of a destination (IP_VS_CONN_F_FWD_MASK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Forward {
    /// NAT: the director rewrites the destination address and port; replies come back through it.
    #[serde(alias = "Masq", alias = "Masquerade")]
    Nat,
    /// The kernel picks this by itself for a destination that is a local address.
    #[serde(skip)]
    Local,
    /// IP-in-IP (or GUE, GRE) to the real server, which answers the client directly.
    #[serde(alias = "Tun", alias = "Ipip")]
    Tunnel,
    /// Direct routing: only the MAC address changes; the real server answers the client directly.
    /// ipvsadm's default.
    #[default]
    #[serde(alias = "Dr", alias = "Gatewaying")]
    DirectRouting,
}

impl Forward {
    /// ipvsadm's option for it; Local has none (the kernel decides it).
    pub fn ipvsadm_option(self) -> Option<&'static str> {
        match self {
            Forward::Nat => Some("-m"),
            Forward::Local => None,
            Forward::Tunnel => Some("-i"),
            Forward::DirectRouting => Some("-g"),
        }
    }

    /// The name in `ipvsadm -L`'s Forward column.
    pub fn label(self) -> &'static str {
        match self {
            Forward::Nat => "Masq",
            Forward::Local => "Local",
            Forward::Tunnel => "Tunnel",
            Forward::DirectRouting => "Route",
        }
    }

    /// Whether the packet reaches the real server with its destination port unchanged.
    /// Only NAT rewrites ports.
    pub fn keeps_port(self) -> bool {
        !matches!(self, Forward::Nat)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum TunnelKind {
    #[default]
    Ipip,
    Gue,
    Gre,
}

impl TunnelKind {
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Ipip => "ipip",
            TunnelKind::Gue => "gue",
            TunnelKind::Gre => "gre",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum TunnelCsum {
    #[default]
    NoChecksum,
    Checksum,
    RemoteChecksum,
}

impl TunnelCsum {
    /// ipvsadm's flag for it.
    pub fn ipvsadm_option(self) -> &'static str {
        match self {
            TunnelCsum::NoChecksum => "--tun-nocsum",
            TunnelCsum::Checksum => "--tun-csum",
            TunnelCsum::RemoteChecksum => "--tun-remcsum",
        }
    }
}

/// How a Tunnel destination is encapsulated. Ignored by the kernel for other methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TunnelOptions {
    pub kind: TunnelKind,
    /// The UDP port GUE sends to; 0 for ipip and gre.
    pub port: u16,
    pub csum: TunnelCsum,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dest {
    pub addr: SocketAddr,
    pub forward: Forward,
    pub weight: u32,
    /// Connections above which the kernel stops sending new ones (0: no limit).
    pub upper_threshold: u32,
    /// Connections below which an overloaded destination takes new ones again (0: none).
    pub lower_threshold: u32,
    pub tunnel: TunnelOptions,
}

impl Dest {
    /// A destination as ipvsadm adds one by default: direct routing, weight 1.
    pub fn new(addr: SocketAddr) -> Dest {
        Dest {
            addr,
            forward: Forward::default(),
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel: TunnelOptions::default(),
        }
    }
}
