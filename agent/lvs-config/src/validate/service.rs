//! One virtual service: its key, scheduling, persistence, tunnel and check
//! (its real and sorry servers are in `servers`).

use super::{address, health, servers, whole_seconds, Findings, MaxSeconds};
use crate::file::{self, SchedFlag};
use crate::model::{Interface, Quorum, ServiceSpec};
use crate::path::Path;
use crate::values::Endpoint;
use lvs_ipvs::{
    Family, Forward, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service, ServiceKey, TunnelCsum,
    TunnelKind, TunnelOptions,
};
use std::net::SocketAddr;

/// ipvsadm's ceiling for the persistence timeout: 31 days. The kernel keeps
/// it in jiffies in an unsigned int, which holds 31 days at HZ=1000.
const MAX_PERSISTENCE: MaxSeconds = MaxSeconds { secs: 86400 * 31, said: "31 days, as ipvsadm" };

pub fn service(f: &mut Findings, at: &Path, s: &file::Service, interfaces: &[Interface]) -> Option<ServiceSpec> {
    let key = key(f, at, s)?;
    let family = key.family();

    let sched_flags = sched_flags(f, at, &s.scheduler, &s.scheduler_flags);
    let persistence = s.persistence.as_ref().map(|p| persistence(f, &at.field("persistence"), p, family));
    if s.one_packet && !matches!(key, ServiceKey::Inet { protocol: Protocol::Udp, .. } | ServiceKey::Fwmark { .. }) {
        f.error(
            at.field("one_packet"),
            format!("one-packet scheduling is set on {key}"),
            "one-packet scheduling is for UDP (or fwmark) services only, as in ipvsadm: remove it or use protocol: Udp",
        );
    }
    if let ServiceKey::Inet { addr, .. } = key {
        if addr.port() == 0 && persistence.is_none() {
            f.error(
                at.field("address"),
                format!("service {key} has port 0 but is not persistent"),
                "give the port (\"192.0.2.1:80\"), or add `persistence` to balance all ports of the address",
            );
        }
    }
    let pe = s.persistence.as_ref().and_then(|p| p.engine).map(|engine| {
        if !matches!(key, ServiceKey::Inet { protocol: Protocol::Udp, .. }) {
            f.warning(
                at.field("persistence").field("engine"),
                format!("the sip persistence engine is set on {key}"),
                "sip reads Call-IDs from SIP over UDP; on other services it keeps nothing together",
            );
        }
        match engine {
            file::PersistenceEngine::Sip => "sip".to_string(),
        }
    });

    let service_tunnel = s.tunnel.as_ref().map(|t| tunnel(f, &at.field("tunnel"), t));
    let health = health::health(f, &at.field("health"), &s.health);

    let servers =
        servers::Servers { at, key: &key, service: s, tunnel: service_tunnel, health: health.as_ref(), interfaces };
    let (real_servers, seen) = servers.real_servers(f);
    if s.tunnel.is_some() && !real_servers.iter().any(|r| r.dest.forward == Forward::Tunnel) {
        f.error(
            at.field("tunnel"),
            format!("service {key} has tunnel settings but no real server forwards by Tunnel"),
            "set `forwarding: Tunnel`, or remove the tunnel settings",
        );
    }
    if s.real_servers.is_empty() {
        f.warning(
            at.field("real_servers"),
            format!("service {key} has no real servers"),
            "clients will get no answer until real servers are added",
        );
    }

    let sorry_server = servers.sorry_server(f, &seen);

    let quorum = s.quorum.as_ref().map(|q| {
        if q.min_weight == 0 {
            f.error(
                at.field("quorum").field("min_weight"),
                "a quorum of weight 0 is always met",
                "give the least total weight of healthy real servers the service needs, e.g. 1",
            );
        }
        Quorum { min_weight: q.min_weight, hysteresis: q.hysteresis }
    });

    let checked = real_servers.iter().any(|r| r.health.is_some());
    if checked && s.when_down == file::WhenDown::Quiesce {
        health::quiesce_keeps_hash_share(f, at, &key, s, sched_flags);
    }
    if !checked {
        let unused = [
            ("when_down", s.when_down != file::WhenDown::default()),
            ("initial", s.initial != file::Initial::default()),
        ];
        for (name, _) in unused.iter().filter(|(_, set)| *set) {
            f.warning(
                at.field(name),
                format!("`{name}` is set on {key}, but none of its real servers is checked"),
                "add `health: Tcp()` (or Http, Udp) to the service or its real servers, or remove the field",
            );
        }
    }

    Some(ServiceSpec {
        service: Service {
            key,
            scheduler: s.scheduler.clone(),
            sched_flags,
            persistence,
            one_packet: s.one_packet,
            pe,
        },
        real_servers,
        sorry_server,
        quorum,
        when_down: s.when_down,
        initial: s.initial,
    })
}

fn key(f: &mut Findings, at: &Path, s: &file::Service) -> Option<ServiceKey> {
    match (&s.address, s.fwmark) {
        (Some(_), Some(_)) | (None, None) => {
            f.error(
                at.clone(),
                "a service needs either `address` or `fwmark`, not both and not neither",
                "write `address: \"192.0.2.1:80\"` for an address service, or `fwmark: 1` for a firewall-mark service",
            );
            None
        }
        (Some(addr), None) => {
            if s.family.is_some() {
                f.error(
                    at.field("family"),
                    "`family` is only for fwmark services",
                    "remove it: the family of an address service is the family of its address",
                );
            }
            let Some(port) = addr.port else {
                f.error(
                    at.field("address"),
                    format!("service address {addr} has no port"),
                    format!(
                        "write the port, e.g. \"{}\" (port 0 with `persistence` balances every port)",
                        Endpoint { port: Some(80), ..*addr }
                    ),
                );
                return None;
            };
            if let Some(why) = address::not_one_host(addr.ip) {
                f.error(
                    at.field("address"),
                    format!("service address {} is {why}, not the address of one host", addr.ip),
                    "a service listens on one unicast address, a VIP: write it, e.g. \"192.0.2.80:80\" \
                     (to balance traffic to many addresses, mark it in the firewall and use a fwmark service)",
                );
            }
            Some(ServiceKey::Inet { protocol: s.protocol, addr: SocketAddr::new(addr.ip, port) })
        }
        (None, Some(0)) => {
            f.error(at.field("fwmark"), "fwmark 0 marks no packet", "use the mark your firewall sets, 1 to 4294967295");
            None
        }
        (None, Some(mark)) => Some(ServiceKey::Fwmark { family: s.family.unwrap_or_default(), mark }),
    }
}

fn sched_flags(f: &mut Findings, at: &Path, scheduler: &Scheduler, list: &[SchedFlag]) -> SchedFlags {
    let mut flags = SchedFlags::default();
    for (i, flag) in list.iter().enumerate() {
        let needs = match flag {
            SchedFlag::ShFallback | SchedFlag::ShPort => Some(Scheduler::Sh),
            SchedFlag::MhFallback | SchedFlag::MhPort => Some(Scheduler::Mh),
            _ => None,
        };
        if let Some(needs) = needs {
            if needs != *scheduler {
                f.error(
                    at.field("scheduler_flags").index(i),
                    format!("scheduler flag {flag:?} is for the {needs} scheduler, but this service uses {scheduler}"),
                    format!("set `scheduler: {needs:?}`, or remove the flag"),
                );
            }
        }
        match flag {
            SchedFlag::ShFallback | SchedFlag::MhFallback | SchedFlag::Flag1 => flags.fallback = true,
            SchedFlag::ShPort | SchedFlag::MhPort | SchedFlag::Flag2 => flags.port = true,
            SchedFlag::Flag3 => flags.flag3 = true,
        }
    }
    flags
}

fn persistence(f: &mut Findings, at: &Path, p: &file::Persistence, family: Family) -> Persistence {
    let timeout = whole_seconds(f, at.field("timeout"), "persistence timeout", &p.timeout, MAX_PERSISTENCE);
    let netmask = match &p.netmask {
        None => PersistMask::host(family),
        Some(text) => PersistMask::parse(text, family).unwrap_or_else(|why| {
            f.error(
                at.field("netmask"),
                format!("persistence {why}"),
                match family {
                    Family::Ipv4 => {
                        "write a contiguous IPv4 netmask such as \"255.255.255.0\", or a prefix such as \"/24\""
                    }
                    Family::Ipv6 => "write an IPv6 prefix length from 1 to 128, such as \"/64\"",
                },
            );
            PersistMask::host(family)
        }),
    };
    Persistence { timeout, netmask }
}

pub(super) fn tunnel(f: &mut Findings, at: &Path, t: &file::Tunnel) -> TunnelOptions {
    match (t.kind, t.port) {
        (TunnelKind::Gue, None) => f.error(
            at.field("kind"),
            "a GUE tunnel needs the UDP port the real server decapsulates on",
            "add `port: 6080` (or the port your real servers listen on for GUE)",
        ),
        (TunnelKind::Gue, Some(0)) => {
            f.error(at.field("port"), "GUE port 0", "use the real servers' GUE port, 1 to 65535")
        }
        (TunnelKind::Ipip | TunnelKind::Gre, Some(_)) => f.error(
            at.field("port"),
            format!("a {} tunnel has no port", t.kind.name()),
            "remove `port`: only GUE runs over UDP",
        ),
        _ => {}
    }
    if t.kind == TunnelKind::Ipip && t.checksum != TunnelCsum::NoChecksum {
        f.error(
            at.field("checksum"),
            "an ipip tunnel has no checksum option",
            "remove `checksum`, or use kind: Gue or Gre",
        );
    }
    if t.kind == TunnelKind::Gre && t.checksum == TunnelCsum::RemoteChecksum {
        f.error(at.field("checksum"), "GRE has no remote checksum offload", "use NoChecksum or Checksum, or kind: Gue");
    }
    TunnelOptions { kind: t.kind, port: t.port.unwrap_or(0), csum: t.checksum }
}
