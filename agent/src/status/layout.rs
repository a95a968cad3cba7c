//! The text of `ipvsadm -Ln`: version line, column titles, service and destination lines.
//!
//! Widths and precedence are ipvsadm 1.31's `print_title` and
//! `print_service_entry`; trailing blanks are part of its output (the last
//! columns are left-justified and padded), so they are kept.

use super::addr::addr_port;
use super::numbers::largenum;
use super::order;
use super::{Format, Options};
use lvs_ipvs::{
    DestEntry, Family, Forward, Info, PersistMask, SchedFlags, Scheduler, ServiceEntry, ServiceKey, Stats, TunnelCsum,
    TunnelKind, TunnelOptions,
};
use std::fmt::Write;

pub fn version_line(info: &Info) -> String {
    // ipvsadm prints the size with %d.
    format!("IP Virtual Server version {} (size={})\n", info.version_string(), info.conn_tab_size as i32)
}

const PROT_LOCAL: &str = "Prot LocalAddress:Port";
const REMOTE: &str = "  -> RemoteAddress:Port";

/// The two title lines; the first format flag in ipvsadm's order wins.
pub fn title(opts: &Options) -> String {
    let counters = |names: [&str; 5]| {
        let [a, b, c, d, e] = names;
        format!("{PROT_LOCAL:<33} {a:>8} {b:>8} {c:>8} {d:>8} {e:>8}\n{REMOTE}\n")
    };
    match opts.format {
        Format::Stats => counters(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]),
        Format::Rate => counters(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]),
        _ if opts.thresholds => format!(
            "{PROT_LOCAL:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}\n",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        _ if opts.persistent_conn => format!(
            "{PROT_LOCAL:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}\n",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
        _ if opts.tun_info => format!(
            "{PROT_LOCAL} Scheduler Flags\n{REMOTE}           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        ),
        _ => format!("{PROT_LOCAL} Scheduler Flags\n{REMOTE}           Forward Weight ActiveConn InActConn\n"),
    }
}

/// The service's name column: `TCP  192.0.2.1:80`, `FWM  7`, `FWM  7 IPv6`
/// (two blanks after FWM, and the protocol padded to four, as ipvsadm does).
pub fn service_name(key: &ServiceKey) -> String {
    match key {
        // ipvsadm prints the mark with %d.
        ServiceKey::Fwmark { family: Family::Ipv4, mark } => format!("FWM  {}", *mark as i32),
        ServiceKey::Fwmark { family: Family::Ipv6, mark } => format!("FWM  {} IPv6", *mark as i32),
        ServiceKey::Inet { protocol, addr } => {
            // ipvsadm cuts IPv4 names at 33 bytes; none is that long, but keep the rule.
            let mut name = format!("{:<4} {}", protocol.label(), addr_port(addr));
            if addr.is_ipv4() {
                name.truncate(33);
            }
            name
        }
    }
}

/// ipvsadm's `print_sched_flags`: sh and mh name two bits and ignore the
/// third; every other scheduler gets `flag-N` for all three.
pub fn sched_flag_names(scheduler: &Scheduler, flags: &SchedFlags) -> Vec<&'static str> {
    let named = |prefix: &str| -> Vec<&'static str> {
        let (fallback, port) = if prefix == "sh" { ("sh-fallback", "sh-port") } else { ("mh-fallback", "mh-port") };
        [(flags.fallback, fallback), (flags.port, port)]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect()
    };
    match scheduler.name() {
        "sh" => named("sh"),
        "mh" => named("mh"),
        _ => [(flags.fallback, "flag-1"), (flags.port, "flag-2"), (flags.flag3, "flag-3")]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect(),
    }
}

/// `persistent 360`, then ` mask …` unless it is the host mask, as ipvsadm writes it.
fn mask_text(mask: &PersistMask) -> Option<String> {
    match mask {
        PersistMask::V4(m) if m.is_broadcast() => None,
        PersistMask::V4(m) => Some(m.to_string()),
        PersistMask::V6(128) => None,
        PersistMask::V6(len) => Some(len.to_string()),
    }
}

fn counters(out: &mut String, values: [u64; 5], exact: bool) {
    for v in values {
        out.push_str(&largenum(v, exact));
    }
}

fn totals(s: &Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

fn rates(s: &Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// One service line and its destination lines.
pub fn service(out: &mut String, entry: &ServiceEntry, opts: &Options) {
    let svc = &entry.service;
    let name = service_name(&svc.key);
    match opts.format {
        Format::Stats => {
            let _ = write!(out, "{name:<33}");
            counters(out, totals(&entry.stats), opts.exact);
        }
        Format::Rate => {
            let _ = write!(out, "{name:<33}");
            counters(out, rates(&entry.stats), opts.exact);
        }
        _ => {
            let _ = write!(out, "{name} {}", svc.scheduler.name());
            // ipvsadm opens the parentheses for any flag bit, even one it then
            // does not name (bit 3 under sh or mh), leaving "()".
            if !svc.sched_flags.is_empty() {
                let _ = write!(out, " ({})", sched_flag_names(&svc.scheduler, &svc.sched_flags).join(","));
            }
            if let Some(p) = &svc.persistence {
                let _ = write!(out, " persistent {}", p.timeout);
                if let Some(mask) = mask_text(&p.netmask) {
                    let _ = write!(out, " mask {mask}");
                }
                // ipvsadm shows the persistence engine only on persistent services.
                if let Some(pe) = svc.pe.as_deref().filter(|pe| !pe.is_empty()) {
                    let _ = write!(out, " pe {pe}");
                }
            }
            if svc.one_packet {
                out.push_str(" ops");
            }
        }
    }
    out.push('\n');
    for d in order::dests(&entry.dests, opts.nosort) {
        dest(out, d, opts);
    }
}

/// The TunnelInfo column: `ipip`, `gue:PORT:FLAGS`, `gre:FLAGS`, or `n/a`
/// for anything that is not a tunnel.
pub fn tunnel_info(forward: Forward, tunnel: &TunnelOptions) -> String {
    if forward != Forward::Tunnel {
        return "n/a".to_string();
    }
    let csum = match tunnel.csum {
        TunnelCsum::NoChecksum => "-c",
        TunnelCsum::Checksum => "+c",
        TunnelCsum::RemoteChecksum => "r+c",
    };
    match tunnel.kind {
        TunnelKind::Ipip => "ipip".to_string(),
        TunnelKind::Gue => format!("gue:{}:{csum}", tunnel.port),
        TunnelKind::Gre => format!("gre:{csum}"),
    }
}

fn dest(out: &mut String, d: &DestEntry, opts: &Options) {
    let mut name = addr_port(&d.dest.addr);
    // ipvsadm cuts IPv4 names at 28 bytes (none is longer than 21).
    if d.dest.addr.is_ipv4() {
        name.truncate(28);
    }
    let fwd = d.dest.forward.label();
    // ipvsadm prints the weight with %d.
    let weight = d.dest.weight as i32;
    let (active, inactive) = (d.active_conns, d.inactive_conns);
    let _ = match opts.format {
        Format::Stats => {
            let _ = write!(out, "  -> {name:<28}");
            counters(out, totals(&d.stats), opts.exact);
            writeln!(out)
        }
        Format::Rate => {
            // The first three rates are plain %8llu in ipvsadm, never scaled.
            let s = &d.stats;
            let _ = write!(out, "  -> {name:<28} {:>8} {:>8} {:>8}", s.cps, s.inpps, s.outpps);
            out.push_str(&largenum(s.inbps, opts.exact));
            out.push_str(&largenum(s.outbps, opts.exact));
            writeln!(out)
        }
        _ if opts.thresholds => writeln!(
            out,
            "  -> {name:<28} {:<10} {:<10} {active:<10} {inactive:<10}",
            d.dest.upper_threshold, d.dest.lower_threshold
        ),
        _ if opts.persistent_conn => {
            writeln!(out, "  -> {name:<28} {:<9} {:<11} {active:<10} {inactive:<10}", d.dest.weight, d.persistent_conns)
        }
        _ if opts.tun_info => writeln!(
            out,
            "  -> {name:<28} {fwd:<7} {:<13} {weight:<6} {active:<10} {inactive:<10}",
            tunnel_info(d.dest.forward, &d.dest.tunnel)
        ),
        _ => writeln!(out, "  -> {name:<28} {fwd:<7} {weight:<6} {active:<10} {inactive:<10}"),
    };
}
