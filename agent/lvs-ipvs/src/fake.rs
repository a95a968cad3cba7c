//! An in-memory IPVS that answers like the kernel (ip_vs_ctl.c), errnos included,
//! so that the planner, apply and the probes are tested without one.

use super::{
    ApplyError, Change, Command, DestEntry, Errno, Family, Forward, Info, Ipvs, IpvsError, PersistMask, Scheduler,
    ServiceEntry, ServiceKey, Snapshot, Stats, SyncDaemon, SyncState, Timeouts, TunnelKind,
};
use std::net::{IpAddr, Ipv4Addr};

/// The kernel's default timeouts: tcp 15 min, tcp fin 2 min, udp 5 min.
pub const KERNEL_TIMEOUTS: Timeouts = Timeouts { tcp: 900, tcp_fin: 120, udp: 300 };

#[derive(Clone, Debug)]
pub struct FakeIpvs {
    state: Snapshot,
    /// Scheduler modules the fake kernel can load: every known one but twos, like Debian's 6.1.
    pub schedulers: Vec<String>,
    /// Every change that reached the fake, refused ones included, in order.
    pub sent: Vec<Change>,
    /// How many snapshots were taken.
    pub dumps: usize,
    /// Refuse the change at this index of `sent` with this errno (a fault to inject).
    pub fail_at: Option<(usize, Errno)>,
}

impl Default for FakeIpvs {
    fn default() -> Self {
        FakeIpvs {
            state: Snapshot { info: Info::default(), timeouts: KERNEL_TIMEOUTS, ..Snapshot::default() },
            schedulers: Scheduler::KNOWN
                .iter()
                .filter(|s| **s != Scheduler::Twos)
                .map(|s| s.name().to_string())
                .collect(),
            sent: Vec::new(),
            dumps: 0,
            fail_at: None,
        }
    }
}

impl FakeIpvs {
    pub fn new() -> FakeIpvs {
        FakeIpvs::default()
    }

    /// A fake kernel already holding this table (as if someone had run ipvsadm).
    pub fn with_table(table: &super::Table) -> FakeIpvs {
        let mut fake = FakeIpvs::default();
        for vs in &table.services {
            fake.state.services.push(ServiceEntry {
                service: vs.service.clone(),
                stats: Stats::default(),
                dests: vs.dests.iter().copied().map(DestEntry::new).collect(),
            });
        }
        fake.apply_one(&Change::SetTimeouts(table.timeouts)).expect("timeouts always apply");
        for d in &table.daemons {
            fake.apply_one(&Change::StartDaemon(d.clone())).expect("a table's daemons start");
        }
        fake
    }

    /// Gives counters to tests of status and health.
    pub fn state_mut(&mut self) -> &mut Snapshot {
        &mut self.state
    }

    /// The table as it stands, without counting a dump.
    pub fn state(&self) -> &Snapshot {
        &self.state
    }

    /// One change by the kernel's rules, without recording it in `sent`: what the
    /// netlink-level fake uses, so both fakes refuse exactly alike.
    pub(crate) fn apply_one(&mut self, change: &Change) -> Result<(), Errno> {
        let services = &mut self.state.services;
        match change {
            Change::SetTimeouts(t) => {
                let set = |have: &mut u32, want: u32| {
                    if want != 0 {
                        *have = want;
                    }
                };
                set(&mut self.state.timeouts.tcp, t.tcp);
                set(&mut self.state.timeouts.tcp_fin, t.tcp_fin);
                set(&mut self.state.timeouts.udp, t.udp);
            }
            Change::AddService(s) | Change::EditService(s) => {
                let existing = services.iter().position(|e| e.service.key == s.key);
                match (change, existing) {
                    (Change::AddService(_), Some(_)) => return Err(Errno::EEXIST),
                    (Change::EditService(_), None) => return Err(Errno::ESRCH),
                    _ => {}
                }
                if !self.schedulers.iter().any(|n| n == s.scheduler.name()) {
                    return Err(Errno::ENOENT);
                }
                if s.pe.as_deref().is_some_and(|pe| pe != "sip") {
                    return Err(Errno::ENOENT);
                }
                if let Some(PersistMask::V6(len)) = s.persistence.map(|p| p.netmask) {
                    if !(1..=128).contains(&len) {
                        return Err(Errno::EINVAL);
                    }
                }
                match existing {
                    Some(i) => services[i].service = s.clone(),
                    None => {
                        services.push(ServiceEntry { service: s.clone(), stats: Stats::default(), dests: Vec::new() })
                    }
                }
            }
            Change::DelService(key) => {
                let i = services.iter().position(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                services.remove(i);
            }
            Change::AddDest(key, d) | Change::EditDest(key, d) => {
                let svc = services.iter_mut().find(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                // ip_vs_genl_set_cmd: another family only through a tunnel, and
                // not while a sync daemon runs.
                if Family::of(&d.addr.ip()) != key.family()
                    && (d.forward != Forward::Tunnel || !self.state.daemons.is_empty())
                {
                    return Err(Errno::EINVAL);
                }
                if d.weight > i32::MAX as u32 || d.lower_threshold > d.upper_threshold {
                    return Err(Errno::ERANGE);
                }
                if d.forward == Forward::Tunnel && d.tunnel.kind == TunnelKind::Gue && d.tunnel.port == 0 {
                    return Err(Errno::EINVAL);
                }
                let existing = svc.dests.iter().position(|e| e.dest.addr == d.addr);
                match (change, existing) {
                    (Change::AddDest(..), Some(_)) => return Err(Errno::EEXIST),
                    (Change::EditDest(..), None) => return Err(Errno::ENOENT),
                    (_, Some(i)) => svc.dests[i].dest = *d,
                    (_, None) => svc.dests.push(DestEntry::new(*d)),
                }
            }
            Change::DelDest(key, addr) => {
                let svc = services.iter_mut().find(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                let i = svc.dests.iter().position(|e| e.dest.addr == *addr).ok_or(Errno::ENOENT)?;
                svc.dests.remove(i);
            }
            Change::StartDaemon(d) => {
                let mixed = services
                    .iter()
                    .any(|e| e.dests.iter().any(|x| Family::of(&x.dest.addr.ip()) != e.service.key.family()));
                if mixed || d.mcast_group.is_some_and(|g| !g.is_multicast()) {
                    return Err(Errno::EINVAL);
                }
                if self.state.daemons.iter().any(|h| h.state == d.state) {
                    return Err(Errno::EEXIST);
                }
                self.state.daemons.push(as_started(d));
            }
            Change::StopDaemon(state) => {
                let i = self.state.daemons.iter().position(|h| h.state == *state).ok_or(Errno::ESRCH)?;
                self.state.daemons.remove(i);
            }
        }
        Ok(())
    }
}

impl FakeIpvs {
    /// IPVS_CMD_ZERO and IPVS_CMD_FLUSH by the kernel's rules, as the netlink
    /// client's `zero` and `flush` (and the netlink-level fake) answer them.
    pub(crate) fn command_one(&mut self, command: &Command) -> Result<(), Errno> {
        let services = &mut self.state.services;
        match command {
            Command::Zero(Some(key)) => {
                let svc = services.iter_mut().find(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                zero_service(svc);
            }
            Command::Zero(None) => services.iter_mut().for_each(zero_service),
            Command::Flush => services.clear(),
        }
        Ok(())
    }

    /// `IpvsNetlink::zero`: the counters of one service and its real servers, or of all.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), IpvsError> {
        self.command(Command::Zero(key.copied()))
    }

    /// `IpvsNetlink::flush`: every service goes; timeouts and sync daemons stay.
    pub fn flush(&mut self) -> Result<(), IpvsError> {
        self.command(Command::Flush)
    }

    fn command(&mut self, command: Command) -> Result<(), IpvsError> {
        self.command_one(&command).map_err(|errno| IpvsError::Command { command, errno })
    }
}

/// ip_vs_zero_service: the service's counters and its destinations'. Connection
/// counts are live state, not counters, and stay.
fn zero_service(e: &mut ServiceEntry) {
    e.stats = Stats::default();
    for d in &mut e.dests {
        d.stats = Stats::default();
    }
}

/// A daemon as start_sync_thread keeps it (and a dump then reports it): every
/// multicast setting left out takes the kernel's default, maxlen is clamped.
/// The fake's interfaces all have an MTU of 1500.
fn as_started(d: &SyncDaemon) -> SyncDaemon {
    let group = d.mcast_group.unwrap_or(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81)));
    let headers: u16 = if group.is_ipv6() { 40 + 8 } else { 20 + 8 };
    let min = if d.state == SyncState::Backup { 1024 } else { 1 };
    let maxlen = match d.sync_maxlen {
        Some(len) if len != 0 => len.clamp(min, u16::MAX - headers),
        _ => 1500 - headers,
    };
    SyncDaemon {
        sync_maxlen: Some(maxlen),
        mcast_group: Some(group),
        mcast_port: Some(d.mcast_port.filter(|p| *p != 0).unwrap_or(8848)),
        mcast_ttl: Some(d.mcast_ttl.filter(|t| *t != 0).unwrap_or(1)),
        ..d.clone()
    }
}

impl Ipvs for FakeIpvs {
    fn snapshot(&mut self) -> Result<Snapshot, IpvsError> {
        self.dumps += 1;
        Ok(self.state.clone())
    }

    fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        for (applied, change) in changes.iter().enumerate() {
            let index = self.sent.len();
            self.sent.push(change.clone());
            let result = match self.fail_at {
                Some((at, errno)) if at == index => Err(errno),
                _ => self.apply_one(change),
            };
            if let Err(errno) = result {
                return Err(ApplyError {
                    applied,
                    total: changes.len(),
                    error: IpvsError::Refused { change: Box::new(change.clone()), errno },
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dest, Protocol, Service, Table, VirtualService};

    fn key(port: u16) -> ServiceKey {
        ServiceKey::Inet { protocol: Protocol::Tcp, addr: format!("192.0.2.1:{port}").parse().unwrap() }
    }

    /// Two services with one real server each, every counter at 5.
    fn counted() -> FakeIpvs {
        let services = [80, 443]
            .map(|port| VirtualService {
                service: Service::new(key(port)),
                dests: vec![Dest::new(format!("192.0.2.21:{port}").parse().unwrap())],
            })
            .to_vec();
        let mut fake = FakeIpvs::with_table(&Table { services, ..Table::default() });
        let five = Stats { conns: 5, inpkts: 5, outbytes: 5, ..Stats::default() };
        for e in &mut fake.state_mut().services {
            e.stats = five;
            e.dests[0].stats = five;
            e.dests[0].active_conns = 2;
        }
        fake
    }

    #[test]
    fn zero_clears_the_counters_of_one_service_and_its_real_servers() {
        let mut fake = counted();
        fake.zero(Some(&key(80))).unwrap();
        let s = &fake.state().services;
        assert_eq!((s[0].stats, s[0].dests[0].stats), (Stats::default(), Stats::default()));
        assert_eq!(s[0].dests[0].active_conns, 2, "connections are not counters");
        assert_eq!(s[1].stats.conns, 5, "the other service keeps its counters");
        fake.zero(None).unwrap();
        assert!(fake
            .state()
            .services
            .iter()
            .all(|e| e.stats == Stats::default() && e.dests[0].stats == Stats::default()));
    }

    #[test]
    fn zero_of_an_unknown_service_names_it_and_the_errno() {
        let mut fake = counted();
        let err = fake.zero(Some(&key(8080))).unwrap_err();
        assert!(
            matches!(err, IpvsError::Command { command: Command::Zero(Some(k)), errno: Errno::ESRCH } if k == key(8080))
        );
        assert_eq!(
            err.to_string(),
            "cannot zero the counters of TCP 192.0.2.1:8080: ESRCH (3): the service does not exist"
        );
        assert_eq!(fake.state().services[0].stats.conns, 5, "nothing was zeroed");
    }

    #[test]
    fn flush_removes_every_service_and_keeps_timeouts_and_daemons() {
        let mut fake = counted();
        fake.apply(&[Change::StartDaemon(SyncDaemon::new(SyncState::Master, "eth0", 1))]).unwrap();
        fake.flush().unwrap();
        assert!(fake.state().services.is_empty());
        assert_eq!(fake.state().timeouts, KERNEL_TIMEOUTS);
        assert_eq!(fake.state().daemons.len(), 1);
        fake.flush().unwrap();
    }

    #[test]
    fn a_started_daemon_reports_the_kernels_defaults_for_what_it_left_out() {
        let mut fake = FakeIpvs::new();
        let asked = SyncDaemon {
            mcast_group: Some("ff05::1:2".parse().unwrap()),
            ..SyncDaemon::new(SyncState::Backup, "eth1", 9)
        };
        fake.apply(&[Change::StartDaemon(asked.clone())]).unwrap();
        let have = &fake.state().daemons[0];
        assert_eq!((have.sync_maxlen, have.mcast_port, have.mcast_ttl), (Some(1452), Some(8848), Some(1)));
        assert!(asked.satisfied_by(have));
        let other = SyncDaemon { mcast_port: Some(8849), ..asked };
        assert!(!other.satisfied_by(have));
    }

    #[test]
    fn no_daemon_beside_a_real_server_of_another_family() {
        let mut fake = counted();
        let v6 = Dest { forward: Forward::Tunnel, ..Dest::new("[2001:db8::21]:80".parse().unwrap()) };
        fake.apply(&[Change::AddDest(key(80), v6)]).unwrap();
        let err = fake.apply(&[Change::StartDaemon(SyncDaemon::new(SyncState::Master, "eth0", 1))]).unwrap_err();
        assert!(matches!(err.error, IpvsError::Refused { errno: Errno::EINVAL, .. }), "{err}");
        assert!(err.to_string().contains("another address family"), "{err}");
        fake.apply(&[
            Change::DelDest(key(80), v6.addr),
            Change::StartDaemon(SyncDaemon::new(SyncState::Master, "eth0", 1)),
        ])
        .unwrap();
        let refused = fake.apply(&[Change::AddDest(key(80), v6)]).unwrap_err();
        assert!(matches!(refused.error, IpvsError::Refused { errno: Errno::EINVAL, .. }), "{refused}");
    }
}
