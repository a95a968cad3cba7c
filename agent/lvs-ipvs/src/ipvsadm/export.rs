//! Writes a table as `ipvsadm -R` input, in the layout of `ipvsadm-save -n`
//! (plus `--set` and `--start-daemon` lines, and thresholds, which -S leaves out).

use crate::{Dest, Forward, ServiceKey, Table, TunnelKind, VirtualService};
use std::fmt::{self, Write};

/// Something ipvsadm will not take back as it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportWarning(pub String);

impl fmt::Display for ExportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ipvsadm checks `-w` against 65535 even though the kernel takes up to INT_MAX.
const IPVSADM_MAX_WEIGHT: u32 = 65535;

pub fn export(table: &Table) -> (String, Vec<ExportWarning>) {
    let mut out = String::new();
    let mut warnings = Vec::new();
    let t = &table.timeouts;
    if !t.is_unset() {
        let _ = writeln!(out, "--set {} {} {}", t.tcp, t.tcp_fin, t.udp);
    }
    for vs in &table.services {
        service_lines(&mut out, &mut warnings, vs);
    }
    for d in &table.daemons {
        let _ =
            write!(out, "--start-daemon {} --mcast-interface {} --syncid {}", d.state.name(), d.interface, d.sync_id);
        if let Some(len) = d.sync_maxlen {
            let _ = write!(out, " --sync-maxlen {len}");
        }
        if let Some(group) = d.mcast_group {
            let _ = write!(out, " --mcast-group {group}");
        }
        if let Some(port) = d.mcast_port {
            let _ = write!(out, " --mcast-port {port}");
        }
        if let Some(ttl) = d.mcast_ttl {
            let _ = write!(out, " --mcast-ttl {ttl}");
        }
        out.push('\n');
    }
    (out, warnings)
}

fn key_args(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Inet { protocol, addr } => format!("{} {addr}", protocol.ipvsadm_option()),
        ServiceKey::Fwmark { family, mark } => match family {
            crate::Family::Ipv4 => format!("-f {mark}"),
            crate::Family::Ipv6 => format!("-f {mark} -6"),
        },
    }
}

fn service_lines(out: &mut String, warnings: &mut Vec<ExportWarning>, vs: &VirtualService) {
    let s = &vs.service;
    let key = key_args(&s.key);
    let _ = write!(out, "-A {key} -s {}", s.scheduler);
    if let Some(p) = &s.persistence {
        let _ = write!(out, " -p {}", p.timeout);
        if p.netmask != crate::PersistMask::host(s.key.family()) {
            let _ = write!(out, " -M {}", p.netmask);
        }
    }
    if let Some(pe) = &s.pe {
        let _ = write!(out, " --pe {pe}");
    }
    if s.one_packet {
        out.push_str(" -o");
    }
    if !s.sched_flags.is_empty() {
        let _ = write!(out, " -b {}", s.sched_flags.ipvsadm_names(&s.scheduler).join(","));
    }
    out.push('\n');
    for d in &vs.dests {
        dest_line(out, &key, d);
        if d.weight > IPVSADM_MAX_WEIGHT {
            warnings.push(ExportWarning(format!(
                "real server {} of {} has weight {}: the kernel takes it, but ipvsadm -R refuses weights above {IPVSADM_MAX_WEIGHT}",
                d.addr, s.key, d.weight
            )));
        }
        if d.forward == Forward::Local {
            warnings.push(ExportWarning(format!(
                "real server {} of {} is a local address (forwarding Local); ipvsadm writes it as -g and the kernel picks Local again",
                d.addr, s.key
            )));
        }
    }
}

fn dest_line(out: &mut String, key: &str, d: &Dest) {
    let method = d.forward.ipvsadm_option().unwrap_or("-g");
    let _ = write!(out, "-a {key} -r {} {method} -w {}", d.addr, d.weight);
    if d.upper_threshold != 0 {
        let _ = write!(out, " -x {}", d.upper_threshold);
    }
    if d.lower_threshold != 0 {
        let _ = write!(out, " -y {}", d.lower_threshold);
    }
    if d.forward == Forward::Tunnel {
        let t = &d.tunnel;
        let _ = write!(out, " --tun-type {}", t.kind.name());
        match t.kind {
            TunnelKind::Ipip => {}
            TunnelKind::Gue => {
                let _ = write!(out, " --tun-port {} {}", t.port, t.csum.ipvsadm_option());
            }
            TunnelKind::Gre => {
                let _ = write!(out, " {}", t.csum.ipvsadm_option());
            }
        }
    }
    out.push('\n');
}
