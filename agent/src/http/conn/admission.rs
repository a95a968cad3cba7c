//! Who gets a connection slot: at most so many in all and so many per client,
//! so that one address cannot take every slot. The open connections are kept
//! here too, so that stopping can shut every one of them down.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why a connection got no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is taken.
    Full,
    /// This client has all the slots it may have.
    ClientFull,
    /// The server is stopping.
    Stopping,
}

/// The client a connection counts against: its IPv4 address, or the /64 of
/// its IPv6 address (one host gets a whole /64, and could otherwise take a
/// slot per address). An IPv4 client on a dual-stack socket comes as
/// `::ffff:a.b.c.d` and counts as `a.b.c.d`.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// The counting, on its own: how many slots are taken, in all and per client.
#[derive(Debug, Default)]
pub struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

impl Counts {
    /// Takes a slot for `client` if there is one.
    pub fn take(&mut self, client: IpAddr, max_total: usize, max_per_client: usize) -> Result<(), Refusal> {
        let mine = self.per_client.get(&client).copied().unwrap_or(0);
        if mine >= max_per_client {
            return Err(Refusal::ClientFull);
        }
        if self.total >= max_total {
            return Err(Refusal::Full);
        }
        self.total += 1;
        self.per_client.insert(client, mine + 1);
        Ok(())
    }

    /// Gives back a slot `take` gave `client`.
    pub fn give_back(&mut self, client: IpAddr) {
        if let Some(n) = self.per_client.get_mut(&client) {
            *n -= 1;
            self.total -= 1;
            // A client that left takes no memory: the map is as big as the open connections.
            if *n == 0 {
                self.per_client.remove(&client);
            }
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }
}

pub struct Admission {
    max_total: usize,
    max_per_client: usize,
    state: Mutex<State>,
    /// Notified whenever a slot is given back.
    freed: Condvar,
}

#[derive(Default)]
struct State {
    counts: Counts,
    /// The socket of each admitted connection, by slot id.
    open: HashMap<u64, Arc<TcpStream>>,
    next_id: u64,
    stopping: bool,
}

impl Admission {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Admission> {
        Arc::new(Admission { max_total, max_per_client, state: Mutex::default(), freed: Condvar::new() })
    }

    /// A slot for `stream` from `peer`, held until the slot is dropped.
    pub fn admit(self: &Arc<Self>, stream: &Arc<TcpStream>, peer: IpAddr) -> Result<Slot, Refusal> {
        let client = client_of(peer);
        let mut state = self.state();
        if state.stopping {
            return Err(Refusal::Stopping);
        }
        state.counts.take(client, self.max_total, self.max_per_client)?;
        let id = state.next_id;
        state.next_id += 1;
        state.open.insert(id, stream.clone());
        Ok(Slot { admission: self.clone(), client, id })
    }

    /// Refuses from now on and shuts every admitted socket down: a thread
    /// blocked reading or writing one returns at once.
    pub fn shut_all(&self) {
        let mut state = self.state();
        state.stopping = true;
        for stream in state.open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Waits until every slot is given back or `within` has passed; the slots
    /// still taken.
    pub fn wait_all_freed(&self, within: Duration) -> usize {
        let start = Instant::now();
        let mut state = self.state();
        while state.counts.total() > 0 {
            let left = within.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        state.counts.total()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing in here panics while holding the lock; if something did, the counts are still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One taken slot; dropping it gives the slot back.
pub struct Slot {
    admission: Arc<Admission>,
    client: IpAddr,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.admission.state();
        state.counts.give_back(self.client);
        state.open.remove(&self.id);
        drop(state);
        self.admission.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_client_cannot_take_every_slot() {
        let mut c = Counts::default();
        for _ in 0..3 {
            assert_eq!(c.take(ip("127.0.0.2"), 5, 3), Ok(()));
        }
        assert_eq!(c.take(ip("127.0.0.2"), 5, 3), Err(Refusal::ClientFull));
        assert_eq!(c.take(ip("127.0.0.3"), 5, 3), Ok(()));
        assert_eq!(c.take(ip("127.0.0.4"), 5, 3), Ok(()));
        assert_eq!(c.take(ip("127.0.0.5"), 5, 3), Err(Refusal::Full));
        assert_eq!(c.total(), 5);
        c.give_back(ip("127.0.0.2"));
        assert_eq!(c.take(ip("127.0.0.5"), 5, 3), Ok(()), "a slot given back is anyone's");
        assert_eq!(
            c.take(ip("127.0.0.2"), 5, 3),
            Err(Refusal::Full),
            ".2 has two of its three, but all five are taken"
        );
    }

    #[test]
    fn giving_back_forgets_a_client_and_ignores_one_never_seen() {
        let mut c = Counts::default();
        c.take(ip("192.0.2.1"), 2, 2).unwrap();
        c.give_back(ip("192.0.2.1"));
        c.give_back(ip("192.0.2.1"));
        c.give_back(ip("192.0.2.9"));
        assert_eq!(c.total(), 0);
        assert!(c.per_client.is_empty());
        assert_eq!(c.take(ip("192.0.2.1"), 2, 2), Ok(()));
    }

    #[test]
    fn clients_are_ipv4_addresses_and_ipv6_64s() {
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("::ffff:192.0.2.7")), ip("192.0.2.7"), "IPv4 on a dual-stack socket");
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("2001:db8:1:2::1")), client_of(ip("2001:db8:1:2::ffff")));
        assert_ne!(client_of(ip("2001:db8:1:2::1")), client_of(ip("2001:db8:1:3::1")));
        assert_eq!(client_of(ip("::1")), ip("::"));
    }
}
