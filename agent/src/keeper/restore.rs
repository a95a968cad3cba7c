//! A keeper's start after a reboot or a crash: the table the state file
//! saved is put back, and what the file and the kernel's table say of each
//! real server's health, the operator's weights and each service's quorum is
//! taken up, so that a restarted agent changes nothing that was right.
//! Everything but [`restore_table`] is pure.

use super::carried::Carried;
use crate::health::state::Status;
use crate::state::{now_ms, StateFile};
use lvs_config::model::{Director, Role, Slot};
use lvs_ipvs::{plan, Ipvs, Ownership, ServiceKey, Table};
use std::collections::BTreeMap;

/// Why the table in a state file cannot be put back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SavedTableError {
    #[error(transparent)]
    Invalid(#[from] lvs_config::RawConfigError),
    #[error("the saved table is not a director's")]
    NotDirector,
}

/// The saved health and weights of the services this director still has
/// (matched by their `ipvsadm -Ln` name).
pub fn carried(state: &StateFile, director: &Director) -> Carried {
    let keys: BTreeMap<String, ServiceKey> =
        director.services.iter().map(|s| (s.service.key.to_string(), s.service.key)).collect();
    let slot = |service: &str, real_server| keys.get(service).map(|key| Slot { service: *key, real_server });
    Carried {
        health: state
            .health
            .iter()
            .filter_map(|h| Some((slot(&h.service, h.real_server)?, if h.up { Status::Up } else { Status::Down })))
            .collect(),
        weights: state.weights.iter().filter_map(|w| Some((slot(&w.service, w.real_server)?, w.weight))).collect(),
        quorum: BTreeMap::new(),
    }
}

/// The saved table, validated as the config it is written as.
pub fn table(state: &StateFile) -> Option<Result<Table, SavedTableError>> {
    let raw = state.table.as_ref()?;
    Some(match lvs_config::validate_raw(raw) {
        Ok(model) => match model.role {
            Role::Director(d) => Ok(d.table()),
            Role::RealServer(_) => Err(SavedTableError::NotDirector),
        },
        Err(e) => Err(e.into()),
    })
}

/// Puts back the saved table: the services the config still names made as
/// saved (a service the config dropped while the agent was down is not
/// brought back, since nothing would take it out again), others left alone.
/// After a reboot this is the whole table, moments after boot; after a crash
/// the kernel already has it and nothing is sent. Returns what the kernel
/// now holds for the config's services, when the restore went through.
pub fn restore_table(kernel: &mut dyn Ipvs, state: &StateFile, director: &Director, observed: &Table) -> Option<Table> {
    let mut table = match table(state) {
        None => return None,
        Some(Err(e)) => {
            crate::note!(warn, "state: ignored the saved table ({e}); starting from the config");
            return None;
        }
        Some(Ok(t)) => t,
    };
    table.services.retain(|vs| director.services.iter().any(|s| s.service.key == vs.service.key));
    let age = now_ms().saturating_sub(state.written_at_ms) / 1000;
    let dests: usize = table.services.iter().map(|s| s.dests.len()).sum();
    let changes = plan(&table, observed, Ownership::NamedServices);
    match kernel.apply(&changes) {
        Ok(()) => {
            crate::note!(
                info,
                "state: restored the IPVS table saved {age} s ago: {}, {}, {}",
                count(table.services.len(), "service"),
                count(dests, "real server"),
                count(changes.len(), "change")
            );
            Some(table)
        }
        Err(e) => {
            crate::note!(error, "state: restoring the saved table failed ({e}); going on from the config");
            None
        }
    }
}

/// "1 change", "2 changes".
pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Adopting a table the agent finds in the kernel (it crashed, or was
/// restarted, and the state file does not name the server): a checked real
/// server that has weight there was up, or the earlier agent would have
/// quiesced it. Without this, every such server would lose its traffic until
/// its first probe passes.
pub fn adopt(carried: &mut Carried, checked: impl Iterator<Item = Slot>, observed: &Table) {
    for slot in checked {
        if carried.health.contains_key(&slot) {
            continue;
        }
        let weight = observed
            .services
            .iter()
            .find(|vs| vs.service.key == slot.service)
            .and_then(|vs| vs.dests.iter().find(|d| d.addr == slot.real_server))
            .map(|d| d.weight);
        if weight.is_some_and(|w| w > 0) {
            carried.health.insert(slot, Status::Up);
        }
    }
}

/// The same for each service's quorum state, which the state file does not
/// hold: a service with a sorry server was up if the table in the kernel
/// holds it without its sorry server.
/// Without this, a restart would judge every such service as new, and one
/// inside its hysteresis band would hand its traffic to the sorry server.
pub fn adopt_quorum(carried: &mut Carried, director: &Director, in_kernel: &Table) {
    for spec in &director.services {
        let (Some(sorry), Some(vs)) = (spec.sorry_server, in_kernel.service(&spec.service.key)) else { continue };
        carried.quorum.entry(spec.service.key).or_insert_with(|| !vs.dests.iter().any(|d| d.addr == sorry.addr));
    }
}

#[cfg(test)]
mod tests {
    use super::super::saver::state_file;
    use super::*;
    use crate::state::format::{decode, encode};

    fn director(text: &str) -> Director {
        match lvs_config::parse(text, std::path::Path::new("t.ron")).expect("valid").model.role {
            lvs_config::model::Role::Director(d) => d,
            _ => unreachable!(),
        }
    }

    const TWO: &str = r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80", health: Tcp(),
        real_servers: [RealServer(address: "192.0.2.21:80"), RealServer(address: "192.0.2.22:80", weight: 2)])]))"#;

    fn slot(rs: &str) -> Slot {
        Slot { service: director(TWO).services[0].service.key, real_server: rs.parse().unwrap() }
    }

    #[test]
    fn health_weights_and_table_survive_the_file() {
        let d = director(TWO);
        let carried = Carried {
            health: [(slot("192.0.2.21:80"), Status::Up), (slot("192.0.2.22:80"), Status::Down)].into(),
            weights: [(slot("192.0.2.22:80"), 7)].into(),
            quorum: BTreeMap::new(),
        };
        let mut table = d.table();
        table.services[0].dests[1].weight = 0;
        let state = state_file(5, None, &carried, Some(&table));
        let back = decode(encode(&state).as_bytes()).unwrap();
        assert_eq!(super::carried(&back, &d), carried);
        assert_eq!(super::table(&back), Some(Ok(table)));
    }

    #[test]
    fn services_the_config_no_longer_has_are_dropped() {
        let carried = Carried { health: [(slot("192.0.2.21:80"), Status::Up)].into(), ..Carried::default() };
        let state = state_file(5, None, &carried, None);
        let other = director(
            r#"Appliance(role: Director(services: [Service(address: "192.0.2.81:80", health: Tcp(),
            real_servers: [RealServer(address: "192.0.2.21:80")])]))"#,
        );
        assert_eq!(super::carried(&state, &other), Carried::default());
    }

    #[test]
    fn adopting_counts_a_server_with_weight_in_the_kernel_as_up() {
        let d = director(TWO);
        let mut observed = d.table();
        observed.services[0].dests[1].weight = 0;
        let mut carried = Carried::default();
        adopt(&mut carried, [slot("192.0.2.21:80"), slot("192.0.2.22:80")].into_iter(), &observed);
        assert_eq!(carried.health, [(slot("192.0.2.21:80"), Status::Up)].into());
        // What the state file says wins over the kernel.
        let mut saved = Carried { health: [(slot("192.0.2.21:80"), Status::Down)].into(), ..Carried::default() };
        adopt(&mut saved, [slot("192.0.2.21:80")].into_iter(), &observed);
        assert_eq!(saved.health[&slot("192.0.2.21:80")], Status::Down);
    }

    #[test]
    fn a_service_is_adopted_as_up_unless_its_sorry_server_is_in_the_kernel() {
        let d = director(
            r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80", health: Tcp(),
                sorry_server: SorryServer(address: "192.0.2.30"), real_servers: [RealServer(address: "192.0.2.21")])]))"#,
        );
        let key = d.services[0].service.key;
        let up = d.table();
        let mut down = d.table();
        down.services[0].dests.push(d.services[0].sorry_server.unwrap());
        let empty = Table::default();
        for (in_kernel, expected) in [(&up, Some(true)), (&down, Some(false)), (&empty, None)] {
            let mut carried = Carried::default();
            adopt_quorum(&mut carried, &d, in_kernel);
            assert_eq!(carried.quorum.get(&key).copied(), expected);
        }
        // Without a sorry server the quorum changes nothing in the table, and nothing is adopted.
        let mut carried = Carried::default();
        adopt_quorum(&mut carried, &director(TWO), &director(TWO).table());
        assert_eq!(carried.quorum, BTreeMap::new());
    }
}
