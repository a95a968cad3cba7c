//! Between the state file's terms (services by name, a table as a config) and
//! the reconciler's (slots, statuses, tables). Pure.

use super::format::{SavedConfig, SavedHealth, SavedWeight, StateFile};
use crate::health::reconcile::Carried;
use crate::health::state::Status;
use crate::health::targets::Slot;
use lvs_config::model::Director;
use lvs_ipvs::{ServiceKey, Table};
use std::collections::BTreeMap;

pub fn state_file(
    written_at_ms: u64,
    config: Option<SavedConfig>,
    carried: &Carried,
    table: Option<&Table>,
) -> StateFile {
    StateFile {
        config,
        health: carried
            .health
            .iter()
            .map(|(slot, status)| SavedHealth {
                service: slot.service.to_string(),
                real_server: slot.real_server,
                up: *status == Status::Up,
            })
            .collect(),
        weights: carried
            .weights
            .iter()
            .map(|(slot, weight)| SavedWeight {
                service: slot.service.to_string(),
                real_server: slot.real_server,
                weight: *weight,
            })
            .collect(),
        table: table.map(lvs_config::from_table::director_file),
        ..StateFile::new(written_at_ms)
    }
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
pub fn table(state: &StateFile) -> Option<Result<Table, String>> {
    let raw = state.table.as_ref()?;
    Some(lvs_config::validate_raw(raw).map_err(|e| e.to_string()).and_then(|model| match model.role {
        lvs_config::model::Role::Director(d) => Ok(d.table()),
        lvs_config::model::Role::RealServer(_) => Err("the saved table is not a director's".to_string()),
    }))
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
        // Not entry(): its code for this map costs the static agent a 4 KB
        // page it does not have (docs/ARCHITECTURE.md, "Size").
        #[allow(clippy::map_entry)]
        if !carried.quorum.contains_key(&spec.service.key) {
            carried.quorum.insert(spec.service.key, !vs.dests.iter().any(|d| d.addr == sorry.addr));
        }
    }
}

#[cfg(test)]
mod tests {
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
