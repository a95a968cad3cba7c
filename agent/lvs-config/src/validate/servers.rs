//! The real and sorry servers of one service: their addresses against the
//! service and what the kernel takes, weights, thresholds, tunnels, checks.

use super::health::{self, CheckSpec};
use super::service::tunnel;
use super::{address, Findings};
use crate::file;
use crate::model::{Interface, RealServerSpec};
use crate::path::Path;
use crate::values::Endpoint;
use lvs_ipvs::{Dest, Family, Forward, ServiceKey, TunnelOptions};
use std::collections::HashMap;
use std::net::SocketAddr;

/// The kernel keeps weights in an int.
const MAX_WEIGHT: i64 = i32::MAX as i64;

/// One service as its servers see it.
pub struct Servers<'a> {
    pub at: &'a Path,
    pub key: &'a ServiceKey,
    pub service: &'a file::Service,
    /// The service's tunnel settings, for servers without their own.
    pub tunnel: Option<TunnelOptions>,
    /// The service's check, for servers without their own.
    pub health: Option<&'a CheckSpec>,
    /// The director's interfaces, whose subnets' broadcast addresses are no servers.
    pub interfaces: &'a [Interface],
}

impl Servers<'_> {
    /// The real servers, and where each address is first listed.
    pub fn real_servers(&self, f: &mut Findings) -> (Vec<RealServerSpec>, HashMap<SocketAddr, usize>) {
        let (at, key, s) = (self.at, self.key, self.service);
        let mut real_servers = Vec::new();
        let mut seen: HashMap<SocketAddr, usize> = HashMap::new();
        for (i, r) in s.real_servers.iter().enumerate() {
            let rat = at.field("real_servers").index(i);
            let forward = r.forwarding.unwrap_or(s.forwarding);
            let addr = self.dest_addr(f, &rat.field("address"), &r.address, forward, "real server");
            if let Some(first) = seen.insert(addr, i) {
                f.error(
                    rat.field("address"),
                    format!("real server {addr} is listed twice in {key} (first as real_servers[{first}])"),
                    "the kernel keys real servers by address and port: remove one, or give them different ports",
                );
            }
            let weight = weight(f, &rat.field("weight"), r.weight);
            if r.lower_threshold > r.upper_threshold {
                f.error(
                    rat.field("lower_threshold"),
                    format!("lower_threshold {} is above upper_threshold {}", r.lower_threshold, r.upper_threshold),
                    "the kernel refuses this (ERANGE): the lower threshold must not exceed the upper one, \
                     and needs an upper threshold to be set",
                );
            }
            let tunnel = match &r.tunnel {
                Some(t) => Some(tunnel(f, &rat.field("tunnel"), t)),
                None => self.tunnel,
            };
            if r.tunnel.is_some() && forward != Forward::Tunnel {
                f.error(
                    rat.field("tunnel"),
                    format!("real server {addr} has tunnel settings but forwards by {forward:?}"),
                    "tunnel settings apply to `forwarding: Tunnel` only: remove them or change the forwarding",
                );
            }
            let check = match &r.health {
                Some(h) => health::health(f, &rat.field("health"), h),
                None => self.health.cloned(),
            };
            if let Some(check) = check.as_ref().filter(|c| addr.port() == 0 && !c.has_port()) {
                f.error(
                    rat.field("address"),
                    format!(
                        "real server {addr} has no port, and neither has its {} check: it would probe port 0 \
                         and the server would always be down",
                        check.kind()
                    ),
                    format!(
                        "give the real server a port (\"{}\") or the check one (`health: {}(port: 80)`)",
                        Endpoint { port: Some(80), ..r.address },
                        check.kind_name()
                    ),
                );
            }
            let mut dest = Dest::new(addr);
            dest.forward = forward;
            dest.weight = weight;
            dest.upper_threshold = r.upper_threshold;
            dest.lower_threshold = r.lower_threshold;
            if forward == Forward::Tunnel {
                dest.tunnel = tunnel.unwrap_or_default();
            }
            real_servers.push(RealServerSpec { dest, health: check.map(|c| c.resolve(addr)) });
        }
        (real_servers, seen)
    }

    /// The sorry server, which is none of the real servers.
    pub fn sorry_server(&self, f: &mut Findings, real_servers: &HashMap<SocketAddr, usize>) -> Option<Dest> {
        let (key, s) = (self.key, self.service);
        let sorry = s.sorry_server.as_ref()?;
        let sat = self.at.field("sorry_server");
        let forward = sorry.forwarding.unwrap_or(s.forwarding);
        let addr = self.dest_addr(f, &sat.field("address"), &sorry.address, forward, "sorry server");
        if real_servers.contains_key(&addr) {
            f.error(
                sat.field("address"),
                format!("sorry server {addr} is also a real server of {key}"),
                "a sorry server takes traffic when every real server is down: use another server",
            );
        }
        let mut dest = Dest::new(addr);
        dest.forward = forward;
        if forward == Forward::Tunnel {
            dest.tunnel = self.tunnel.unwrap_or_default();
        }
        Some(dest)
    }

    /// A real or sorry server's socket address, checked against the service
    /// and against what the kernel takes.
    fn dest_addr(&self, f: &mut Findings, at: &Path, addr: &Endpoint, forward: Forward, what: &str) -> SocketAddr {
        let key = self.key;
        let vport = key.port();
        let sa = addr.with_default_port(vport.unwrap_or(0));
        if let Some(why) = address::refused_as_dest(sa.ip(), self.interfaces) {
            f.error(
                at.clone(),
                format!("{what} {} is {why}", sa.ip()),
                format!("the kernel refuses it (EINVAL): write the unicast address the {what} answers on"),
            );
        }
        if matches!(key, ServiceKey::Inet { addr, .. } if *addr == sa) {
            f.error(
                at.clone(),
                format!("{what} {sa} is the address of service {key} itself"),
                format!("packets sent to it would come back to the service: write the {what}'s own address"),
            );
        }
        // NAT may map any port to any port; the others deliver the packet as sent.
        if let Some(vport) = vport.filter(|_| forward.keeps_port()) {
            if sa.port() != vport {
                f.error(
                    at.clone(),
                    format!(
                        "{what} {sa} listens on port {}, but service {key} forwards by {forward:?}, \
                         which cannot change the port",
                        sa.port()
                    ),
                    format!(
                        "{forward:?} forwards the packet as the client sent it, to port {vport}: make the {what} \
                         listen on {vport} and write \"{}\" (or leave the port out), or use `forwarding: Nat` \
                         to map {vport} to {}. ipvsadm accepts this and silently uses port {vport}",
                        Endpoint { port: Some(vport), ..*addr },
                        sa.port()
                    ),
                );
            }
        }
        if Family::of(&sa.ip()) != key.family() && forward != Forward::Tunnel {
            f.error(
                at.clone(),
                format!("{what} {sa} is {}, but service {key} is {}", Family::of(&sa.ip()), key.family()),
                "the kernel mixes address families only for tunnel forwarding: use an address of the \
                 service's family, or `forwarding: Tunnel`",
            );
        }
        sa
    }
}

fn weight(f: &mut Findings, at: &Path, w: i64) -> u32 {
    if !(0..=MAX_WEIGHT).contains(&w) {
        f.error(
            at.clone(),
            format!("weight {w} is outside 0 to {MAX_WEIGHT}"),
            "use 0 (no new connections) up to 2147483647; weights are relative, so small numbers such as 1 to 100 are usual",
        );
    }
    w.clamp(0, MAX_WEIGHT) as u32
}
