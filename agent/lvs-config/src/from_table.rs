//! An IPVS table written as a Director config file: what `import ipvsadm` prints.

use super::file::{self, SchedFlag};
use super::values::{Endpoint, Span};
use lvs_ipvs::{Family, Forward, PersistMask, Scheduler, ServiceKey, Table, TunnelOptions, VirtualService};

/// The first lines of an imported file: what ipvsadm rules cannot say.
pub const IMPORT_HEADER: &str = "// Imported from ipvsadm rules by `lvs-agent import ipvsadm`.
// ipvsadm rules say nothing of interfaces, VIP addresses or health checks:
// add `interfaces`, `vips` and `health` before using this file on a director.
";

pub fn director_file(table: &Table) -> file::Appliance {
    let t = &table.timeouts;
    let secs = |s: u32| (s != 0).then(|| Span::from_secs(u64::from(s)));
    file::Appliance {
        hostname: None,
        interfaces: Vec::new(),
        routes: Vec::new(),
        role: file::Role::Director(file::Director {
            vips: Vec::new(),
            ip_forward: true,
            services: table.services.iter().map(service).collect(),
            timeouts: (!t.is_unset()).then(|| file::Timeouts {
                tcp: secs(t.tcp),
                tcp_fin: secs(t.tcp_fin),
                udp: secs(t.udp),
            }),
            sync_daemons: table
                .daemons
                .iter()
                .map(|d| file::SyncDaemon {
                    state: d.state,
                    interface: d.interface.clone(),
                    sync_id: d.sync_id,
                    sync_maxlen: d.sync_maxlen.map(i64::from),
                    mcast_group: d.mcast_group,
                    mcast_port: d.mcast_port.map(i64::from),
                    mcast_ttl: d.mcast_ttl.map(i64::from),
                })
                .collect(),
            own_whole_table: false,
            ipvs_sysctls: file::IpvsSysctls::default(),
        }),
        log_level: file::LogLevel::default(),
        state_dir: None,
        management: None,
    }
}

fn service(vs: &VirtualService) -> file::Service {
    let s = &vs.service;
    let (address, fwmark, family, protocol) = match s.key {
        ServiceKey::Inet { protocol, addr } => (Some(Endpoint::from(addr)), None, None, protocol),
        ServiceKey::Fwmark { family, mark } => {
            (None, Some(mark), (family == Family::Ipv6).then_some(family), lvs_ipvs::Protocol::Tcp)
        }
    };
    let forwarding = common_forward(vs);
    file::Service {
        address,
        fwmark,
        family,
        protocol,
        scheduler: s.scheduler.clone(),
        scheduler_flags: sched_flags(s),
        persistence: s.persistence.map(|p| file::Persistence {
            timeout: Span::from_secs(u64::from(p.timeout)),
            netmask: (p.netmask != PersistMask::host(s.key.family())).then(|| match p.netmask {
                PersistMask::V4(mask) => mask.to_string(),
                PersistMask::V6(prefix) => format!("/{prefix}"),
            }),
            engine: s.pe.as_ref().map(|_| file::PersistenceEngine::Sip),
        }),
        one_packet: s.one_packet,
        forwarding,
        tunnel: None,
        health: file::Health::Off,
        sorry_server: None,
        quorum: None,
        when_down: file::WhenDown::default(),
        initial: file::Initial::default(),
        real_servers: vs
            .dests
            .iter()
            .map(|d| file::RealServer {
                address: Endpoint::from(d.addr),
                weight: i64::from(d.weight),
                forwarding: (writable(d.forward) != forwarding).then_some(writable(d.forward)),
                tunnel: (d.forward == Forward::Tunnel && d.tunnel != TunnelOptions::default()).then(|| file::Tunnel {
                    kind: d.tunnel.kind,
                    port: (d.tunnel.port != 0).then_some(d.tunnel.port),
                    checksum: d.tunnel.csum,
                }),
                upper_threshold: d.upper_threshold,
                lower_threshold: d.lower_threshold,
                health: None,
            })
            .collect(),
    }
}

/// Local is the kernel's own choice for a local address; a config, like
/// ipvsadm, can only ask for direct routing there.
fn writable(f: Forward) -> Forward {
    if f == Forward::Local {
        Forward::DirectRouting
    } else {
        f
    }
}

/// The forwarding most real servers use (the first one's on a tie), so that
/// only the odd ones out carry their own.
fn common_forward(vs: &VirtualService) -> Forward {
    let mut best = (Forward::default(), 0);
    for d in &vs.dests {
        let f = writable(d.forward);
        let n = vs.dests.iter().filter(|x| writable(x.forward) == f).count();
        if n > best.1 {
            best = (f, n);
        }
    }
    best.0
}

fn sched_flags(s: &lvs_ipvs::Service) -> Vec<SchedFlag> {
    let f = s.sched_flags;
    let (fallback, port) = match s.scheduler {
        Scheduler::Sh => (SchedFlag::ShFallback, SchedFlag::ShPort),
        Scheduler::Mh => (SchedFlag::MhFallback, SchedFlag::MhPort),
        _ => (SchedFlag::Flag1, SchedFlag::Flag2),
    };
    [(f.fallback, fallback), (f.port, port), (f.flag3, SchedFlag::Flag3)]
        .into_iter()
        .filter_map(|(set, flag)| set.then_some(flag))
        .collect()
}
