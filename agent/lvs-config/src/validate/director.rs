//! The director role: VIPs, services, timeouts, sync daemons.

use super::{address, network, service, whole_seconds, Findings, MaxSeconds};
use crate::file;
use crate::model::{Director, Interface, Vip};
use crate::path::Path;
use lvs_ipvs::{Family, Forward, SyncDaemon, SyncState, Timeouts};
use std::collections::HashMap;
use std::net::IpAddr;

/// The kernel refuses a timeout over INT_MAX / HZ seconds (EINVAL,
/// ip_vs_set_timeout), since it keeps it in jiffies in an int; at HZ=1000,
/// the most a kernel is built with, that is 2147483 s, about 24.8 days.
/// ipvsadm's own ceiling, 31 days, is over it.
const MAX_TIMEOUT: MaxSeconds =
    MaxSeconds { secs: i32::MAX as u64 / 1000, said: "about 24.8 days: the most every kernel takes, at any HZ" };

pub fn director(f: &mut Findings, path: &Path, d: &file::Director, interfaces: &[Interface]) -> Director {
    let vips = vips(f, &path.field("vips"), &d.vips, interfaces);

    let mut services = Vec::new();
    let mut seen = HashMap::new();
    for (i, s) in d.services.iter().enumerate() {
        let at = path.field("services").index(i);
        let Some(spec) = service::service(f, &at, s, interfaces) else { continue };
        let key = spec.service.key;
        if let Some(first) = seen.insert(key, i) {
            f.error(
                at,
                format!("service {key} is defined twice (first as services[{first}])"),
                "merge the two into one service: the kernel keys services by protocol, address and port (or fwmark)",
            );
            continue;
        }
        let uses_nat = spec.real_servers.iter().any(|r| r.dest.forward == Forward::Nat);
        if uses_nat && !d.ip_forward {
            f.warning(
                path.field("ip_forward"),
                format!("service {key} forwards by NAT, but ip_forward is off"),
                "NAT replies are routed through the director: set `ip_forward: true` (the default)",
            );
        }
        services.push(spec);
    }

    if d.services.is_empty() {
        f.warning(
            path.field("services"),
            "this director has no services",
            "add services, or it will only hold its VIPs and forward nothing",
        );
    }

    let timeouts = d
        .timeouts
        .as_ref()
        .map(|t| {
            let at = path.field("timeouts");
            let mut secs = |field: &'static str, span: &Option<_>| {
                span.as_ref().map(|s| whole_seconds(f, at.field(field), field, s, MAX_TIMEOUT)).unwrap_or(0)
            };
            Timeouts { tcp: secs("tcp", &t.tcp), tcp_fin: secs("tcp_fin", &t.tcp_fin), udp: secs("udp", &t.udp) }
        })
        .unwrap_or_default();

    let mut sync_daemons: Vec<SyncDaemon> = Vec::new();
    for (i, s) in d.sync_daemons.iter().enumerate() {
        let at = path.field("sync_daemons").index(i);
        network::check_interface_name(f, at.field("interface"), &s.interface);
        if sync_daemons.iter().any(|x| x.state == s.state) {
            f.error(
                at.field("state"),
                format!("a {} sync daemon is listed twice", s.state.name()),
                "the kernel runs at most one master and one backup daemon",
            );
        }
        sync_daemons.push(sync_daemon(f, &at, s));
    }
    if let Some(mixed) = mixed_family(&services).filter(|_| !sync_daemons.is_empty()) {
        f.error(
            path.field("sync_daemons"),
            format!("the kernel starts no sync daemon while a service has a real server of another address family ({mixed})"),
            "the sync protocol cannot carry such connections: drop the sync daemons, or that real server",
        );
    }

    Director {
        vips,
        ip_forward: d.ip_forward,
        timeouts,
        sync_daemons,
        own_whole_table: d.own_whole_table,
        ipvs_sysctls: ipvs_sysctls(f, &path.field("ipvs_sysctls"), &with_health_defaults(&d.ipvs_sysctls, &services)),
        services,
    }
}

/// One sync daemon, with the multicast settings checked against what the
/// kernel keeps as given: a value it would change (start_sync_thread clamps
/// maxlen, takes 0 for its default) would make every apply restart the daemon.
fn sync_daemon(f: &mut Findings, at: &Path, s: &file::SyncDaemon) -> SyncDaemon {
    let v6 = matches!(s.mcast_group, Some(IpAddr::V6(_)));
    // Payload limits: a backup takes no less than 1024; IP and UDP headers
    // (28 bytes, 48 over IPv6) come out of a 65535-byte datagram.
    let min_len = if s.state == SyncState::Backup { 1024 } else { 1 };
    let max_len = 65535 - if v6 { 48 } else { 28 };
    let mut number = |field: &'static str, value: Option<i64>, min: i64, max: i64, help: &str| {
        let v = value?;
        if (min..=max).contains(&v) {
            return u16::try_from(v).ok();
        }
        let whose = if field == "sync_maxlen" { format!(" for a {} daemon", s.state.name()) } else { String::new() };
        f.error(at.field(field), format!("{field} {v} is outside {min} to {max}{whose}"), help);
        None
    };
    let sync_maxlen = number(
        "sync_maxlen",
        s.sync_maxlen,
        min_len,
        max_len,
        "the kernel would change it to fit: pick a value in range, or leave sync_maxlen out \
         for the interface MTU minus the IP and UDP headers",
    );
    let mcast_port = number("mcast_port", s.mcast_port, 1, 65535, "leave mcast_port out for the kernel's 8848");
    let mcast_ttl = number("mcast_ttl", s.mcast_ttl, 1, 255, "leave mcast_ttl out for the kernel's 1")
        .and_then(|t| u8::try_from(t).ok());
    if let Some(group) = s.mcast_group {
        if !group.is_multicast() {
            f.error(
                at.field("mcast_group"),
                format!("mcast_group {group} is not a multicast address"),
                "the kernel refuses it (EINVAL): use a group in 224.0.0.0/4 (239.0.0.0/8 is for local use) \
                 or ff00::/8, or leave mcast_group out for 224.0.0.81",
            );
        }
    }
    SyncDaemon {
        sync_maxlen,
        mcast_group: s.mcast_group,
        mcast_port,
        mcast_ttl,
        ..SyncDaemon::new(s.state, s.interface.clone(), s.sync_id)
    }
}

/// The first real server whose address family is not its service's, as
/// `SERVICE -> REAL SERVER`.
fn mixed_family(services: &[crate::model::ServiceSpec]) -> Option<String> {
    services.iter().find_map(|spec| {
        let key = spec.service.key;
        spec.real_servers
            .iter()
            .find(|r| Family::of(&r.dest.addr.ip()) != key.family())
            .map(|r| format!("{key} -> {}", r.dest.addr))
    })
}

/// A health-checked director quiesces a failed real server (weight 0), and
/// the kernel keeps sending a new connection that reuses the client port of
/// an old one (DR keeps closed connections in FIN_WAIT for two minutes) to
/// that old connection's server, dead or not, unless `expire_nodest_conn` is
/// on: then it schedules the connection anew among the servers with weight.
/// Established connections still finish on the quiesced server. So health
/// checks turn it on unless the config says otherwise, as keepalived users
/// are told to.
fn with_health_defaults(s: &file::IpvsSysctls, services: &[crate::model::ServiceSpec]) -> file::IpvsSysctls {
    let checked = services.iter().any(|s| s.real_servers.iter().any(|r| r.health.is_some()));
    let mut s = s.clone();
    if checked && s.expire_nodest_conn.is_none() {
        s.expire_nodest_conn = Some(true);
    }
    s
}

fn vips(f: &mut Findings, path: &Path, list: &[file::Vip], interfaces: &[Interface]) -> Vec<Vip> {
    let mut out: Vec<Vip> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let at = path.index(i);
        network::check_interface_name(f, at.field("interface"), &v.interface);
        if let Some(why) = address::not_one_host(v.address) {
            f.error(
                at.field("address"),
                format!("VIP {} is {why}, not the address of one host", v.address),
                "a VIP is one unicast address that clients connect to: write it, e.g. \"192.0.2.80\"",
            );
        }
        if out.iter().any(|x| x.address == v.address) {
            f.error(
                at.field("address"),
                format!("VIP {} is listed twice", v.address),
                "a VIP is one address on one interface: remove the second entry",
            );
        }
        if !interfaces.iter().any(|x| x.name == v.interface) {
            f.warning(
                at.field("interface"),
                format!("VIP {} goes on `{}`, which `interfaces` does not list", v.address, v.interface),
                "add the interface to `interfaces` with its own address, or check the name",
            );
        } else if !network::on_some_subnet(interfaces, &v.address) {
            f.warning(
                at.field("address"),
                format!("VIP {} is outside the subnet of every interface of this director", v.address),
                "clients and real servers reach a VIP on the director's own subnet; \
                 check the address, or route the VIP to the director upstream",
            );
        }
        out.push(Vip { address: v.address, interface: v.interface.clone() });
    }
    out
}

/// The `net.ipv4.vs.*` names and values the config sets, in a fixed order.
fn ipvs_sysctls(f: &mut Findings, at: &Path, s: &file::IpvsSysctls) -> Vec<(&'static str, u32)> {
    let conn_reuse_mode = s.conn_reuse_mode.and_then(|mode| conn_reuse_mode(f, at.field("conn_reuse_mode"), mode));
    let switches = [
        ("conntrack", s.conntrack),
        ("expire_nodest_conn", s.expire_nodest_conn),
        ("expire_quiescent_template", s.expire_quiescent_template),
        ("sloppy_tcp", s.sloppy_tcp),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.map(|on| (name, u32::from(on))));
    conn_reuse_mode.map(|mode| ("conn_reuse_mode", mode)).into_iter().chain(switches).collect()
}

/// The kernel takes any integer (proc_dointvec) but reads two bits of it
/// (ip_vs_core.c): any bit set reschedules a new connection that reuses a
/// client port when that is safe (its old connection in TIME_WAIT, or with
/// expire_nodest_conn), and bit 2 adds FIN_WAIT, the last state a
/// direct-routing director sees. So only 0 to 3 mean what they say.
fn conn_reuse_mode(f: &mut Findings, at: Path, mode: i64) -> Option<u32> {
    match u32::try_from(mode) {
        Ok(mode) if mode <= 3 => Some(mode),
        _ => {
            f.error(
                at,
                format!("conn_reuse_mode {mode} is outside 0 to 3"),
                "it is a bitmap of two bits: 1 reschedules a new connection that reuses a client port when safe \
                 (the old one in TIME_WAIT, or expire_nodest_conn), 2 also when the old one is in FIN_WAIT \
                 (what a direct-routing director sees last), 0 turns this off; leave it out for the kernel's 1",
            );
            None
        }
    }
}
