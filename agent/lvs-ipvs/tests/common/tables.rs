//! proptest strategies for IPVS tables: every shape a config can express, with
//! lab addresses only.

use lvs_ipvs::*;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub fn ip(v6: bool) -> BoxedStrategy<IpAddr> {
    if v6 {
        any::<u16>().prop_map(|n| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n.max(1)))).boxed()
    } else {
        (0u8..3, 1u8..255)
            .prop_map(|(net, host)| {
                let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]][net as usize];
                IpAddr::V4(Ipv4Addr::new(nets[0], nets[1], nets[2], host))
            })
            .boxed()
    }
}

pub fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)], any::<bool>(), 1u16..)
            .prop_flat_map(|(protocol, v6, port)| ip(v6)
                .prop_map(move |a| ServiceKey::Inet { protocol, addr: SocketAddr::new(a, port) })),
        (any::<bool>(), 1u32..)
            .prop_map(|(v6, mark)| ServiceKey::Fwmark { family: if v6 { Family::Ipv6 } else { Family::Ipv4 }, mark }),
    ]
}

pub fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        proptest::sample::select(Scheduler::KNOWN.to_vec()),
        any::<(bool, bool, bool)>(),
        proptest::option::of((1u32..=86400 * 31, 1u8..=32, any::<bool>())),
        any::<bool>(),
    )
        .prop_map(|(key, scheduler, (fallback, port, flag3), persistence, one_packet)| {
            let family = key.family();
            let persistence = persistence.map(|(timeout, prefix, _)| Persistence {
                timeout,
                netmask: match family {
                    Family::Ipv4 => PersistMask::V4(Ipv4Addr::from(u32::MAX << (32 - u32::from(prefix)))),
                    Family::Ipv6 => PersistMask::V6(prefix * 4),
                },
            });
            let pe_ok = matches!(key, ServiceKey::Inet { protocol: Protocol::Udp, .. });
            Service {
                one_packet: one_packet
                    && matches!(key, ServiceKey::Inet { protocol: Protocol::Udp, .. } | ServiceKey::Fwmark { .. }),
                pe: (pe_ok && persistence.is_some()).then(|| "sip".to_string()),
                key,
                scheduler,
                sched_flags: SchedFlags { fallback, port, flag3 },
                persistence,
            }
        })
}

pub fn dest(key: ServiceKey) -> impl Strategy<Value = Dest> {
    (
        prop_oneof![Just(Forward::Nat), Just(Forward::DirectRouting), Just(Forward::Tunnel)],
        any::<bool>(),
        any::<u16>(),
        0u32..=i32::MAX as u32,
        0u32..1000,
        0u32..1000,
        0u8..3,
        1u16..,
        0u8..3,
    )
        .prop_flat_map(move |(forward, other_family, port, weight, a, b, kind, tun_port, csum)| {
            let v6 = (key.family() == Family::Ipv6) != (other_family && forward == Forward::Tunnel);
            ip(v6).prop_map(move |addr| {
                let port = match key.port() {
                    Some(vport) if forward.keeps_port() => vport,
                    _ => port,
                };
                let mut d = Dest::new(SocketAddr::new(addr, port));
                d.forward = forward;
                d.weight = weight;
                d.upper_threshold = a.max(b);
                d.lower_threshold = a.min(b);
                if forward == Forward::Tunnel {
                    d.tunnel = match kind {
                        0 => TunnelOptions::default(),
                        1 => TunnelOptions {
                            kind: TunnelKind::Gue,
                            port: tun_port,
                            csum: [TunnelCsum::NoChecksum, TunnelCsum::Checksum, TunnelCsum::RemoteChecksum]
                                [csum as usize],
                        },
                        _ => TunnelOptions {
                            kind: TunnelKind::Gre,
                            port: 0,
                            csum: [TunnelCsum::NoChecksum, TunnelCsum::Checksum][csum as usize % 2],
                        },
                    };
                }
                d
            })
        })
}

pub fn virtual_service() -> impl Strategy<Value = VirtualService> {
    service().prop_flat_map(|service| {
        proptest::collection::vec(dest(service.key), 0..5).prop_map(move |mut dests| {
            let mut seen = std::collections::HashSet::new();
            dests.retain(|d| seen.insert(d.addr));
            VirtualService { service: service.clone(), dests }
        })
    })
}

/// A multicast group: administratively scoped IPv4 (239/8) or IPv6 (ff05::/16).
fn mcast_group() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| IpAddr::V4(Ipv4Addr::new(239, a, b, c))),
        any::<u16>().prop_map(|n| IpAddr::V6(Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, n))),
    ]
}

/// A daemon as a config can ask for it: multicast settings each set or left
/// to the kernel, within what the kernel keeps unchanged.
pub fn daemon(state: SyncState) -> impl Strategy<Value = SyncDaemon> {
    (
        "[a-z]{1,6}[0-9]",
        any::<u8>(),
        proptest::option::of(1024u16..=65487),
        proptest::option::of(mcast_group()),
        proptest::option::of(1u16..),
        proptest::option::of(1u8..),
    )
        .prop_map(move |(interface, sync_id, sync_maxlen, mcast_group, mcast_port, mcast_ttl)| SyncDaemon {
            sync_maxlen,
            mcast_group,
            mcast_port,
            mcast_ttl,
            ..SyncDaemon::new(state, interface, sync_id)
        })
}

/// Whether a real server's family differs from its service's: the kernel runs
/// no sync daemon then.
pub fn has_mixed_family(t: &Table) -> bool {
    t.services.iter().any(|vs| vs.dests.iter().any(|d| Family::of(&d.addr.ip()) != vs.service.key.family()))
}

pub fn table() -> impl Strategy<Value = Table> {
    (
        proptest::collection::vec(virtual_service(), 0..6),
        (0u32..=86400 * 31, 0u32..=86400 * 31, 0u32..=86400 * 31),
        proptest::option::of(daemon(SyncState::Master)),
        proptest::option::of(daemon(SyncState::Backup)),
    )
        .prop_map(|(mut services, (tcp, tcp_fin, udp), master, backup)| {
            let mut seen = std::collections::HashSet::new();
            services.retain(|vs| seen.insert(vs.service.key));
            let daemons: Vec<SyncDaemon> = master.into_iter().chain(backup).collect();
            let mut t = Table { services, timeouts: Timeouts { tcp, tcp_fin, udp }, daemons };
            if has_mixed_family(&t) {
                t.daemons.clear();
            }
            t
        })
}
