//! 200 slow clients at once (slowloris, the attackers of common/slowloris.rs):
//! half dribble a real ClientHello a byte every half second, half send
//! nothing, each reconnecting when the server closes it; a normal client is
//! still served, and the server's descriptors and the process's memory stay
//! bounded.
//!
//! The bounds, from the server's rules (manage::server::rules):
//! - server sockets: 1 listener + 32 admitted connections + 128 that the
//!   closer may hold after their answer or refusal (conn's MAX_HELD) + 1
//!   just accepted = 162, however many clients come;
//! - an admitted slow client is closed by the 10 s handshake-and-head deadline;
//! - memory: 32 connection threads with a TLS session each (a few hundred
//!   KiB of touched stack and buffers at most): 64 MiB over the idle server
//!   is generous, and far below what 200 sessions and threads would take
//!   if the bound did not hold (the attackers' own sockets are in this
//!   process too, and cost little).

use super::slowloris::{lo, server_sockets, Attack};
use super::*;

const ATTACKERS: usize = 200;
const MAX_SERVER_SOCKETS: usize = 1 + 32 + 128 + 1;
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn two_hundred_slow_clients_leave_a_normal_client_served_within_bounds() {
    in_netns(|| {
        lvs_agent::net::loopback::up().unwrap();
        let s = setup("127.0.0.1");
        let port = s.addr.port();
        // Warm up: the first handshakes allocate what every later one reuses.
        for _ in 0..5 {
            assert_eq!(ask(&s.good, s.addr, Some(lo(1)), &get("/v1/status")).status, 200);
        }
        let (fds_before, rss_before, sockets_before) = (open_fds(), rss_kib(), server_sockets(port));
        eprintln!("before: {fds_before} fds, VmRSS {rss_before} KiB, {sockets_before} server sockets");

        let hello = tls::client_hello(client_config(&s.ca, None), "127.0.0.1");
        let mut attack = Attack::start(hello, s.addr, ATTACKERS);
        let (mut max_fds, mut max_rss, mut max_sockets, mut served) = (0, 0, 0, Vec::new());
        let start = Instant::now();
        // Past the 10 s deadline of the first admitted attackers, so that their close is seen.
        while start.elapsed() < Duration::from_secs(13) {
            attack.round();
            max_fds = max_fds.max(open_fds());
            max_rss = max_rss.max(rss_kib());
            max_sockets = max_sockets.max(server_sockets(port));
            if served.len() < 12 && start.elapsed() > Duration::from_secs(served.len() as u64) {
                let asked = Instant::now();
                let a = ask(&s.good, s.addr, Some(lo(1)), &get("/v1/status"));
                assert_eq!(a.status, 200, "a normal client under attack: {a:?}");
                served.push(asked.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let slowest = served.iter().max().copied().unwrap_or_default();
        eprintln!(
            "under attack: {} attacker connections, the longest lasted {:?}; at most {max_fds} fds \
             ({} over before, {ATTACKERS} of them the attackers'), {max_sockets} server sockets, \
             VmRSS at most {max_rss} KiB (+{} KiB); {} normal requests, the slowest {slowest:?}",
            attack.connections,
            attack.longest,
            max_fds - fds_before,
            max_rss.saturating_sub(rss_before),
            served.len(),
        );
        assert!(max_sockets <= MAX_SERVER_SOCKETS, "{max_sockets} server sockets");
        assert!(max_fds <= fds_before + ATTACKERS + MAX_SERVER_SOCKETS, "{max_fds} fds");
        assert!(max_rss.saturating_sub(rss_before) <= MAX_RSS_GROWTH_KIB, "VmRSS grew to {max_rss} KiB");
        assert!(served.len() >= 12 && slowest < Duration::from_secs(2), "{served:?}");
        assert!(attack.connections > ATTACKERS, "the server closed no slow client within 13 s");
        assert!(attack.longest < Duration::from_secs(12), "a slow client was held {:?}", attack.longest);

        drop(attack);
        s.server.stop();
        assert_eq!(server_sockets(port), 0, "server sockets left after stop");
    });
}
