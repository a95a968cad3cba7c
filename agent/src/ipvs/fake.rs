//! An in-memory IPVS that answers like the kernel (ip_vs_ctl.c), errnos included,
//! so that the planner, apply and the probes are tested without one.

use super::{
    ApplyError, Change, DestEntry, Errno, Forward, Info, Ipvs, IpvsError, PersistMask, Scheduler, ServiceEntry,
    Snapshot, Stats, Timeouts, TunnelKind,
};

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
        fake.state.daemons = table.daemons.clone();
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
                    None => services.push(ServiceEntry { service: s.clone(), stats: Stats::default(), dests: Vec::new() }),
                }
            }
            Change::DelService(key) => {
                let i = services.iter().position(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                services.remove(i);
            }
            Change::AddDest(key, d) | Change::EditDest(key, d) => {
                let svc = services.iter_mut().find(|e| e.service.key == *key).ok_or(Errno::ESRCH)?;
                // ip_vs_genl_set_cmd: another family only through a tunnel.
                if super::Family::of(&d.addr.ip()) != key.family() && d.forward != Forward::Tunnel {
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
                if self.state.daemons.iter().any(|h| h.state == d.state) {
                    return Err(Errno::EEXIST);
                }
                self.state.daemons.push(d.clone());
            }
            Change::StopDaemon(state) => {
                let i = self.state.daemons.iter().position(|h| h.state == *state).ok_or(Errno::ESRCH)?;
                self.state.daemons.remove(i);
            }
        }
        Ok(())
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
