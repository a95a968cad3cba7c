//! One change to the kernel's IPVS table: what the planner produces and an
//! [`Ipvs`](super::Ipvs) implementation applies, in order.

use super::{Dest, Service, ServiceKey, SyncDaemon, SyncState, Timeouts};
use std::fmt;
use std::net::SocketAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Set the connection timeouts; a 0 field leaves that timeout as it is.
    SetTimeouts(Timeouts),
    AddService(Service),
    /// Replace scheduler, flags, persistence and PE of an existing service (same key).
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    /// Change weight, method, thresholds or tunnel settings of an existing destination
    /// (same address): connections through it are kept.
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, SocketAddr),
    StartDaemon(SyncDaemon),
    StopDaemon(SyncState),
}

impl Change {
    /// The object the change is about, as `ipvsadm -Ln` names it, for error messages.
    pub fn object(&self) -> String {
        match self {
            Change::SetTimeouts(_) => "timeouts".to_string(),
            Change::AddService(s) | Change::EditService(s) => format!("service {}", s.key),
            Change::DelService(k) => format!("service {k}"),
            Change::AddDest(k, d) | Change::EditDest(k, d) => format!("real server {} of service {k}", d.addr),
            Change::DelDest(k, a) => format!("real server {a} of service {k}"),
            Change::StartDaemon(d) => format!("{} sync daemon", d.state.name()),
            Change::StopDaemon(s) => format!("{} sync daemon", s.name()),
        }
    }

    /// What the change does, as a verb for messages: "add", "edit", "delete", "set".
    pub fn verb(&self) -> &'static str {
        match self {
            Change::SetTimeouts(_) => "set",
            Change::AddService(_) | Change::AddDest(..) | Change::StartDaemon(_) => "add",
            Change::EditService(_) | Change::EditDest(..) => "edit",
            Change::DelService(_) | Change::DelDest(..) | Change::StopDaemon(_) => "delete",
        }
    }
}

fn service_settings(s: &Service) -> String {
    let mut out = format!("scheduler {}", s.scheduler);
    let flags = s.sched_flags.ipvsadm_names(&s.scheduler);
    if !flags.is_empty() {
        out += &format!(" flags {}", flags.join(","));
    }
    if let Some(p) = &s.persistence {
        out += &format!(" persistent {}s mask {}", p.timeout, p.netmask);
    }
    if s.one_packet {
        out += " one-packet";
    }
    if let Some(pe) = &s.pe {
        out += &format!(" pe {pe}");
    }
    out
}

fn dest_settings(d: &Dest) -> String {
    let mut out = format!("{} weight {}", d.forward.label(), d.weight);
    if d.upper_threshold != 0 || d.lower_threshold != 0 {
        out += &format!(" thresholds {}..{}", d.lower_threshold, d.upper_threshold);
    }
    if d.forward == super::Forward::Tunnel {
        out += &format!(" tunnel {}", d.tunnel.kind.name());
        if d.tunnel.port != 0 {
            out += &format!(":{}", d.tunnel.port);
        }
        if d.tunnel.csum != super::TunnelCsum::NoChecksum {
            out += &format!(" {}", d.tunnel.csum.ipvsadm_option().trim_start_matches('-'));
        }
    }
    out
}

impl fmt::Display for Change {
    /// One line of a diff: `+` adds, `~` edits, `-` deletes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::SetTimeouts(t) => write!(f, "~ timeouts tcp {} tcpfin {} udp {}", t.tcp, t.tcp_fin, t.udp),
            Change::AddService(s) => write!(f, "+ {} {}", s.key, service_settings(s)),
            Change::EditService(s) => write!(f, "~ {} {}", s.key, service_settings(s)),
            Change::DelService(k) => write!(f, "- {k}"),
            Change::AddDest(k, d) => write!(f, "+ {k} -> {} {}", d.addr, dest_settings(d)),
            Change::EditDest(k, d) => write!(f, "~ {k} -> {} {}", d.addr, dest_settings(d)),
            Change::DelDest(k, a) => write!(f, "- {k} -> {a}"),
            Change::StartDaemon(d) => {
                write!(f, "+ sync daemon {} on {} id {}", d.state.name(), d.interface, d.sync_id)?;
                if let Some(len) = d.sync_maxlen {
                    write!(f, " maxlen {len}")?;
                }
                if let Some(group) = d.mcast_group {
                    write!(f, " group {group}")?;
                }
                if let Some(port) = d.mcast_port {
                    write!(f, " port {port}")?;
                }
                if let Some(ttl) = d.mcast_ttl {
                    write!(f, " ttl {ttl}")?;
                }
                Ok(())
            }
            Change::StopDaemon(s) => write!(f, "- sync daemon {}", s.name()),
        }
    }
}
