//! The sysctls an appliance wants, from the config model alone. Pure.

use lvs_config::model::{Appliance, Role};
use std::fmt;

/// One kernel setting, as the path components under /proc/sys. Components,
/// not a dotted name: an interface name may hold dots (eth0.100), and
/// `net.ipv4.conf.eth0.100.rp_filter` would read as two directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub key: Vec<String>,
    pub value: String,
}

/// The sysctl(8) spelling: dots between components, and a dot inside a
/// component written as '/' (`net.ipv4.conf.eth0/100.arp_ignore`).
pub fn display_name(key: &[String]) -> String {
    key.iter().map(|c| c.replace('.', "/")).collect::<Vec<_>>().join(".")
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", display_name(&self.key), self.value)
    }
}

fn setting(parts: &[&str], value: impl ToString) -> Setting {
    Setting { key: parts.iter().map(|p| p.to_string()).collect(), value: value.to_string() }
}

/// In the order they are written. On a real server ARP suppression comes
/// first: it must be in place before the network setup puts the VIP on lo.
pub fn desired(appliance: &Appliance) -> Vec<Setting> {
    let mut out = Vec::new();
    match &appliance.role {
        Role::Director(d) => {
            out.push(setting(&["net", "ipv4", "ip_forward"], u8::from(d.ip_forward)));
            for (name, value) in &d.ipvs_sysctls {
                out.push(setting(&["net", "ipv4", "vs", name], value));
            }
        }
        Role::RealServer(rs) => {
            for iface in &rs.arp.interfaces {
                out.push(setting(&["net", "ipv4", "conf", iface, "arp_ignore"], rs.arp.ignore));
                out.push(setting(&["net", "ipv4", "conf", iface, "arp_announce"], rs.arp.announce));
            }
            if let Some((value, interfaces)) = &rs.rp_filter {
                for iface in interfaces {
                    out.push(setting(&["net", "ipv4", "conf", iface, "rp_filter"], value));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let model = lvs_config::parse(text, std::path::Path::new("t.ron")).expect("valid").model;
        desired(&model).iter().map(Setting::to_string).collect()
    }

    #[test]
    fn director_writes_ip_forward_and_only_the_ipvs_knobs_it_sets() {
        assert_eq!(names("Appliance(role: Director())"), ["net.ipv4.ip_forward = 1"]);
        assert_eq!(
            names("Appliance(role: Director(ip_forward: false, ipvs_sysctls: IpvsSysctls(conntrack: true, sloppy_tcp: false)))"),
            ["net.ipv4.ip_forward = 0", "net.ipv4.vs.conntrack = 1", "net.ipv4.vs.sloppy_tcp = 0"]
        );
    }

    #[test]
    fn conn_reuse_mode_is_written_as_its_number() {
        assert_eq!(
            names("Appliance(role: Director(ipvs_sysctls: IpvsSysctls(conn_reuse_mode: 2, sloppy_tcp: true)))"),
            ["net.ipv4.ip_forward = 1", "net.ipv4.vs.conn_reuse_mode = 2", "net.ipv4.vs.sloppy_tcp = 1"]
        );
        assert_eq!(
            names("Appliance(role: Director(ipvs_sysctls: IpvsSysctls(conn_reuse_mode: 0)))"),
            ["net.ipv4.ip_forward = 1", "net.ipv4.vs.conn_reuse_mode = 0"]
        );
    }

    #[test]
    fn health_checks_turn_expire_nodest_conn_on_unless_the_config_says() {
        let checked = |knobs: &str| {
            names(&format!(
                r#"Appliance(role: Director(ipvs_sysctls: IpvsSysctls({knobs}), services: [Service(address: "192.0.2.80:80",
                    health: Tcp(), real_servers: [RealServer(address: "192.0.2.21:80")])]))"#
            ))
        };
        assert_eq!(checked(""), ["net.ipv4.ip_forward = 1", "net.ipv4.vs.expire_nodest_conn = 1"]);
        assert_eq!(
            checked("expire_nodest_conn: false"),
            ["net.ipv4.ip_forward = 1", "net.ipv4.vs.expire_nodest_conn = 0"]
        );
        let unchecked = names(
            r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21:80")])]))"#,
        );
        assert_eq!(unchecked, ["net.ipv4.ip_forward = 1"]);
    }

    #[test]
    fn dr_real_server_suppresses_arp_on_lo_and_all() {
        assert_eq!(
            names(r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"]))"#),
            [
                "net.ipv4.conf.lo.arp_ignore = 1",
                "net.ipv4.conf.lo.arp_announce = 2",
                "net.ipv4.conf.all.arp_ignore = 1",
                "net.ipv4.conf.all.arp_announce = 2",
            ]
        );
    }

    #[test]
    fn tunnel_real_server_relaxes_rp_filter_on_tunl0_and_all() {
        assert_eq!(
            names(r#"Appliance(role: RealServer(mode: Tunnel, vips: ["192.0.2.10"], rp_filter: 2))"#),
            [
                "net.ipv4.conf.tunl0.arp_ignore = 1",
                "net.ipv4.conf.tunl0.arp_announce = 2",
                "net.ipv4.conf.all.arp_ignore = 1",
                "net.ipv4.conf.all.arp_announce = 2",
                "net.ipv4.conf.tunl0.rp_filter = 2",
                "net.ipv4.conf.all.rp_filter = 2",
            ]
        );
    }

    #[test]
    fn nat_real_server_leaves_arp_alone_and_dotted_names_stay_one_component() {
        assert!(names(r#"Appliance(role: RealServer(mode: Nat, gateway: "192.0.2.2"))"#).is_empty());
        let dotted = names(
            r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.10"], arp: Arp(ignore: 1, announce: 2, interfaces: ["eth0.100"])))"#,
        );
        assert_eq!(dotted, ["net.ipv4.conf.eth0/100.arp_ignore = 1", "net.ipv4.conf.eth0/100.arp_announce = 2"]);
    }
}
