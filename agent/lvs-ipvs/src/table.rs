//! Services, destinations and the other objects of one IPVS table.

use super::{SchedFlags, Scheduler};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number the kernel keys services by.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// ipvsadm's option that names a service of this protocol.
    pub fn ipvsadm_option(self) -> &'static str {
        match self {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
            Protocol::Sctp => "--sctp-service",
        }
    }

    /// The upper-case name `ipvsadm -L` prints.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Family {
    #[default]
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// What identifies a virtual service: protocol, address and port, or a firewall mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Inet { protocol: Protocol, addr: SocketAddr },
    Fwmark { family: Family, mark: u32 },
}

impl ServiceKey {
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { addr, .. } => Family::of(&addr.ip()),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// The port real servers inherit when they name none; fwmark services have none.
    pub fn port(&self) -> Option<u16> {
        match self {
            ServiceKey::Inet { addr, .. } => Some(addr.port()),
            ServiceKey::Fwmark { .. } => None,
        }
    }
}

impl fmt::Display for ServiceKey {
    /// As `ipvsadm -Ln` names it: `TCP 192.0.2.1:80`, `FWM 7`, `FWM 7 IPv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => write!(f, "{} {}", protocol.label(), addr),
            ServiceKey::Fwmark { family: Family::Ipv4, mark } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark { family: Family::Ipv6, mark } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

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

/// One virtual service's own settings (its destinations live beside it in [`VirtualService`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service {
    pub key: ServiceKey,
    pub scheduler: Scheduler,
    pub sched_flags: SchedFlags,
    pub persistence: Option<Persistence>,
    pub one_packet: bool,
    /// Persistence engine module name (`sip` is the only one upstream).
    pub pe: Option<String>,
}

impl Service {
    /// A service with the kernel's defaults: wlc, no persistence, no flags.
    pub fn new(key: ServiceKey) -> Service {
        Service {
            key,
            scheduler: Scheduler::default(),
            sched_flags: SchedFlags::default(),
            persistence: None,
            one_packet: false,
            pe: None,
        }
    }
}

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

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VirtualService {
    pub service: Service,
    pub dests: Vec<Dest>,
}

/// Connection timeouts in seconds, as `ipvsadm --set tcp tcpfin udp`: 0 leaves a value as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

impl Timeouts {
    pub fn is_unset(&self) -> bool {
        *self == Timeouts::default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SyncState {
    Master,
    Backup,
}

impl SyncState {
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Master => "master",
            SyncState::Backup => "backup",
        }
    }
}

/// A connection synchronisation daemon (`ipvsadm --start-daemon`).
///
/// The four optional settings (Linux 4.3+) are None when the kernel is to pick:
/// it then starts the daemon with maxlen = MTU minus IP and UDP headers, group
/// 224.0.0.81, port 8848 and TTL 1, and reports those values in a dump.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    pub state: SyncState,
    pub interface: String,
    pub sync_id: u8,
    /// Largest sync message payload (`--sync-maxlen`).
    pub sync_maxlen: Option<u16>,
    /// Multicast group, IPv4 or IPv6 (`--mcast-group`).
    pub mcast_group: Option<IpAddr>,
    /// UDP port of the group (`--mcast-port`).
    pub mcast_port: Option<u16>,
    /// TTL (hop limit) of sync messages (`--mcast-ttl`).
    pub mcast_ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for the multicast settings.
    pub fn new(state: SyncState, interface: impl Into<String>, sync_id: u8) -> SyncDaemon {
        SyncDaemon {
            state,
            interface: interface.into(),
            sync_id,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    /// Whether a daemon the kernel reports runs as this one asks: a setting
    /// left to the kernel matches whatever the kernel chose for it.
    pub fn satisfied_by(&self, have: &SyncDaemon) -> bool {
        fn matches<T: PartialEq>(want: &Option<T>, have: &Option<T>) -> bool {
            want.is_none() || want == have
        }
        self.state == have.state
            && self.interface == have.interface
            && self.sync_id == have.sync_id
            && matches(&self.sync_maxlen, &have.sync_maxlen)
            && matches(&self.mcast_group, &have.mcast_group)
            && matches(&self.mcast_port, &have.mcast_port)
            && matches(&self.mcast_ttl, &have.mcast_ttl)
    }
}

/// Everything of IPVS that a director's config sets, or that one kernel dump shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub services: Vec<VirtualService>,
    pub timeouts: Timeouts,
    pub daemons: Vec<SyncDaemon>,
}

impl Table {
    pub fn service(&self, key: &ServiceKey) -> Option<&VirtualService> {
        self.services.iter().find(|vs| vs.service.key == *key)
    }

    pub fn service_mut(&mut self, key: &ServiceKey) -> Option<&mut VirtualService> {
        self.services.iter_mut().find(|vs| vs.service.key == *key)
    }
}
