//! What the attack tests need beyond the appliance: an expired client
//! certificate signed by the pki's own CA (rcgen, since `lvs-agent pki`
//! makes none), and 200 slow clients (common/slowloris.rs) against the real
//! agent, its descriptors and memory read from /proc/<agent pid>.
//!
//! The bounds on the agent, from the server's rules (manage::server::rules,
//! http::conn's MAX_HELD), the same as host_manage/slow.rs's:
//! - descriptors: the idle agent's (its listener among them), plus at most
//!   32 admitted connections + 128 sockets the closer may hold after their
//!   answer or refusal + 1 just accepted = 161 more, however many clients
//!   come; the agent opens nothing else per client (no thread holds a file);
//! - server sockets on the port: those 161 and the listener, 162;
//! - an admitted slow client is closed by the 10 s handshake-and-head deadline;
//! - memory: 32 connection threads, each with its touched stack and one TLS
//!   session (rustls's buffers and handshake state): some 50 KiB each as
//!   measured (+1.6 MiB for 24 slow clients and the CLI; +9 MiB for 200
//!   when the bounds were lifted), so 32 x 100 KiB, doubled for the
//!   allocator's slack: 6 MiB over the idle agent. Without the bounds, 200
//!   threads and sessions exceed it.

use super::appliance::{config, Appliance, ENDPOINT, LIMIT};
use super::slowloris::{server_sockets, Attack};
use rcgen::{date_time_ymd, CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `NAME.pem` as `lvs-agent pki client` writes it, signed by `pki`'s CA,
/// but valid only in the year 2000.
pub fn expired_identity(pki: &Path, name: &str) -> String {
    let ca_pem = std::fs::read_to_string(pki.join("ca.pem")).unwrap();
    let ca_key = KeyPair::from_pem(&std::fs::read_to_string(pki.join("ca.key")).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2001, 1, 1);
    let key = KeyPair::generate().unwrap();
    format!("{}{}", params.signed_by(&key, &issuer).unwrap().pem(), key.serialize_pem())
}

const ATTACKERS: usize = 200;
const MAX_MORE_FDS: usize = 32 + 128 + 1;
const MAX_SERVER_SOCKETS: usize = 1 + MAX_MORE_FDS;
const MAX_RSS_GROWTH_KIB: u64 = 6 * 1024;
/// How long the CLI may take to be answered under attack: some 20 to 60 ms
/// (a process started, a TLS handshake) when this test runs alone, up to a
/// second beside the other tests on two busy cores.
const CLI_BOUND: Duration = Duration::from_secs(3);

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// A figure of /proc/PID/status (VmRSS in KiB, Threads).
fn status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The ClientHello a client of `config` opens with, as bytes on the wire.
fn client_hello(config: Arc<ClientConfig>) -> Vec<u8> {
    let mut conn = ClientConnection::new(config, ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

/// 200 slow clients from three addresses for 13 s, past the deadline of
/// the first admitted (10 s, and the closer's linger of 1 s); meanwhile
/// `lvs-agent config` (from a fourth) is answered with the running text
/// once a second, and the agent stays within the bounds.
pub fn two_hundred_slow_clients(a: Appliance) {
    let pid = a.agent.child.id();
    let addr: SocketAddr = ENDPOINT.parse().unwrap();
    let running = config(&a.pki, "one");
    let ask = || {
        let asked = Instant::now();
        let (stdout, _) = a.cli(0, &["config", "--request-timeout", "5s"]);
        assert_eq!(stdout, running);
        asked.elapsed()
    };
    // Warm up: the first handshakes allocate what every later one reuses.
    for _ in 0..5 {
        ask();
    }
    // Idle: the closer holds none of the warm-up's sockets any more.
    a.agent.wait("the listener alone", LIMIT, |_| server_sockets(addr.port()) == 1);
    let (fds_before, rss_before, threads_before) = (fds(pid), status(pid, "VmRSS:"), status(pid, "Threads:"));
    let sockets_before = server_sockets(addr.port());
    eprintln!(
        "idle agent: {fds_before} fds, VmRSS {rss_before} KiB, {threads_before} threads, {sockets_before} server sockets"
    );

    let mut attack = Attack::start(client_hello(a.tls(None)), addr, ATTACKERS);
    let (mut max_fds, mut max_rss, mut max_threads, mut max_sockets) = (0, 0, 0, 0);
    let start = Instant::now();
    // The CLI asks once a second on a thread of its own: the attack goes on meanwhile.
    let served = std::thread::scope(|scope| {
        let operator = scope.spawn(|| {
            (0..12u32)
                .map(|i| {
                    let due = start.checked_add(Duration::from_secs(i.into())).unwrap();
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    ask()
                })
                .collect::<Vec<_>>()
        });
        while start.elapsed() < Duration::from_secs(13) {
            attack.round();
            max_fds = max_fds.max(fds(pid));
            max_rss = max_rss.max(status(pid, "VmRSS:"));
            max_threads = max_threads.max(status(pid, "Threads:"));
            max_sockets = max_sockets.max(server_sockets(addr.port()));
            std::thread::sleep(Duration::from_millis(50));
        }
        operator.join().unwrap()
    });
    let slowest = served.iter().max().copied().unwrap_or_default();
    eprintln!(
        "under attack: {} attacker connections, the longest lasted {:?}; the agent at most {max_fds} fds \
         (+{}), {max_sockets} server sockets, {max_threads} threads, VmRSS at most {max_rss} KiB (+{} KiB); \
         {} `lvs-agent config` answered, the slowest in {slowest:?}",
        attack.connections,
        attack.longest,
        max_fds - fds_before,
        max_rss.saturating_sub(rss_before),
        served.len(),
    );
    assert!(max_sockets <= MAX_SERVER_SOCKETS, "{max_sockets} server sockets");
    assert!(max_fds <= fds_before + MAX_MORE_FDS, "{max_fds} fds, {fds_before} idle");
    assert!(max_rss.saturating_sub(rss_before) <= MAX_RSS_GROWTH_KIB, "VmRSS grew to {max_rss} KiB");
    assert!(served.len() >= 12 && slowest < CLI_BOUND, "{served:?}");
    assert!(attack.connections > ATTACKERS, "the agent closed no slow client within 13 s");
    assert!(attack.longest < Duration::from_secs(12), "a slow client was held {:?}", attack.longest);

    // Once they go, the agent gives back what they took.
    drop(attack);
    a.agent.wait("the attackers' descriptors closed", LIMIT, |_| fds(pid) <= fds_before);
    eprintln!("after: {} fds, VmRSS {} KiB, {} threads", fds(pid), status(pid, "VmRSS:"), status(pid, "Threads:"));
    let last = ask();
    assert!(last < CLI_BOUND, "after the attack: {last:?}");
}
