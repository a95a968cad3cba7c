//! The real-server role: VIPs on lo or tunl0, ARP suppression, rp_filter,
//! the NAT gateway, and the built-in HTTP workload.

use super::{address, has_control, network, Findings};
use crate::diagnostic::shown;
use crate::file;
use crate::model::{Arp, HttpContent, RealServer, Route, StaticHttp};
use crate::path::Path;
use lvs_ipvs::Forward;
use std::path::Component;

pub fn real_server(
    f: &mut Findings,
    at: &Path,
    r: &file::RealServerRole,
    hostname: Option<&str>,
    routes: &[Route],
) -> RealServer {
    let mode = r.mode;
    let mode_name = match mode {
        Forward::DirectRouting => "dr",
        Forward::Tunnel => "tun",
        _ => "nat",
    };
    let holds_vip = mode.keeps_port();

    if holds_vip && r.vips.is_empty() {
        f.error(
            at.field("vips"),
            format!("a real server in {mode_name} mode has no VIPs"),
            "list the VIPs it serves: packets arrive addressed to the VIP, and the kernel drops them \
             unless the VIP is a local address (on lo in dr mode, on tunl0 in tun mode)",
        );
    }
    if !holds_vip && !r.vips.is_empty() {
        f.warning(
            at.field("vips"),
            "VIPs are listed in nat mode, where the real server does not hold them",
            "remove them: in NAT the director rewrites the VIP to this server's own address",
        );
    }
    let mut vips = Vec::new();
    for (i, vip) in r.vips.iter().enumerate() {
        if let Some(why) = address::not_one_host(*vip) {
            f.error(
                at.field("vips").index(i),
                format!("VIP {vip} is {why}, not the address of one host"),
                "list the unicast addresses of the services this server answers for, e.g. \"192.0.2.80\"",
            );
        }
        if vips.contains(vip) {
            f.error(at.field("vips").index(i), format!("VIP {vip} is listed twice"), "remove the second one");
        }
        if mode == Forward::Tunnel && vip.is_ipv6() {
            f.error(
                at.field("vips").index(i),
                format!("VIP {vip} is IPv6, but tun mode puts VIPs on tunl0, which carries IPv4 in IPv4 only"),
                "use an IPv4 VIP, or direct routing for an IPv6 service (IPv6 tunnels, ip6tnl0, are not supported)",
            );
        }
        vips.push(*vip);
    }

    let arp = arp(f, at, r, mode, mode_name);

    let rp_filter = match (r.rp_filter, mode) {
        (Some(v), _) if v > 2 => {
            f.error(at.field("rp_filter"), format!("rp_filter {v} is not 0, 1 or 2"), "use 0 (off) or 2 (loose)");
            None
        }
        (v, Forward::Tunnel) => Some((v.unwrap_or(0), vec!["tunl0".to_string(), "all".to_string()])),
        (Some(_), _) => {
            f.warning(
                at.field("rp_filter"),
                format!("rp_filter is set in {mode_name} mode, where it is left as it is"),
                "remove it: only tun mode relaxes rp_filter, for packets decapsulated on tunl0",
            );
            None
        }
        (None, _) => None,
    };

    if mode == Forward::Nat {
        let has_default = routes.iter().any(Route::is_default);
        if r.gateway.is_none() && !has_default {
            f.warning(
                at.clone(),
                "a nat real server has no gateway and no default route",
                "NAT replies must go back through the director: add `gateway: \"<director address>\"`",
            );
        }
    } else if r.gateway.is_some() {
        f.warning(
            at.field("gateway"),
            format!("`gateway` is set in {mode_name} mode, where it is not used"),
            "in dr and tun modes replies go straight to the client: use `routes` for a default route",
        );
    }

    let http = r.http.as_ref().and_then(|h| {
        let hat = at.field("http");
        if h.port == 0 {
            f.error(hat.field("port"), "the HTTP server's port is 0", "use the service's port, e.g. 80");
        }
        let content = match (&h.body, &h.root) {
            (Some(_), Some(_)) => {
                f.error(
                    hat.clone(),
                    "the HTTP server has both `body` and `root`",
                    "keep one: a fixed body, or a folder to serve",
                );
                return None;
            }
            (Some(body), None) => HttpContent::Body(body.clone()),
            (None, Some(root)) => {
                document_root(f, &hat.field("root"), root);
                HttpContent::Root(root.clone())
            }
            (None, None) => HttpContent::Body(format!("{}\n", hostname.unwrap_or("lvs-real-server"))),
        };
        Some(StaticHttp { port: h.port, content })
    });

    RealServer {
        mode,
        vips,
        arp,
        rp_filter,
        gateway: r.gateway,
        http,
        workloads: super::workload::workloads(f, &at.field("workloads"), &r.workloads),
    }
}

/// The folder the built-in server serves: a full path, no `..` in it (the
/// server opens files beneath it and refuses to leave it), no control
/// characters (it is logged).
fn document_root(f: &mut Findings, at: &Path, root: &std::path::Path) {
    let text = root.to_string_lossy();
    let why = if !root.is_absolute() {
        "is not an absolute path"
    } else if root.components().any(|c| c == Component::ParentDir) {
        "has a `..` in it"
    } else if has_control(&text) {
        "holds a control character"
    } else {
        return;
    };
    f.error(
        at.clone(),
        format!("http root `{}` {why}", shown(&text)),
        "write the folder's full path in the image, without `..`, e.g. \"/www\"",
    );
}

fn arp(f: &mut Findings, at: &Path, r: &file::RealServerRole, mode: Forward, mode_name: &str) -> Arp {
    let default_ifaces = match mode {
        Forward::Tunnel => vec!["tunl0".to_string(), "all".to_string()],
        Forward::DirectRouting => vec!["lo".to_string(), "all".to_string()],
        _ => vec!["all".to_string()],
    };
    let Some(a) = &r.arp else {
        let (ignore, announce) = if mode == Forward::Nat { (0, 0) } else { (1, 2) };
        let interfaces = if mode == Forward::Nat { Vec::new() } else { default_ifaces };
        return Arp { ignore, announce, interfaces };
    };
    let aat = at.field("arp");
    if a.ignore > 8 || (4..=7).contains(&a.ignore) {
        f.error(
            aat.field("ignore"),
            format!("arp_ignore {} is not a value the kernel defines", a.ignore),
            "use 0, 1, 2, 3 or 8; 1 is what LVS needs",
        );
    }
    if a.announce > 2 {
        f.error(
            aat.field("announce"),
            format!("arp_announce {} is not 0, 1 or 2", a.announce),
            "use 2, as LVS real servers do",
        );
    }
    let suppressed = a.ignore >= 1 && a.announce >= 1;
    if mode.keeps_port() && !suppressed && !a.handled_elsewhere {
        f.error(
            aat.clone(),
            format!(
                "ARP suppression is off (arp_ignore {}, arp_announce {}) on a {mode_name} real server",
                a.ignore, a.announce
            ),
            "this server holds the VIP, so it would answer ARP for it and take the director's traffic: \
             use ignore: 1 and announce: 2, or add `handled_elsewhere: true` if arptables or static ARP \
             on the router deal with it",
        );
    }
    let interfaces = a.interfaces.clone().unwrap_or(default_ifaces);
    for (i, name) in interfaces.iter().enumerate() {
        if name != "all" && name != "default" {
            network::check_interface_name(f, aat.field("interfaces").index(i), name);
        }
    }
    Arp { ignore: a.ignore, announce: a.announce, interfaces }
}
