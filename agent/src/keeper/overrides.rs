//! Weights an operator set at run time (`lvs-agent weight`), over the config's.

use lvs_config::model::Slot;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// A weight in place of the configured one; a down server still gets 0.
    weights: BTreeMap<Slot, u32>,
}

impl Overrides {
    pub fn weight(&self, slot: &Slot) -> Option<u32> {
        self.weights.get(slot).copied()
    }

    /// Sets (Some) or clears (None) one; returns the one it replaces.
    pub fn set(&mut self, slot: Slot, weight: Option<u32>) -> Option<u32> {
        match weight {
            Some(w) => self.weights.insert(slot, w),
            None => self.weights.remove(&slot),
        }
    }

    /// In slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, u32)> + '_ {
        self.weights.iter().map(|(slot, weight)| (*slot, *weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_ipvs::{Protocol, ServiceKey};

    #[test]
    fn overrides_are_set_replaced_and_cleared() {
        let slot = |rs: &str| Slot {
            service: ServiceKey::Inet { protocol: Protocol::Tcp, addr: "192.0.2.80:80".parse().unwrap() },
            real_server: rs.parse().unwrap(),
        };
        let mut o = Overrides::default();
        assert_eq!(o.set(slot("192.0.2.22:80"), Some(2)), None);
        assert_eq!(o.set(slot("192.0.2.21:80"), Some(1)), None);
        assert_eq!(o.set(slot("192.0.2.22:80"), Some(3)), Some(2));
        assert_eq!(o.iter().collect::<Vec<_>>(), [(slot("192.0.2.21:80"), 1), (slot("192.0.2.22:80"), 3)]);
        assert_eq!(o.set(slot("192.0.2.21:80"), None), Some(1));
        assert_eq!(o.set(slot("192.0.2.21:80"), None), None);
        assert_eq!((o.weight(&slot("192.0.2.21:80")), o.weight(&slot("192.0.2.22:80"))), (None, Some(3)));
    }
}
