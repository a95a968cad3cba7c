//! `make run`'s config: the user's CONFIG with the management API reachable
//! from the host. The VM gets one NIC, on qemu's user-mode network, which
//! the guest calls eth0; the API listens on an address of a documentation
//! /24 the config does not use, added to eth0, and qemu forwards a port of
//! the host's 127.0.0.1 to it ([`crate::lab::UserNet`]). Everything else in
//! the config is left as it is.

use std::net::{Ipv4Addr, SocketAddrV4};

use lvs_config::file::{Appliance, Interface, Management};

/// The API's port in the guest.
pub const GUEST_PORT: u16 = 9443;
/// The guest's host part on the chosen /24 (slirp keeps .2 and .3).
const GUEST_HOST: u8 = 10;
/// Where the pki is in the guest: the config partition's pki/ (what
/// `lvs-image build --pki` writes), or, booted without a disk, the same
/// path in the initramfs.
pub const GUEST_PKI: &str = "/config/pki";
/// The NIC the guest sees first.
pub const NIC: &str = "eth0";

/// What [`derive`] made.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The config text to build the image from.
    pub text: String,
    /// The user-mode network's base (x.y.z.0/24).
    pub net: Ipv4Addr,
    /// The API's address in the guest.
    pub guest: SocketAddrV4,
    /// Where the guest reads the pki.
    pub pki: String,
    /// How many NICs the VM gets: eth0 on the user-mode network, and one
    /// more (on a hub of its own, which leads nowhere) for each `ethN` the
    /// config names up to the highest, so that a config written for a
    /// machine with eth2 finds it. The agent configures no network while an
    /// interface the config names is missing, and the API's address on eth0
    /// would be missing with it.
    pub nics: usize,
}

/// One more than the highest `N` of the `ethN` names `raw` uses; at least 1 (eth0).
fn nics(raw: &Appliance) -> usize {
    let mut names: Vec<&str> = raw.interfaces.iter().map(|i| i.name.as_str()).collect();
    names.extend(raw.routes.iter().filter_map(|r| r.interface.as_deref()));
    if let lvs_config::file::Role::Director(d) = &raw.role {
        names.extend(d.vips.iter().map(|v| v.interface.as_str()));
    }
    let highest = names.iter().filter_map(|n| n.strip_prefix("eth")?.parse::<usize>().ok()).max();
    highest.map_or(1, |n| n.saturating_add(1)).max(1)
}

/// `raw` (the config `source` names, whose text is `text`) with the API on
/// eth0's added address.
pub fn derive(mut raw: Appliance, text: &str, source: &str) -> Result<RunConfig, String> {
    let nets = [Ipv4Addr::new(203, 0, 113, 0), Ipv4Addr::new(198, 51, 100, 0), Ipv4Addr::new(192, 0, 2, 0)];
    let net = nets
        .into_iter()
        .find(|n| {
            let o = n.octets();
            !text.contains(&format!("{}.{}.{}.", o[0], o[1], o[2]))
        })
        .ok_or_else(|| format!("{source} uses all of 203.0.113.0/24, 198.51.100.0/24 and 192.0.2.0/24; make run needs one free for the management network"))?;
    let o = net.octets();
    let ip = Ipv4Addr::new(o[0], o[1], o[2], GUEST_HOST);
    let guest = SocketAddrV4::new(ip, GUEST_PORT);
    let cidr = format!("{ip}/24").parse().map_err(|e| format!("{e}"))?;
    match raw.interfaces.iter_mut().find(|i| i.name == NIC) {
        Some(eth0) => eth0.addresses.push(cidr),
        None => raw.interfaces.insert(0, Interface { name: NIC.to_string(), addresses: vec![cidr], mtu: None }),
    }
    let management = raw.management.get_or_insert(Management { listen: Vec::new(), pki: None });
    management.listen.push(guest.to_string());
    let pki = management.pki.get_or_insert_with(|| GUEST_PKI.into()).display().to_string();
    let header = format!(
        "// Written by make run from {source}: the same config, with the management API on {guest}\n\
         // ({NIC}, qemu's user-mode network {net}/24, forwarded from the host's 127.0.0.1).\n\
         // Edit {source}, not this file.\n"
    );
    let nics = nics(&raw);
    Ok(RunConfig { text: header + &lvs_config::to_ron(&raw), net, guest, pki, nics })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn example(name: &str) -> lvs_config::Loaded {
        lvs_config::load(&crate::repo_root().join("examples").join(name)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_default_example_gets_eth0_and_management_and_still_validates() {
        let loaded = example("001-dr-wrr-director.ron");
        let run = derive(loaded.raw.clone(), &loaded.text, "examples/001-dr-wrr-director.ron").unwrap();
        assert_eq!(run.guest.to_string(), "203.0.113.10:9443");
        assert_eq!(run.pki, "/config/pki");
        let again = lvs_config::parse(&run.text, Path::new("run.ron")).unwrap_or_else(|e| panic!("{e}\n{}", run.text));
        let m = again.model.management.expect("management");
        assert_eq!(m.listen, ["203.0.113.10:9443".parse().unwrap()]);
        assert_eq!(again.model.interfaces[0].name, "eth0");
        // The seed's eth2 is there too: eth0, eth1 and eth2.
        assert_eq!(run.nics, 3);
        // Nothing else changed.
        let mut raw = again.raw.clone();
        raw.management = None;
        raw.interfaces.remove(0);
        assert_eq!(raw, loaded.raw);
    }

    #[test]
    fn every_example_that_validates_still_does_with_management() {
        for path in crate::example_files() {
            let Ok(loaded) = lvs_config::load(&path) else { continue };
            let run = derive(loaded.raw.clone(), &loaded.text, &path.display().to_string()).unwrap();
            if let Err(e) = lvs_config::parse(&run.text, Path::new("run.ron")) {
                panic!("{}: {e}\n{}", path.display(), run.text);
            }
        }
    }

    #[test]
    fn a_network_the_config_uses_is_not_taken() {
        let loaded = example("001-dr-wrr-director.ron");
        let text = format!("{} // 203.0.113.7", loaded.text);
        let run = derive(loaded.raw, &text, "x").unwrap();
        assert_eq!(run.net, Ipv4Addr::new(198, 51, 100, 0));
    }
}
