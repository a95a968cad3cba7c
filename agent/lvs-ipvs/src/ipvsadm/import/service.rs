//! The service a line names (`-t`, `-u`, `--sctp-service`, `-f`), and the
//! settings of `-A` and `-E`.

use super::{bad, Reject};
use crate::ipvsadm::args::Args;
use crate::{Endpoint, Family, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service, ServiceKey};

pub(super) fn key(a: &Args) -> Result<ServiceKey, Reject> {
    let given = [
        a.tcp_service.as_ref().map(|s| (Protocol::Tcp, s)),
        a.udp_service.as_ref().map(|s| (Protocol::Udp, s)),
        a.sctp_service.as_ref().map(|s| (Protocol::Sctp, s)),
    ];
    let inet: Vec<_> = given.into_iter().flatten().collect();
    match (inet.as_slice(), a.fwmark_service) {
        ([(protocol, text)], None) => {
            if a.ipv6 {
                return bad("-6 goes with -f only: an address says its own family");
            }
            let ep = endpoint(text)?;
            Ok(ServiceKey::Inet { protocol: *protocol, addr: ep.with_default_port(0) })
        }
        ([], Some(0)) => bad("fwmark 0 marks no packet; use 1 or more"),
        ([], Some(mark)) => Ok(ServiceKey::Fwmark { family: if a.ipv6 { Family::Ipv6 } else { Family::Ipv4 }, mark }),
        ([], None) => bad("no service given: use -t, -u, --sctp-service or -f"),
        _ => bad("give exactly one of -t, -u, --sctp-service and -f"),
    }
}

pub(super) fn endpoint(text: &str) -> Result<Endpoint, Reject> {
    text.parse::<Endpoint>().or_else(|_| {
        bad(format!(
            "`{text}` is not a numeric address[:port]; save rules with `ipvsadm-save -n` so that names are not looked up"
        ))
    })
}

/// The service `-A` or `-E` sets, and a note on what it ignores.
pub(super) fn service(a: &Args) -> Result<(Service, Option<String>), Reject> {
    let key = key(a)?;
    let family = key.family();
    let mut s = Service::new(key);
    if let Some(name) = &a.scheduler {
        s.scheduler = name.parse::<Scheduler>().or_else(|e| bad(e.to_string()))?;
    }
    let mut note = None;
    if let (Some(m), None) = (&a.netmask, a.persistent) {
        // ipvsadm checks the mask and sends it, but the kernel uses it only for
        // persistence, and ipvsadm-save writes -M only after -p.
        PersistMask::parse(m, family).or_else(|e| bad(e.to_string()))?;
        note = Some(format!(
            "-M {m} without -p is ignored: the mask groups clients for persistence only, so ipvsadm \
             sends it but it does nothing, and ipvsadm-save leaves it out; add -p to make {key} persistent"
        ));
    }
    if let Some(timeout) = a.persistent {
        if !(1..=86400 * 31).contains(&timeout) {
            return bad(format!("persistence timeout {timeout} is outside 1 to 2678400 seconds"));
        }
        let netmask = match &a.netmask {
            Some(m) => PersistMask::parse(m, family).or_else(|e| bad(e.to_string()))?,
            None => PersistMask::host(family),
        };
        s.persistence = Some(Persistence { timeout, netmask });
    }
    if let ServiceKey::Inet { addr, .. } = key {
        if addr.port() == 0 && s.persistence.is_none() {
            return bad("zero port specified for a non-persistent service");
        }
    }
    if let Some(pe) = &a.pe {
        if pe != "sip" {
            return bad(format!("unknown persistence engine `{pe}`; the kernel has sip"));
        }
        if s.persistence.is_none() {
            return bad("--pe needs -p: a persistence engine works on persistence templates");
        }
        s.pe = Some(pe.clone());
    }
    if a.ops {
        if !matches!(key, ServiceKey::Inet { protocol: Protocol::Udp, .. } | ServiceKey::Fwmark { .. }) {
            return bad("one-packet scheduling (-o) is only for UDP virtual services");
        }
        s.one_packet = true;
    }
    if let Some(list) = &a.sched_flags {
        let mut flags = SchedFlags::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            flags.set_by_name(name).or_else(|e| bad(e.to_string()))?;
            let needs = name.split_once('-').map(|(p, _)| p).filter(|p| *p == "sh" || *p == "mh");
            if let Some(prefix) = needs {
                if s.scheduler.name() != prefix {
                    return bad(format!("scheduler flag {name} needs -s {prefix}, not -s {}", s.scheduler));
                }
            }
        }
        s.sched_flags = flags;
    }
    Ok((s, note))
}
