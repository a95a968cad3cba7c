//! Host test: the built-in HTTP server on a real socket, on 127.0.0.1 with an
//! ephemeral port (and, for the all-addresses bind and for clients from other
//! loopback addresses, in a network namespace of its own, so that nothing
//! listens outside loopback).
//!
//! The slow-client tests attack it as the adversarial run of issue 13 did:
//! dozens of clients that trickle a byte every half second, before or after
//! their answer. Their bounds are generous (seconds, where the server needs
//! milliseconds): they tell a server that copes from one that waits on the
//! attackers for as long as the attack lasts, on a loaded 2-core machine too.

use lvs_agent::http::{self, HttpError, HttpServer, Limits};
use lvs_config::model::{HttpContent, StaticHttp};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;
use common::agent::Agent;
use common::netns::in_netns;

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map(|l| l[prefix.len()..].trim())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn read_answer(mut stream: TcpStream) -> Answer {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("the server closes the connection");
    let text = String::from_utf8_lossy(&raw);
    let (head, _) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw[head.len() + 4..].to_vec();
    Answer { status, head: head.to_string(), body }
}

fn ask(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    read_answer(stream)
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    ask(addr, format!("GET {path} HTTP/1.1\r\nHost: rs\r\nUser-Agent: test\r\n\r\n").as_bytes())
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn body_server(body: &str, limits: Limits) -> HttpServer {
    http::serve_on(loopback(), &HttpContent::Body(body.into()), limits).unwrap()
}

#[test]
fn a_fixed_body_for_every_path_with_get_and_head() {
    let server = body_server("rs1\n", Limits::default());
    let addr = server.local_addr();
    for path in ["/", "/anything/at/all?x=1"] {
        let a = get(addr, path);
        assert_eq!((a.status, a.text().as_str()), (200, "rs1\n"), "{path}");
        assert_eq!(a.header("Content-Length"), Some("4"));
        assert_eq!(a.header("Connection"), Some("close"));
        assert_eq!(a.header("Content-Type"), Some("text/plain; charset=utf-8"));
    }
    let a = ask(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!((a.status, a.text().as_str()), (200, "rs1\n"));
    let a = ask(addr, b"HEAD / HTTP/1.1\r\nHost: rs\r\n\r\n");
    assert_eq!(a.status, 200);
    assert_eq!(a.header("Content-Length"), Some("4"));
    assert!(a.body.is_empty(), "HEAD has no body");
    server.stop();
}

#[test]
fn other_methods_garbage_and_other_versions_are_refused() {
    let server = body_server("rs\n", Limits::default());
    let addr = server.local_addr();
    let a = ask(addr, b"POST / HTTP/1.1\r\nHost: rs\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(a.status, 405);
    assert_eq!(a.header("Allow"), Some("GET, HEAD"));
    assert_eq!(ask(addr, b"DELETE /x HTTP/1.0\r\n\r\n").status, 405);
    assert_eq!(ask(addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").status, 400);
    assert_eq!(ask(addr, b"hello there\r\n\r\n").status, 400);
    assert_eq!(ask(addr, b"GET / HTTP/2.0\r\n\r\n").status, 505);
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(10_000));
    assert_eq!(ask(addr, big.as_bytes()).status, 431);
    // Whatever the client sent, the answer came through whole and the server still answers.
    assert_eq!(get(addr, "/").status, 200);
}

fn site(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("www");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("index.html"), "<h1>rs2</h1>\n").unwrap();
    std::fs::write(root.join("style.css"), "p{}").unwrap();
    std::fs::write(root.join("docs/index.html"), "docs").unwrap();
    std::fs::write(root.join("docs/a b.txt"), "spaced").unwrap();
    std::fs::write(dir.join("secret"), "do not serve").unwrap();
    std::os::unix::fs::symlink(dir.join("secret"), root.join("leak")).unwrap();
    std::os::unix::fs::symlink(dir, root.join("up")).unwrap();
    root
}

#[test]
fn files_below_the_root_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let root = site(dir.path());
    let server = http::serve_on(loopback(), &HttpContent::Root(root), Limits::default()).unwrap();
    let addr = server.local_addr();

    let a = get(addr, "/");
    assert_eq!((a.status, a.text().as_str()), (200, "<h1>rs2</h1>\n"));
    assert_eq!(a.header("Content-Type"), Some("text/html; charset=utf-8"));
    let a = get(addr, "/style.css");
    assert_eq!((a.status, a.header("Content-Type")), (200, Some("text/css; charset=utf-8")));
    assert_eq!(a.header("Content-Length"), Some("3"));
    assert_eq!(get(addr, "/docs").text(), "docs");
    assert_eq!(get(addr, "/docs/").text(), "docs");
    assert_eq!(get(addr, "/docs/a%20b.txt").text(), "spaced");

    assert_eq!(get(addr, "/missing.html").status, 404);
    assert_eq!(get(addr, "/docs/nope/").status, 404);
    let a = ask(addr, b"HEAD /missing HTTP/1.1\r\nHost: rs\r\n\r\n");
    assert_eq!(a.status, 404);
    assert!(a.body.is_empty());

    for path in ["/../secret", "/docs/../../secret", "/%2e%2e/secret", "/leak", "/up/secret"] {
        let a = get(addr, path);
        assert_eq!(a.status, 403, "{path}");
        assert!(!a.text().contains("do not serve"), "{path}");
    }
}

#[test]
fn a_root_that_is_not_a_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    for root in [dir.path().join("missing"), file] {
        match http::serve_on(loopback(), &HttpContent::Root(root.clone()), Limits::default()) {
            Err(HttpError::Root { path, .. }) => assert_eq!(path, root),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("served {}", root.display()),
        }
    }
}

#[test]
fn a_slow_client_gets_a_timeout_however_it_trickles() {
    let limits = Limits { head_timeout: Duration::from_millis(400), ..Limits::default() };
    let server = body_server("rs\n", limits);
    let addr = server.local_addr();
    let t = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    for b in b"GET / HTTP/1.1\r\n" {
        if stream.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let a = read_answer(stream);
    assert_eq!(a.status, 408);
    assert!(t.elapsed() < Duration::from_millis(1500), "took {:?}", t.elapsed());
}

#[test]
fn connections_beyond_the_cap_get_503_until_a_slot_frees() {
    let limits = Limits { max_connections: 1, head_timeout: Duration::from_millis(500), ..Limits::default() };
    let server = body_server("rs\n", limits);
    let addr = server.local_addr();
    let idle = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(get(addr, "/").status, 503);
    assert_eq!(read_answer(idle).status, 408);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(get(addr, "/").status, 200);
}

#[test]
fn stop_closes_the_port_and_it_can_be_bound_again() {
    let server = body_server("one\n", Limits::default());
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").text(), "one\n");
    server.stop();
    assert!(TcpStream::connect(addr).is_err(), "still listening after stop");
    let again = http::serve_on(addr, &HttpContent::Body("two\n".into()), Limits::default()).unwrap();
    assert_eq!(get(addr, "/").text(), "two\n");
    drop(again);
    assert!(TcpStream::connect(addr).is_err(), "dropping stops it too");
}

#[test]
fn serve_listens_on_ipv4_and_ipv6_at_once() {
    // A namespace with only lo, so the all-addresses socket is reachable from loopback only.
    in_netns(|| {
        lvs_agent::net::loopback::up().unwrap();
        let server = http::serve(&StaticHttp { port: 8080, content: HttpContent::Body("dual\n".into()) }).unwrap();
        assert_eq!(server.local_addr().to_string(), "[::]:8080");
        assert_eq!(get("127.0.0.1:8080".parse().unwrap(), "/").text(), "dual\n");
        assert_eq!(get("[::1]:8080".parse().unwrap(), "/").text(), "dual\n");
        server.stop();
    });
}

// ---- slow and hostile clients ----

/// What the slow-client tests allow for what takes the server milliseconds.
const BOUND: Duration = Duration::from_secs(10);
/// How often an attacker sends its next byte, as in the adversarial run.
const TRICKLE: Duration = Duration::from_millis(500);

/// 127.0.0.`n`: any address of 127/8 is on lo once it is up.
fn lo(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A namespace of its own with lo up, so that clients can come from many loopback addresses.
fn in_lo_netns(body: impl FnOnce() + Send + 'static) {
    in_netns(|| {
        lvs_agent::net::loopback::up().unwrap();
        body();
    });
}

/// A connection to `to` from `source`.
fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let fd = socket(AddressFamily::Inet, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    bind(fd.as_raw_fd(), &SockaddrStorage::from(SocketAddr::new(source, 0)))?;
    connect(fd.as_raw_fd(), &SockaddrStorage::from(to))?;
    Ok(TcpStream::from(fd))
}

fn get_from(source: IpAddr, addr: SocketAddr) -> Answer {
    let mut stream = connect_from(source, addr).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: rs\r\n\r\n").unwrap();
    read_answer(stream)
}

/// Asks from `source` until the answer is a 200, within `BOUND`; how many
/// refusals (503, 429) came before it.
fn served_within_bound(source: IpAddr, addr: SocketAddr) -> usize {
    let start = Instant::now();
    let mut refused = 0;
    loop {
        let status = connect_from(source, addr)
            .and_then(|mut s| {
                s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
                s.set_read_timeout(Some(BOUND))?;
                let mut raw = Vec::new();
                s.read_to_end(&mut raw)?;
                Ok(String::from_utf8_lossy(&raw).split(' ').nth(1).unwrap_or("").to_string())
            })
            .unwrap_or_else(|e| format!("{e}"));
        match status.as_str() {
            "200" => return refused,
            "503" | "429" => refused += 1,
            other => panic!("a new client from {source} got {other:?} after {:?}", start.elapsed()),
        }
        assert!(start.elapsed() < BOUND, "a new client from {source} was refused {refused} times in {BOUND:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server has closed `stream` (after `shutdown(Write)` on its
/// side, a client still reads an end; only a write draws the reset of a
/// socket closed for good): writes a byte every `TRICKLE` until a write
/// fails; how long that took, or None if it did not within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if stream.write_all(b"x").is_err() {
            return Some(start.elapsed());
        }
        std::thread::sleep(TRICKLE);
    }
    None
}

/// Whether a read on `stream` sees the server close it within `limit`
/// (an end or a reset, not a timeout), reading and dropping any answer.
fn sees_close_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }
}

/// How an attacker trickles.
#[derive(Clone, Copy)]
enum Attacker {
    /// Sends a whole request, reads its answer, then a byte every `TRICKLE`
    /// and never closes: the attack of issue 13.
    AfterAnswer,
    /// Sends the head a byte every `TRICKLE` and never ends it (slowloris).
    InTheHead,
}

#[derive(Default)]
struct Tally {
    connections: AtomicUsize,
    /// Answers by status.
    answers: Mutex<Vec<u16>>,
    /// The longest an `AfterAnswer` connection stayed open after its answer.
    longest_held: Mutex<Duration>,
}

/// Attackers on threads of their own, each reconnecting when the server
/// closes it, until dropped.
struct Attack {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    tally: Arc<Tally>,
}

impl Attack {
    /// `per_source` attackers of `kind` from each of `sources`.
    fn start(addr: SocketAddr, kind: Attacker, sources: &[IpAddr], per_source: usize) -> Attack {
        let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
        let mut threads = Vec::new();
        for &source in sources {
            for _ in 0..per_source {
                let (stop, tally) = (stop.clone(), tally.clone());
                threads.push(std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        match connect_from(source, addr) {
                            Ok(stream) => {
                                tally.connections.fetch_add(1, Ordering::SeqCst);
                                attack_once(stream, kind, &stop, &tally);
                            }
                            // The server stopped: do not spin.
                            Err(_) => std::thread::sleep(Duration::from_millis(100)),
                        }
                    }
                }));
            }
        }
        Attack { stop, threads, tally }
    }

    /// Waits until attackers have made `n` connections.
    fn wait_connections(&self, n: usize) {
        let start = Instant::now();
        while self.tally.connections.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < BOUND, "attackers made only {:?} connections", self.tally.connections);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until attackers have read `n` answers with `status` (any: None).
    fn wait_answers(&self, status: Option<u16>, n: usize) {
        let start = Instant::now();
        loop {
            let answers = self.tally.answers.lock().unwrap().clone();
            if answers.iter().filter(|&&s| status.is_none_or(|status| s == status)).count() >= n {
                return;
            }
            assert!(start.elapsed() < BOUND, "not {n} answers {status:?} to attackers in {BOUND:?}: {answers:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn attack_once(mut stream: TcpStream, kind: Attacker, stop: &AtomicBool, tally: &Tally) {
    let _ = stream.set_read_timeout(Some(TRICKLE));
    let request: &[u8] = match kind {
        Attacker::AfterAnswer => b"GET / HTTP/1.1\r\nHost: rs\r\n\r\n",
        Attacker::InTheHead => b"GET / HTTP/1.1\r\nX-Slow: ",
    };
    if stream.write_all(request).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let mut answered_at = None;
    while !stop.load(Ordering::SeqCst) {
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            // The server ended its answer: keep trickling into the connection all the same.
            Ok(0) if answered_at.is_none() => {
                if let Some(status) = String::from_utf8_lossy(&answer).split(' ').nth(1).and_then(|s| s.parse().ok()) {
                    tally.answers.lock().unwrap().push(status);
                }
                answered_at = Some(Instant::now());
            }
            Ok(0) => std::thread::sleep(TRICKLE),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        if stream.write_all(b"a").is_err() {
            break;
        }
    }
    if let (Attacker::AfterAnswer, Some(at)) = (kind, answered_at) {
        let mut longest = tally.longest_held.lock().unwrap();
        *longest = (*longest).max(at.elapsed());
    }
}

#[test]
fn after_its_answer_a_trickling_client_is_closed_within_the_linger() {
    let server = body_server("rs\n", Limits::default());
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: rs\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    stream.read_to_end(&mut raw).expect("the answer, and its end");
    assert!(raw.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", String::from_utf8_lossy(&raw));
    // A byte every half second does not keep it open (it used to, for up to 64 KiB: 9 hours).
    let took = closed_within(&mut stream, BOUND);
    assert!(took.is_some(), "still open {BOUND:?} after the answer although the linger is 1 s");
    eprintln!("closed {took:?} after the answer");
}

#[test]
fn a_connection_ends_by_its_deadline_whatever_the_client_sends() {
    // The head alone may take a minute; the whole connection, one second.
    let limits = Limits {
        head_timeout: Duration::from_secs(60),
        connection_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let server = body_server("rs\n", limits);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        assert!(start.elapsed() < BOUND, "a client sending a header byte every 100 ms is still connected");
        // Whatever comes back (nothing: the 408 has no time left to be written), the end must come.
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        if stream.write_all(b"x").is_err() {
            break;
        }
    }
    eprintln!("closed after {:?}", start.elapsed());
}

#[test]
fn slow_clients_that_trickle_after_their_answer_do_not_starve_new_ones() {
    in_lo_netns(|| {
        let server = body_server("rs\n", Limits::default());
        let addr = server.local_addr();
        // 70 attackers, more than the 64 slots, from 7 addresses (10 each, under the 16 per address).
        let sources: Vec<IpAddr> = (2..=8).map(lo).collect();
        let attack = Attack::start(addr, Attacker::AfterAnswer, &sources, 10);
        attack.wait_connections(70);
        // Long enough that the first attackers have had their answers and trickle.
        std::thread::sleep(3 * TRICKLE);
        for round in 0..5 {
            let refused = served_within_bound(lo(1), addr);
            eprintln!("round {round}: served after {refused} refusals");
            std::thread::sleep(TRICKLE);
        }
        // The server closed the attackers (they reconnected), however they trickled.
        attack.wait_connections(140);
        attack.wait_answers(None, 140);
        attack.wait_answers(Some(200), 1);
        let longest = *attack.tally.longest_held.lock().unwrap();
        drop(attack);
        assert!(longest < BOUND, "an attacker kept its connection {longest:?} after its answer");
        eprintln!("the longest an attacker kept its connection after its answer: {longest:?}");
        server.stop();
    });
}

#[test]
fn one_address_cannot_take_every_slot() {
    in_lo_netns(|| {
        let limits = Limits { max_per_client: 2, ..Limits::default() };
        let server = body_server("rs\n", limits);
        let addr = server.local_addr();
        // Two idle connections from .2 take its two slots (the server waits for their heads).
        let idle: Vec<TcpStream> = (0..2).map(|_| connect_from(lo(2), addr).unwrap()).collect();
        let a = get_from(lo(2), addr);
        assert_eq!(a.status, 429, "a third from the same address: {}", a.head);
        assert_eq!(a.header("Retry-After"), Some("1"));
        assert_eq!(get_from(lo(3), addr).status, 200, "another address is served");
        assert_eq!(get_from(lo(1), addr).status, 200);
        drop(idle);
        // Their slots come back once the server sees them close.
        served_within_bound(lo(2), addr);
        server.stop();
    });
}

#[test]
fn many_slow_heads_from_one_address_take_only_its_share() {
    in_lo_netns(|| {
        let server = body_server("rs\n", Limits::default());
        let addr = server.local_addr();
        let attack = Attack::start(addr, Attacker::InTheHead, &[lo(2)], 70);
        attack.wait_connections(70);
        // All 70 connected: the 16 admitted hold their slots for the head timeout (10 s).
        attack.wait_answers(Some(429), 70 - 16);
        assert_eq!(served_within_bound(lo(1), addr), 0, "a client from another address waits for nothing");
        assert_eq!(get_from(lo(3), addr).status, 200);
        drop(attack);
        server.stop();
    });
}

#[test]
fn refusals_do_not_wait_on_the_refused() {
    in_lo_netns(|| {
        // One slot, taken by an idle client for the whole test.
        let limits = Limits { max_connections: 1, head_timeout: Duration::from_secs(60), ..Limits::default() };
        let server = body_server("rs\n", limits);
        let addr = server.local_addr();
        let _idle = connect_from(lo(9), addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // Refused clients that trickle on after their 503 (once the accept thread read on with each).
        let attack = Attack::start(addr, Attacker::AfterAnswer, &[lo(2), lo(3), lo(4)], 10);
        attack.wait_connections(30);
        std::thread::sleep(3 * TRICKLE);
        for _ in 0..5 {
            let start = Instant::now();
            let a = get_from(lo(1), addr);
            assert_eq!(a.status, 503, "{}", a.head);
            assert!(start.elapsed() < BOUND, "the 503 took {:?}", start.elapsed());
        }
        attack.wait_answers(Some(503), 30);
        drop(attack);
        server.stop();
    });
}

#[test]
fn stop_returns_at_once_while_attackers_hold_connections() {
    in_lo_netns(|| {
        // A linger longer than the test: what the closer holds at stop, it holds because of the attack.
        let limits = Limits { linger: Duration::from_secs(60), ..Limits::default() };
        let server = body_server("rs\n", limits);
        let addr = server.local_addr();
        let heads = Attack::start(addr, Attacker::InTheHead, &[lo(2), lo(3)], 16);
        let answered = Attack::start(addr, Attacker::AfterAnswer, &[lo(4), lo(5)], 16);
        // And some of our own, held as the attackers hold theirs: in the head, and after the answer.
        let mut in_head: Vec<TcpStream> = (0..8).map(|_| connect_from(lo(6), addr).unwrap()).collect();
        for s in &mut in_head {
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        }
        let mut after_answer: Vec<TcpStream> = (0..8)
            .map(|_| {
                let mut s = connect_from(lo(7), addr).unwrap();
                s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
                assert!(sees_close_within(&mut s, BOUND), "no end of the answer");
                s
            })
            .collect();
        heads.wait_connections(32);
        answered.wait_connections(32);
        std::thread::sleep(3 * TRICKLE);

        let (done, stopped) = mpsc::channel();
        let start = Instant::now();
        std::thread::spawn(move || {
            server.stop();
            let _ = done.send(());
        });
        let returned = stopped.recv_timeout(BOUND);
        assert!(returned.is_ok(), "stop did not return within {BOUND:?} while attackers were connected");
        eprintln!("stop returned after {:?}", start.elapsed());
        for s in &mut in_head {
            assert!(sees_close_within(s, BOUND), "a connection waiting for its head was not shut down");
        }
        for s in &mut after_answer {
            assert!(closed_within(s, BOUND).is_some(), "a connection held after its answer was not closed");
        }
        assert!(TcpStream::connect(addr).is_err(), "still listening after stop");
    });
}

const ATTACKED_AGENT: &str = r#"Appliance(
    role: RealServer(
        mode: DirectRouting,
        vips: ["192.0.2.80"],
        http: StaticHttp(port: 8080, body: "rs\n"),
    ),
)
"#;

#[test]
fn sigterm_stops_the_agent_while_slow_clients_attack_its_http_server() {
    in_lo_netns(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut agent = Agent::start(dir.path(), ATTACKED_AGENT);
        agent.wait("ready", BOUND, |_| dir.path().join("run/ready").exists());
        agent.wait("the http server", BOUND, |a| a.log().contains("http: serving on"));
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let sources: Vec<IpAddr> = (2..=8).map(lo).collect();
        let answered = Attack::start(addr, Attacker::AfterAnswer, &sources, 10);
        let heads = Attack::start(addr, Attacker::InTheHead, &sources, 10);
        answered.wait_connections(70);
        heads.wait_connections(70);
        std::thread::sleep(3 * TRICKLE);
        served_within_bound(lo(1), addr);

        let sent = Instant::now();
        kill(agent.pid(), Signal::SIGTERM).unwrap();
        let status = loop {
            if let Some(status) = agent.child.try_wait().unwrap() {
                break status;
            }
            assert!(sent.elapsed() < BOUND, "the agent did not exit within {BOUND:?} of SIGTERM:\n{}", agent.log());
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}\n{}", agent.log());
        eprintln!("the agent exited {:?} after SIGTERM, under attack", sent.elapsed());
        drop((answered, heads));
    });
}
