//! `-a`, `-e` and `-d`: one real server of a service, with ipvsadm's rules
//! for forwarding, ports, weights, thresholds and tunnels.

use super::replay::Replay;
use super::service::{endpoint, key};
use super::{bad, refused, Reject, Step};
use crate::ipvsadm::args::Args;
use crate::{Dest, Family, Forward, TunnelCsum, TunnelKind, TunnelOptions};

pub(super) fn dest_command(replay: &mut Replay, line: usize, a: &Args) -> Step {
    let key = key(a)?;
    let Some(text) = &a.real_server else {
        return bad("a real-server command needs -r address[:port]");
    };
    let ep = endpoint(text)?;
    let Some(vs) = replay.service_mut(&key) else {
        return refused(format!("service {key} is not defined"));
    };
    let vport = key.port();
    let mut addr = ep.with_default_port(vport.unwrap_or(0));
    let mut note = None;
    if a.delete_server {
        return if vs.remove_dest(&addr) { Ok(None) } else { refused(format!("no such real server {addr} in {key}")) };
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

    match (vs.dest_mut(&addr), a.add_server) {
        (Some(_), true) => refused(format!("real server {addr} already exists in {key}")),
        (None, false) => refused(format!("no such real server {addr} in {key}")),
        (Some((d, origin)), false) => {
            *d = dest;
            origin.set = line;
            Ok(note)
        }
        (None, true) => {
            vs.add_dest(dest, line);
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
