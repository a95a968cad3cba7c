//! A fake kernel behind the [`Transport`] seam: it decodes our requests, keeps the
//! table in a [`FakeIpvs`] (so the kernel's rules and errnos live in one place),
//! and answers the way netlink does (one ack or
//! error per message of a datagram, each in its own datagram; dumps as data
//! messages and NLMSG_DONE; errors echo the whole request, as without
//! NETLINK_CAP_ACK). It tests the client's batching and matching, not the bytes:
//! those are in fixtures/.

use super::attrs::*;
use super::batch::Transport;
use super::wire::{self, parse_requests};
use super::{config, daemon, dest, service, Request};
use crate::{Change, Command, Errno, FakeIpvs, ServiceKey};
use neli::consts::nl::NlmF;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

const PORT_ID: u32 = 0x1234;

#[derive(Default)]
pub struct State {
    pub kernel: FakeIpvs,
    /// Every request the fake processed, in order.
    pub processed: Vec<Request>,
    pub sends: usize,
    /// Acks sent for successful requests (asked for with NLM_F_ACK).
    pub acks: usize,
    outbox: VecDeque<Vec<u8>>,
}

#[derive(Clone, Default)]
pub struct FakeKernel(pub Arc<Mutex<State>>);

fn header(len: usize, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&PORT_ID.to_ne_bytes());
    out
}

/// The change a request makes, for the requests that change the table.
fn as_change(req: &Request) -> Option<Change> {
    Some(match req {
        Request::NewService(s) => Change::AddService(s.clone()),
        Request::SetService(s) => Change::EditService(s.clone()),
        Request::DelService(k) => Change::DelService(*k),
        Request::NewDest(k, d) => Change::AddDest(*k, *d),
        Request::SetDest(k, d) => Change::EditDest(*k, *d),
        Request::DelDest(k, a) => Change::DelDest(*k, *a),
        Request::NewDaemon(d) => Change::StartDaemon(d.clone()),
        Request::DelDaemon(st) => Change::StopDaemon(*st),
        Request::SetConfig(t) => Change::SetTimeouts(*t),
        _ => return None,
    })
}

impl State {
    fn service(&self, key: &ServiceKey) -> Result<&crate::ServiceEntry, i32> {
        self.kernel.state().services.iter().find(|e| e.service.key == *key).ok_or(Errno::ESRCH.0)
    }

    /// The kernel's answer: reply messages (cmd, attributes) or an errno.
    fn handle(&mut self, req: &Request) -> Result<Vec<(u8, Vec<wire::Attr>)>, i32> {
        self.processed.push(req.clone());
        if let Some(change) = as_change(req) {
            return self.kernel.apply_one(&change).map(|()| Vec::new()).map_err(|e| e.0);
        }
        let state = self.kernel.state();
        match req {
            Request::Zero(k) => self.kernel.command_one(&Command::Zero(*k)).map(|()| Vec::new()).map_err(|e| e.0),
            Request::Flush => self.kernel.command_one(&Command::Flush).map(|()| Vec::new()).map_err(|e| e.0),
            Request::GetInfo => Ok(vec![(
                IPVS_CMD_SET_INFO,
                vec![
                    wire::u32(IPVS_INFO_ATTR_VERSION, 0x010201).unwrap(),
                    wire::u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096).unwrap(),
                ],
            )]),
            Request::GetConfig => Ok(vec![(IPVS_CMD_SET_CONFIG, config::timeout_attrs(&state.timeouts).unwrap())]),
            Request::GetService(k) => {
                let s = &self.service(k)?.service;
                Ok(vec![(IPVS_CMD_NEW_SERVICE, vec![service::full_nest(s).unwrap()])])
            }
            Request::DumpServices => Ok(state
                .services
                .iter()
                .map(|e| (IPVS_CMD_NEW_SERVICE, vec![service::full_nest(&e.service).unwrap()]))
                .collect()),
            // ip_vs_genl_dump_dests: an unknown service is an empty dump, not an error.
            Request::DumpDests(k) => Ok(self
                .service(k)
                .map(|e| e.dests.iter().map(|d| (IPVS_CMD_NEW_DEST, vec![dest::full_nest(&d.dest).unwrap()])).collect())
                .unwrap_or_default()),
            Request::DumpDaemons => {
                Ok(state.daemons.iter().map(|d| (IPVS_CMD_NEW_DAEMON, vec![daemon::full_nest(d).unwrap()])).collect())
            }
            _ => unreachable!("every changing request is handled by the FakeIpvs above"),
        }
    }
}

impl Transport for FakeKernel {
    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut st = self.0.lock().unwrap();
        st.sends += 1;
        let frames = parse_requests(buf).map_err(|e| io::Error::other(e.to_string()))?;
        let mut offset = 0;
        for frame in frames {
            let len = u32::from_ne_bytes(buf[offset..offset + 4].try_into().unwrap()) as usize;
            let raw = buf[offset..offset + len].to_vec();
            offset += len;
            let family = frame.family;
            let req = Request::decode(&frame).map_err(|e| io::Error::other(e.to_string()))?;
            let dump = frame.flags.contains(NlmF::DUMP);
            let result = st.handle(&req);
            // Like netlink_dump, pack messages into datagrams of at most 32 KiB.
            let mut data = Vec::new();
            if let Ok(replies) = &result {
                let flags = if dump { NlmF::MULTI } else { NlmF::empty() };
                for (cmd, attrs) in replies.clone() {
                    let mut one = Vec::new();
                    wire::encode_message(&mut one, family, flags, frame.seq, cmd, attrs).unwrap();
                    if data.len() + one.len() > 32 * 1024 {
                        st.outbox.push_back(std::mem::take(&mut data));
                    }
                    data.extend(one);
                }
            }
            match (result, dump) {
                (Ok(_), true) => {
                    data.extend(header(20, 3, 0x2, frame.seq)); // NLMSG_DONE, NLM_F_MULTI
                    data.extend(0i32.to_ne_bytes());
                    st.outbox.push_back(data);
                }
                (Ok(_), false) => {
                    if !data.is_empty() {
                        st.outbox.push_back(data);
                    }
                    if frame.flags.contains(NlmF::ACK) {
                        st.acks += 1;
                        let mut ack = header(36, 2, 0x100, frame.seq); // NLMSG_ERROR, NLM_F_CAPPED
                        ack.extend(0i32.to_ne_bytes());
                        ack.extend_from_slice(&raw[..16]);
                        st.outbox.push_back(ack);
                    }
                }
                (Err(errno), _) => {
                    let mut err = header(20 + raw.len(), 2, 0, frame.seq);
                    err.extend((-errno).to_ne_bytes());
                    err.extend_from_slice(&raw);
                    st.outbox.push_back(err);
                }
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.0.lock().unwrap();
        // Nothing queued: a real socket would block forever; fail the test instead.
        let d = st.outbox.pop_front().ok_or_else(|| io::Error::from(io::ErrorKind::WouldBlock))?;
        buf[..d.len()].copy_from_slice(&d);
        Ok(d.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::{IpvsNetlink, MAX_BATCH_MESSAGES};
    use crate::{ApplyError, Dest, Forward, Ipvs, IpvsError, Protocol, Service, SyncDaemon, SyncState, Timeouts};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    fn client() -> (IpvsNetlink, FakeKernel) {
        let fake = FakeKernel::default();
        (IpvsNetlink::with_transport(Box::new(fake.clone()), 0x1d), fake)
    }

    fn key(i: u32) -> ServiceKey {
        let ip = Ipv4Addr::from(0xc000_0200 + (i >> 8)); // 192.0.2.x and up
        ServiceKey::Inet { protocol: Protocol::Tcp, addr: SocketAddr::new(IpAddr::V4(ip), 1000 + (i & 0xff) as u16) }
    }

    fn big_table(services: u32, dests: u32) -> Vec<Change> {
        let mut out = vec![Change::SetTimeouts(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 })];
        for i in 0..services {
            out.push(Change::AddService(Service::new(key(i))));
            for j in 0..dests {
                let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + j)), 80);
                out.push(Change::AddDest(key(i), Dest { forward: Forward::Nat, ..Dest::new(addr) }));
            }
        }
        out
    }

    #[test]
    fn eleven_thousand_changes_go_in_batches_and_read_back() {
        let (mut c, fake) = client();
        let changes = big_table(1000, 10);
        c.apply(&changes).unwrap();
        let st = fake.0.lock().unwrap();
        assert_eq!(st.processed.len(), changes.len());
        assert_eq!(st.sends, changes.len().div_ceil(MAX_BATCH_MESSAGES));
        // One ack per batch, for its last change: not one per change.
        assert_eq!(st.acks, st.sends);
        drop(st);

        let snap = c.snapshot().unwrap();
        assert_eq!(snap.services.len(), 1000);
        assert!(snap.services.iter().all(|s| s.dests.len() == 10));
        assert_eq!(snap.timeouts, Timeouts { tcp: 900, tcp_fin: 120, udp: 300 });
        let table = snap.table();
        let expected = fake.0.lock().unwrap().kernel.state().table();
        assert_eq!(table, expected);
        assert!(table.daemons.is_empty());
    }

    #[test]
    fn a_refused_change_names_itself_and_counts_only_the_acked_prefix() {
        let (mut c, fake) = client();
        let d1 = Dest::new("10.0.0.1:80".parse().unwrap());
        let d2 = Dest::new("10.0.0.2:80".parse().unwrap());
        let changes = vec![
            Change::AddService(Service::new(key(0))),
            Change::AddDest(key(0), d1),
            Change::AddService(Service::new(key(0))), // EEXIST
            Change::AddDest(key(0), d2),
            Change::AddService(Service::new(key(1))),
        ];
        let ApplyError { applied, total, error } = c.apply(&changes).unwrap_err();
        assert_eq!((applied, total), (2, 5));
        let IpvsError::Refused { change, errno } = &error else { panic!("{error:?}") };
        assert_eq!((**change).clone(), changes[2]);
        assert_eq!(*errno, Errno::EEXIST);
        let text = error.to_string();
        assert!(text.contains("service TCP 192.0.2.0:1000") && text.contains("EEXIST"), "{text}");
        // The rest of the batch was processed by the kernel all the same.
        assert_eq!(fake.0.lock().unwrap().processed.len(), 5);
        assert_eq!(fake.0.lock().unwrap().kernel.state().services.len(), 2);
    }

    #[test]
    fn no_batch_follows_a_refused_one() {
        let (mut c, fake) = client();
        let mut changes = big_table(40, 9); // 401 changes: 4 batches
        changes[5] = Change::DelService(key(999)); // ESRCH in the first batch
        let err = c.apply(&changes).unwrap_err();
        assert_eq!(err.applied, 5);
        assert!(matches!(err.error, IpvsError::Refused { errno: Errno::ESRCH, .. }));
        let st = fake.0.lock().unwrap();
        assert_eq!(st.sends, 1);
        assert_eq!(st.processed.len(), MAX_BATCH_MESSAGES);
    }

    #[test]
    fn a_failure_in_a_later_batch_counts_the_earlier_batches() {
        let (mut c, _) = client();
        let mut changes = big_table(40, 9);
        let bad = MAX_BATCH_MESSAGES + 7;
        let Change::AddDest(k, d) = changes[bad].clone() else { panic!() };
        changes[bad] = Change::AddDest(k, Dest { lower_threshold: 5, upper_threshold: 1, ..d });
        let err = c.apply(&changes).unwrap_err();
        assert_eq!(err.applied, bad);
        assert!(matches!(err.error, IpvsError::Refused { errno: Errno::ERANGE, .. }));
    }

    #[test]
    fn single_commands() {
        let (mut c, _) = client();
        assert_eq!(c.info().unwrap().version_string(), "1.2.1");
        assert_eq!(c.service(&key(0)).unwrap(), None, "ESRCH reads as absent");
        assert!(c.dests(&key(0)).unwrap().is_empty());
        let err = c.zero(Some(&key(0))).unwrap_err();
        assert!(
            matches!(&err, IpvsError::Command { command: Command::Zero(Some(k)), errno: Errno::ESRCH } if *k == key(0)),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("cannot zero the counters of {}: ESRCH (3): the service does not exist", key(0))
        );
        c.apply(&[Change::AddService(Service::new(key(0)))]).unwrap();
        assert_eq!(c.service(&key(0)).unwrap().unwrap().service, Service::new(key(0)));
        c.zero(Some(&key(0))).unwrap();
        c.zero(None).unwrap();
        let d = SyncDaemon::new(SyncState::Backup, "eth1", 9);
        c.start_daemon(&d).unwrap();
        // The kernel reports its defaults for what the request left out.
        let started = SyncDaemon {
            sync_maxlen: Some(1472),
            mcast_group: Some("224.0.0.81".parse().unwrap()),
            mcast_port: Some(8848),
            mcast_ttl: Some(1),
            ..d.clone()
        };
        assert_eq!(c.daemons().unwrap(), vec![started]);
        let again = c.start_daemon(&d).unwrap_err();
        assert!(matches!(again, IpvsError::Refused { errno: Errno::EEXIST, .. }), "{again}");
        c.stop_daemon(SyncState::Backup).unwrap();
        c.set_timeouts(Timeouts { tcp: 0, tcp_fin: 0, udp: 77 }).unwrap();
        assert_eq!(c.timeouts().unwrap().udp, 77);
        c.flush().unwrap();
        assert!(c.services().unwrap().is_empty());
    }
}
