//! The probe engine's lifecycle as the keeper sees it: started for what the
//! reconciler's watches probe, kept as it is over a reload that probes the
//! same targets (the watches keep their streaks, so the probes go on at their
//! pace), replaced by the next generation when the targets change, stopped
//! with the keeper. Nothing runs when no real server is checked.

use super::queue::ToKeeper;
use super::Msg;
use crate::health::engine::{self, EngineHandle, Options};
use crate::health::target::Target;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

pub struct Probing {
    /// What the running engine probes (empty: none runs).
    targets: Vec<Target>,
    handle: Option<EngineHandle>,
    /// Outcomes carry it; those of an earlier engine are ignored.
    generation: u64,
}

impl Probing {
    pub fn idle() -> Probing {
        Probing { targets: Vec::new(), handle: None, generation: 0 }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Probes `targets` from now on: the running engine goes on when they
    /// are the ones it probes, else it is stopped and the next generation
    /// starts (none when there is nothing to probe). An engine that could not
    /// start is tried again.
    pub fn probe(&mut self, targets: &[Target], full_check: Duration, tx: &SyncSender<Msg>) {
        if self.targets == targets && self.handle.is_some() {
            crate::note!(info, "health: the same {} endpoints probed; their probes go on", targets.len());
            return;
        }
        if self.targets != targets {
            self.stop();
            self.generation += 1;
            self.targets = targets.to_vec();
        }
        if targets.is_empty() {
            return;
        }
        let sink = ToKeeper { tx: tx.clone(), generation: self.generation };
        match engine::start_with(self.targets.clone(), Options { tick: None }, Box::new(sink)) {
            Ok(handle) => {
                crate::note!(info, "health: probing {} endpoints; full check every {full_check:?}", targets.len());
                self.handle = Some(handle);
            }
            Err(e) => crate::note!(error, "health checks not started: {e}"),
        }
    }

    pub fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let s = handle.stop();
            crate::note!(
                info,
                "probes stopped: {} probes, {} skipped slots, {} outcomes dropped, worst lateness {:?}",
                s.probes,
                s.skipped,
                s.dropped,
                s.worst_lateness
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::target::Check;
    use std::net::SocketAddr;

    #[test]
    fn the_engine_goes_on_for_the_same_targets_and_is_replaced_for_others() {
        let (tx, _rx) = super::super::queue::queue();
        // Loopback ports nothing listens on, probed once an hour: the test needs no answer.
        let target = |port| Target {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            check: Check::Tcp,
            interval: Duration::from_secs(3600),
            timeout: Duration::from_secs(1),
        };
        let mut probing = Probing::idle();
        probing.probe(&[target(9)], Duration::from_secs(1), &tx);
        assert_eq!(probing.generation(), 1);
        assert!(probing.handle.is_some());
        probing.probe(&[target(9)], Duration::from_secs(1), &tx);
        assert_eq!(probing.generation(), 1, "the same targets: the same engine");
        probing.probe(&[target(9), target(10)], Duration::from_secs(1), &tx);
        assert_eq!(probing.generation(), 2, "other targets: the next engine");
        assert!(probing.handle.is_some());
        probing.probe(&[], Duration::from_secs(1), &tx);
        assert_eq!((probing.generation(), probing.handle.is_none()), (3, true), "nothing to probe: no engine");
        probing.stop();
    }
}
