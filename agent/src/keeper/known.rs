//! The kernel's table as the reconciler last knew it: a dump, with the changes
//! applied since played onto it. A health transition is planned against this,
//! so that it costs one change and no dump; the full check replaces it with a
//! fresh dump.

use lvs_ipvs::{Change, Table, VirtualService};

/// Plays changes the kernel accepted onto a table, as the kernel did.
pub fn play(table: &mut Table, changes: &[Change]) {
    for change in changes {
        match change {
            Change::SetTimeouts(t) => {
                let set = |have: &mut u32, want: u32| {
                    if want != 0 {
                        *have = want;
                    }
                };
                set(&mut table.timeouts.tcp, t.tcp);
                set(&mut table.timeouts.tcp_fin, t.tcp_fin);
                set(&mut table.timeouts.udp, t.udp);
            }
            Change::AddService(s) => table.services.push(VirtualService { service: s.clone(), dests: Vec::new() }),
            Change::EditService(s) => {
                if let Some(vs) = table.service_mut(&s.key) {
                    vs.service = s.clone();
                }
            }
            Change::DelService(key) => table.services.retain(|vs| vs.service.key != *key),
            Change::AddDest(key, d) | Change::EditDest(key, d) => {
                if let Some(vs) = table.service_mut(key) {
                    match vs.dests.iter_mut().find(|h| h.addr == d.addr) {
                        Some(have) => *have = *d,
                        None => vs.dests.push(*d),
                    }
                }
            }
            Change::DelDest(key, addr) => {
                if let Some(vs) = table.service_mut(key) {
                    vs.dests.retain(|d| d.addr != *addr);
                }
            }
            Change::StartDaemon(d) => table.daemons.push(d.clone()),
            Change::StopDaemon(state) => table.daemons.retain(|d| d.state != *state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_ipvs::{plan, Dest, FakeIpvs, Ipvs, Ownership, Protocol, Service, ServiceKey, Timeouts};

    /// Whatever the planner sends, playing it gives what the fake kernel dumps.
    #[test]
    fn playing_a_plan_gives_what_the_kernel_holds() {
        let key = ServiceKey::Inet { protocol: Protocol::Tcp, addr: "192.0.2.80:80".parse().unwrap() };
        let other = ServiceKey::Inet { protocol: Protocol::Udp, addr: "192.0.2.80:53".parse().unwrap() };
        let dest = |a: &str, w| Dest { weight: w, ..Dest::new(a.parse().unwrap()) };
        let before = Table {
            services: vec![
                VirtualService {
                    service: Service::new(key),
                    dests: vec![dest("192.0.2.21:80", 1), dest("192.0.2.22:80", 1)],
                },
                VirtualService { service: Service::new(other), dests: vec![] },
            ],
            ..Table::default()
        };
        let after = Table {
            services: vec![VirtualService {
                service: Service { scheduler: lvs_ipvs::Scheduler::Rr, ..Service::new(key) },
                dests: vec![dest("192.0.2.21:80", 0), dest("192.0.2.23:80", 4)],
            }],
            timeouts: Timeouts { tcp: 60, tcp_fin: 0, udp: 0 },
            daemons: vec![],
        };
        let mut fake = FakeIpvs::with_table(&before);
        let mut known = fake.dump().unwrap();
        let changes = plan(&after, &known, Ownership::WholeTable);
        fake.apply(&changes).unwrap();
        play(&mut known, &changes);
        assert_eq!(known, fake.dump().unwrap());
    }
}
