//! A NIC on qemu's user-mode network (slirp) whose only use is a port the
//! host forwards into the guest: how a test, or `make run`, reaches a VM's
//! management port on 127.0.0.1 without a tap.
//!
//! `restrict=on` always: the guest can reach nothing through it (not the
//! host, not the outside), only the forwarded ports reach the guest. The
//! network is a documentation /24 (never slirp's default 10.0.2.0/24), and
//! the guest's address on it is set statically by its config; slirp's own
//! addresses take `.2` (gateway) and `.3` (DNS), so the guest uses another.
//! In a lab, qemu runs in the lab's namespace, so the forwarded port is on
//! the namespace's loopback: reach it with `lab.in_netns` or `lab.exec`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use super::client::ensure_lab_address;
use super::error::{LabError, Result};

/// One user-mode network with the ports forwarded into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserNet {
    /// The /24 slirp serves, e.g. 203.0.113.0.
    pub net: Ipv4Addr,
    /// (port on the host's 127.0.0.1, the guest's address and port).
    pub forwards: Vec<(u16, SocketAddrV4)>,
}

impl UserNet {
    /// A user network on `net`/24, a documentation range.
    pub fn new(net: Ipv4Addr) -> Result<UserNet> {
        ensure_lab_address(net.into())?;
        let o = net.octets();
        if o[3] != 0 {
            return Err(spec(format!("{net} is not the base of a /24")));
        }
        Ok(UserNet { net, forwards: Vec::new() })
    }

    /// Forwards 127.0.0.1:`host_port` (on the side qemu runs on) to `guest`,
    /// which must be in this network and not slirp's own .2 or .3.
    pub fn forward(mut self, host_port: u16, guest: SocketAddrV4) -> Result<UserNet> {
        let (n, g) = (self.net.octets(), guest.ip().octets());
        if n[..3] != g[..3] {
            return Err(spec(format!("{guest} is not in {}/24", self.net)));
        }
        if matches!(g[3], 0 | 2 | 3 | 255) {
            return Err(spec(format!("{guest}: .0, .2, .3 and .255 are slirp's own or not a host")));
        }
        self.forwards.push((host_port, guest));
        Ok(self)
    }

    /// qemu's `-netdev` value for this network, as netdev `id`.
    pub fn netdev(&self, id: &str) -> String {
        let mut s = format!("user,id={id},restrict=on,net={}/24", self.net);
        for (port, guest) in &self.forwards {
            s.push_str(&format!(",hostfwd=tcp:127.0.0.1:{port}-{}:{}", guest.ip(), guest.port()));
        }
        s
    }
}

fn spec(message: String) -> LabError {
    LabError::Spec { vm: "-".into(), message }
}

/// `preferred` if nothing listens on 127.0.0.1:`preferred` where this runs,
/// else a port the kernel picks as free. Another process may take it before
/// qemu binds it: qemu then fails at start, naming the port.
pub fn free_port(preferred: u16) -> Result<u16> {
    if preferred != 0 && TcpListener::bind((Ipv4Addr::LOCALHOST, preferred)).is_ok() {
        return Ok(preferred);
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| LabError::io("finding a free port on 127.0.0.1".to_string(), e))?;
    let port = listener.local_addr().map_err(|e| LabError::io("reading a bound port".to_string(), e))?.port();
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restricted_network_in_a_documentation_range_with_its_forwards() {
        let guest: SocketAddrV4 = "203.0.113.10:9443".parse().unwrap();
        let net = UserNet::new(Ipv4Addr::new(203, 0, 113, 0)).unwrap().forward(40000, guest).unwrap();
        assert_eq!(
            net.netdev("n1"),
            "user,id=n1,restrict=on,net=203.0.113.0/24,hostfwd=tcp:127.0.0.1:40000-203.0.113.10:9443"
        );
    }

    #[test]
    fn refuses_slirps_default_network_and_guests_outside_it() {
        assert!(UserNet::new(Ipv4Addr::new(10, 0, 2, 0)).is_err());
        assert!(UserNet::new(Ipv4Addr::new(192, 0, 2, 1)).is_err());
        let net = UserNet::new(Ipv4Addr::new(192, 0, 2, 0)).unwrap();
        assert!(net.clone().forward(1, "198.51.100.10:1".parse().unwrap()).is_err());
        assert!(net.clone().forward(1, "192.0.2.2:1".parse().unwrap()).is_err());
        assert!(net.forward(1, "192.0.2.10:1".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_free_port_is_one_nothing_listens_on() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let other = free_port(port).unwrap();
        assert_ne!(other, port);
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, other)).is_ok());
    }
}
