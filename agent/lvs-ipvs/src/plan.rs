//! The planner: desired table against observed table gives the shortest list of
//! changes that turns one into the other. Pure: no kernel, no clock.
//!
//! Rules, in the order a keepalived or ipvsadm user expects them:
//! - a weight (or method, threshold, tunnel) change is one edit of the destination,
//!   never a delete and an add, which would drop its connections;
//! - changes are ordered adds, edits, deletes, so a service never loses a real
//!   server it should keep, and new capacity arrives before old capacity leaves;
//! - sync daemons stop first and start last: the kernel refuses a real server of
//!   another family while one runs, and a daemon while such a server exists;
//! - destinations the config does not name are removed only from services the
//!   config names; other services are left alone unless the config owns the whole
//!   table.

use super::{Change, Dest, Forward, Service, Table, Timeouts};

/// Which part of the kernel table the desired table speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Only the services the desired table names (and their destinations).
    NamedServices,
    /// Everything: services and sync daemons it does not name are removed.
    WholeTable,
}

pub fn plan(desired: &Table, observed: &Table, owns: Ownership) -> Vec<Change> {
    let mut timeouts = Vec::new();
    let mut add_services = Vec::new();
    let mut edit_services = Vec::new();
    let mut add_dests = Vec::new();
    let mut edit_dests = Vec::new();
    let mut del_dests = Vec::new();
    let mut del_services = Vec::new();
    let mut stop_daemons = Vec::new();
    let mut start_daemons = Vec::new();

    if let Some(t) = timeouts_to_set(&desired.timeouts, &observed.timeouts) {
        timeouts.push(Change::SetTimeouts(t));
    }

    for want in &desired.services {
        let key = want.service.key;
        match observed.service(&key) {
            None => {
                add_services.push(Change::AddService(want.service.clone()));
                add_dests.extend(want.dests.iter().map(|d| Change::AddDest(key, *d)));
            }
            Some(have) => {
                if !same_service(&want.service, &have.service) {
                    edit_services.push(Change::EditService(want.service.clone()));
                }
                for d in &want.dests {
                    match have.dests.iter().find(|h| h.addr == d.addr) {
                        None => add_dests.push(Change::AddDest(key, *d)),
                        Some(h) if !same_dest(d, h) => edit_dests.push(Change::EditDest(key, *d)),
                        Some(_) => {}
                    }
                }
                for h in &have.dests {
                    if !want.dests.iter().any(|d| d.addr == h.addr) {
                        del_dests.push(Change::DelDest(key, h.addr));
                    }
                }
            }
        }
    }
    if owns == Ownership::WholeTable {
        for have in &observed.services {
            if desired.service(&have.service.key).is_none() {
                del_services.push(Change::DelService(have.service.key));
            }
        }
    }

    // A daemon's settings cannot be edited: one with other settings is stopped and started again.
    // The kernel reports every multicast setting, its defaults included: only those set count.
    for want in &desired.daemons {
        match observed.daemons.iter().find(|h| h.state == want.state) {
            Some(h) if want.satisfied_by(h) => {}
            Some(_) => {
                stop_daemons.push(Change::StopDaemon(want.state));
                start_daemons.push(Change::StartDaemon(want.clone()));
            }
            None => start_daemons.push(Change::StartDaemon(want.clone())),
        }
    }
    if owns == Ownership::WholeTable {
        for h in &observed.daemons {
            if !desired.daemons.iter().any(|d| d.state == h.state) {
                stop_daemons.push(Change::StopDaemon(h.state));
            }
        }
    }

    [stop_daemons, timeouts, add_services, edit_services, add_dests, edit_dests, del_dests, del_services, start_daemons]
        .concat()
}

/// The timeouts to send, or None when every one the config sets is already in place.
/// A 0 in the desired table means "leave as it is", and 0 is what is sent for it.
fn timeouts_to_set(want: &Timeouts, have: &Timeouts) -> Option<Timeouts> {
    let pick = |w: u32, h: u32| if w != 0 && w != h { w } else { 0 };
    let t = Timeouts {
        tcp: pick(want.tcp, have.tcp),
        tcp_fin: pick(want.tcp_fin, have.tcp_fin),
        udp: pick(want.udp, have.udp),
    };
    (!t.is_unset()).then_some(t)
}

fn same_service(want: &Service, have: &Service) -> bool {
    want == have
}

/// The kernel turns the method of a destination whose address is local to the
/// director into Local by itself; asking for the configured method again would
/// change nothing, so Local matches whatever was asked for.
pub(crate) fn same_forward(want: Forward, have: Forward) -> bool {
    want == have || have == Forward::Local
}

fn same_dest(want: &Dest, have: &Dest) -> bool {
    same_forward(want.forward, have.forward)
        && want.weight == have.weight
        && want.upper_threshold == have.upper_threshold
        && want.lower_threshold == have.lower_threshold
        // Tunnel settings mean nothing to other methods; a difference there is not worth an edit.
        && (want.forward != Forward::Tunnel || want.tunnel == have.tunnel)
}
