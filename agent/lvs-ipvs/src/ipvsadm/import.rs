//! Reads ipvsadm rules and replays them, line by line, against a table.
//!
//! Accepted: `ipvsadm-save -n` output; ipvsadm command lines as scripts and
//! blog posts write them (`ipvsadm -A ...`, `/sbin/ipvsadm ...`, `# ipvsadm ...`
//! at a root prompt, `[root@ds1 ~]# ipvsadm ...`), with trailing `#` comments.
//! A line the kernel would refuse given the lines before it (adding what exists,
//! editing what does not) is skipped with a warning, as it failed when the
//! script ran; `strict` makes those errors.

use super::args::Args;
use crate::Endpoint;
use crate::{
    Dest, Family, Forward, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service, ServiceKey, SyncDaemon,
    SyncState, Table, TunnelCsum, TunnelKind, TunnelOptions, VirtualService,
};
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Refuse, rather than skip, lines the kernel would refuse.
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportWarning {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{line}: error: {message}\n  | {text}")]
pub struct ImportError {
    pub line: usize,
    pub text: String,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Imported {
    pub table: Table,
    pub warnings: Vec<ImportWarning>,
}

/// Why one line was not applied.
enum Reject {
    /// The line itself is wrong: always an error.
    Bad(String),
    /// The line is well formed, but the kernel would refuse it at this point.
    Refused(String),
}

type Step = Result<Option<String>, Reject>;

fn bad<T>(message: impl Into<String>) -> Result<T, Reject> {
    Err(Reject::Bad(message.into()))
}

fn refused<T>(message: impl Into<String>) -> Result<T, Reject> {
    Err(Reject::Refused(message.into()))
}

pub fn import(input: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut out = Imported::default();
    for (i, text) in input.lines().enumerate() {
        let line = i + 1;
        let error = |message: String| ImportError { line, text: text.trim().to_string(), message };
        let words = match ipvsadm_words(text) {
            Words::None => continue,
            Words::Other(cmd) => {
                let message = format!("skipped: `{cmd}` is not an ipvsadm command");
                if options.strict {
                    return Err(error(message));
                }
                out.warnings.push(ImportWarning { line, message });
                continue;
            }
            Words::Bad(message) => return Err(error(message)),
            Words::Ipvsadm(words) => words,
        };
        let args = Args::parse_words(&words).map_err(|e| error(e.to_string()))?;
        match apply(&mut out.table, &args) {
            Ok(None) => {}
            Ok(Some(note)) => out.warnings.push(ImportWarning { line, message: note }),
            Err(Reject::Bad(message)) => return Err(error(message)),
            Err(Reject::Refused(message)) if options.strict => return Err(error(message)),
            Err(Reject::Refused(message)) => {
                out.warnings.push(ImportWarning { line, message: format!("skipped: {message}") })
            }
        }
    }
    Ok(out)
}

enum Words {
    /// Blank, or a comment.
    None,
    /// Some other command (`echo ...`, `yum ...`).
    Other(String),
    Bad(String),
    Ipvsadm(Vec<String>),
}

/// The ipvsadm arguments of a line, without prompt, program name or redirection.
fn ipvsadm_words(text: &str) -> Words {
    let mut s = text.trim();
    let mut behind_hash = false;
    if s.starts_with('[') {
        // A shell prompt such as `[root@ds1 ~]# `.
        if let Some(i) = s.find("]#").or_else(|| s.find("]$")) {
            s = s[i + 2..].trim_start();
        }
    } else if let Some(rest) = s.strip_prefix('#').or_else(|| s.strip_prefix('$')) {
        // `# ipvsadm ...` is a root prompt in a how-to; `# text` is a comment.
        s = rest.trim_start();
        behind_hash = true;
    }
    let Some(mut words) = shlex::split(s) else {
        return Words::Bad("unbalanced quotes".to_string());
    };
    if words.first().is_some_and(|w| w == "sudo") {
        words.remove(0);
    }
    let Some(first) = words.first().cloned() else { return Words::None };
    let program = first.rsplit('/').next().unwrap_or(&first);
    let args = if program == "ipvsadm" {
        words.split_off(1)
    } else if program.starts_with("ipvsadm-") {
        // ipvsadm-save and ipvsadm-restore read or write the table as a whole.
        return Words::None;
    } else if first.starts_with('-') && !behind_hash {
        words
    } else if behind_hash {
        return Words::None;
    } else {
        return Words::Other(s.to_string());
    };
    let args: Vec<String> = args
        .into_iter()
        .take_while(|w| !(w.starts_with('>') || w.starts_with('|') || w.starts_with("2>") || w == "&&" || w == ";"))
        .collect();
    if let Some(var) = args.iter().find(|w| w.contains('$')) {
        return Words::Bad(format!(
            "`{var}` is a shell variable; replace it with its value (import reads rules, it runs no shell)"
        ));
    }
    Words::Ipvsadm(args)
}

fn apply(table: &mut Table, a: &Args) -> Step {
    if a.add_service || a.edit_service {
        let service = service(a)?;
        let key = service.key;
        return match (table.service_mut(&key), a.add_service) {
            (Some(_), true) => refused(format!("service {key} already exists")),
            (None, false) => refused(format!("no such service {key}")),
            (Some(vs), false) => {
                vs.service = service;
                Ok(None)
            }
            (None, true) => {
                table.services.push(VirtualService { service, dests: Vec::new() });
                Ok(None)
            }
        };
    }
    if a.delete_service {
        let key = key(a)?;
        let before = table.services.len();
        table.services.retain(|vs| vs.service.key != key);
        return if table.services.len() == before { refused(format!("no such service {key}")) } else { Ok(None) };
    }
    if a.clear {
        let n = table.services.len();
        table.services.clear();
        return Ok((n > 0).then(|| format!("-C removes the {n} service(s) defined before it")));
    }
    if a.add_server || a.edit_server || a.delete_server {
        return dest_command(table, a);
    }
    if let Some(values) = &a.set {
        let t = &mut table.timeouts;
        for (slot, v) in [&mut t.tcp, &mut t.tcp_fin, &mut t.udp].into_iter().zip(values) {
            if *v > 86400 * 31 {
                return bad(format!("timeout {v} is above ipvsadm's 31 days"));
            }
            // 0 leaves a timeout as it is, as in ipvsadm.
            if *v != 0 {
                *slot = *v;
            }
        }
        return Ok(None);
    }
    if let Some(state) = &a.start_daemon {
        let state = sync_state(state)?;
        if table.daemons.iter().any(|d| d.state == state) {
            return refused(format!("a {} sync daemon is already running", state.name()));
        }
        let mcast_group = match &a.mcast_group {
            None => None,
            Some(text) => match text.parse::<IpAddr>() {
                Ok(g) if g.is_multicast() => Some(g),
                Ok(g) => return bad(format!("--mcast-group {g} is not a multicast address")),
                Err(_) => return bad(format!("--mcast-group `{text}` is not an IP address")),
            },
        };
        table.daemons.push(SyncDaemon {
            sync_maxlen: a.sync_maxlen,
            mcast_group,
            mcast_port: a.mcast_port,
            mcast_ttl: a.mcast_ttl,
            ..SyncDaemon::new(
                state,
                a.mcast_interface.clone().unwrap_or_else(|| "eth0".to_string()),
                a.syncid.unwrap_or(0),
            )
        });
        return Ok(None);
    }
    if let Some(state) = &a.stop_daemon {
        let state = sync_state(state)?;
        let before = table.daemons.len();
        table.daemons.retain(|d| d.state != state);
        return if table.daemons.len() == before {
            refused(format!("no {} sync daemon runs", state.name()))
        } else {
            Ok(None)
        };
    }
    // -L, -S, -Z, -R, -h, -v: they read, zero counters or print; the rules stay as they are.
    Ok(None)
}

fn sync_state(s: &str) -> Result<SyncState, Reject> {
    match s {
        "master" => Ok(SyncState::Master),
        "backup" => Ok(SyncState::Backup),
        other => bad(format!("sync daemon state `{other}` is not master or backup")),
    }
}

fn key(a: &Args) -> Result<ServiceKey, Reject> {
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

fn endpoint(text: &str) -> Result<Endpoint, Reject> {
    text.parse::<Endpoint>().or_else(|_| {
        bad(format!(
            "`{text}` is not a numeric address[:port]; save rules with `ipvsadm-save -n` so that names are not looked up"
        ))
    })
}

fn service(a: &Args) -> Result<Service, Reject> {
    let key = key(a)?;
    let family = key.family();
    let mut s = Service::new(key);
    if let Some(name) = &a.scheduler {
        s.scheduler = name.parse::<Scheduler>().or_else(|e| bad(e.to_string()))?;
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
    Ok(s)
}

fn dest_command(table: &mut Table, a: &Args) -> Step {
    let key = key(a)?;
    let Some(text) = &a.real_server else {
        return bad("a real-server command needs -r address[:port]");
    };
    let ep = endpoint(text)?;
    let Some(vs) = table.service_mut(&key) else {
        return refused(format!("service {key} is not defined"));
    };
    let vport = key.port();
    let mut addr = ep.with_default_port(vport.unwrap_or(0));
    let mut note = None;
    if a.delete_server {
        let before = vs.dests.len();
        vs.dests.retain(|d| d.addr != addr);
        return if vs.dests.len() == before {
            refused(format!("no such real server {addr} in {key}"))
        } else {
            Ok(None)
        };
    }
    let forward = match (a.gatewaying, a.ipip, a.masquerading) {
        (_, false, false) => Forward::DirectRouting,
        (false, true, false) => Forward::Tunnel,
        (false, false, true) => Forward::Nat,
        _ => return bad("give at most one of -g, -i and -m"),
    };
    if let Some(vport) = vport.filter(|p| forward.keeps_port() && *p != addr.port()) {
        // What ipvsadm does: DR and TUN cannot change ports, so it sends the service's.
        note = Some(format!(
            "real server {addr} uses {}, which cannot change ports: ipvsadm programs it as port {vport}, and so does this import",
            forward.ipvsadm_option().unwrap_or("-g")
        ));
        addr.set_port(vport);
    }
    if Family::of(&addr.ip()) != key.family() && forward != Forward::Tunnel {
        return bad("a different address family is allowed only for tunneling (-i) real servers");
    }
    let weight = a.weight.unwrap_or(1);
    if !(0..=i64::from(i32::MAX)).contains(&weight) {
        return bad(format!("weight {weight} is outside 0 to 2147483647"));
    }
    let (upper, lower) = (a.u_threshold.unwrap_or(0), a.l_threshold.unwrap_or(0));
    if lower > upper {
        return bad(format!("lower threshold {lower} is above upper threshold {upper} (the kernel answers ERANGE)"));
    }
    let mut dest = Dest::new(addr);
    dest.forward = forward;
    dest.weight = weight as u32;
    dest.upper_threshold = upper;
    dest.lower_threshold = lower;
    dest.tunnel = tunnel(a, forward)?;

    let existing = vs.dests.iter_mut().find(|d| d.addr == addr);
    match (existing, a.add_server) {
        (Some(_), true) => refused(format!("real server {addr} already exists in {key}")),
        (None, false) => refused(format!("no such real server {addr} in {key}")),
        (Some(d), false) => {
            *d = dest;
            Ok(note)
        }
        (None, true) => {
            vs.dests.push(dest);
            Ok(note)
        }
    }
}

fn tunnel(a: &Args, forward: Forward) -> Result<TunnelOptions, Reject> {
    let csums = [a.tun_nocsum, a.tun_csum, a.tun_remcsum];
    let any = a.tun_type.is_some() || a.tun_port.is_some() || csums.contains(&true);
    if !any {
        return Ok(TunnelOptions::default());
    }
    if forward != Forward::Tunnel {
        return bad("tunnel options conflict with the forwarding method: they need -i");
    }
    let kind = match a.tun_type.as_deref().unwrap_or("ipip") {
        "ipip" => TunnelKind::Ipip,
        "gue" => TunnelKind::Gue,
        "gre" => TunnelKind::Gre,
        other => return bad(format!("tunnel type `{other}` is not ipip, gue or gre")),
    };
    let csum = match csums {
        [_, false, false] => TunnelCsum::NoChecksum,
        [false, true, false] => TunnelCsum::Checksum,
        [false, false, true] => TunnelCsum::RemoteChecksum,
        _ => return bad("give at most one of --tun-nocsum, --tun-csum and --tun-remcsum"),
    };
    let port = a.tun_port.unwrap_or(0);
    match kind {
        TunnelKind::Gue if port == 0 => return bad("a gue tunnel needs --tun-port"),
        TunnelKind::Ipip if port != 0 || csums.contains(&true) => {
            return bad("an ipip tunnel takes no --tun-port and no checksum option")
        }
        TunnelKind::Gre if port != 0 || a.tun_remcsum => {
            return bad("a gre tunnel takes no --tun-port and no --tun-remcsum")
        }
        _ => {}
    }
    Ok(TunnelOptions { kind, port, csum })
}
