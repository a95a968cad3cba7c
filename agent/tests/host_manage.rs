//! Host test: the management server on real sockets, in-process with a fake
//! agent behind it (`Operations`), attacked as issue 14 asks: clients
//! without a certificate, with one from another CA, with an expired one; a
//! body of 2 MiB; 200 slow clients at once. The slow-client test runs in a
//! network namespace of its own (as root) so that clients can come from
//! several loopback addresses.

use lvs_agent::manage::api::*;
use lvs_agent::manage::{self, ManageServer, OpError, Operations, Power};
use rustls::{AlertDescription, ClientConfig, ClientConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
#[path = "common/tls.rs"]
mod tls;
use common::netns::in_netns;
use tls::{client_config, server_config, Ca};

/// What the tests allow for what takes the server milliseconds.
const BOUND: Duration = Duration::from_secs(10);

/// A fake agent: a fixed status, a log the test writes to.
#[derive(Default)]
struct Fake {
    followers: Mutex<Vec<Sender<String>>>,
}

impl Fake {
    /// Logs `line` to every follower.
    fn log(&self, line: &str) {
        self.followers.lock().unwrap().retain(|f| f.send(line.to_string()).is_ok());
    }
}

impl Operations for Fake {
    fn status(&self, _: &StatusQuery) -> Result<StatusAnswer, OpError> {
        Ok(StatusAnswer { listing: "fake table\n".into(), ..StatusAnswer::default() })
    }
    fn config(&self) -> Result<ConfigAnswer, OpError> {
        Err(OpError::Unavailable("not in this test".into()))
    }
    fn validate(&self, text: &str) -> Validation {
        Validation { valid: true, plan: Some(format!("{} bytes", text.len())), ..Validation::default() }
    }
    fn apply(&self, _: &str) -> Result<Done, OpError> {
        Ok(Done { message: "applied".into() })
    }
    fn try_config(&self, _: &str, _: Duration) -> Result<Done, OpError> {
        Ok(Done { message: "trying".into() })
    }
    fn confirm(&self) -> Result<Done, OpError> {
        Err(OpError::Conflict("no try is running".into()))
    }
    fn weight(&self, _: &WeightAsk) -> Result<Done, OpError> {
        Ok(Done { message: "weighted".into() })
    }
    fn logs(&self, lines: usize) -> Vec<String> {
        (0..lines.min(3)).map(|i| format!("old {i}")).collect()
    }
    fn follow(&self) -> Receiver<String> {
        let (tx, rx) = channel();
        self.followers.lock().unwrap().push(tx);
        rx
    }
    fn power(&self, _: Power) -> Result<Done, OpError> {
        Ok(Done { message: "bye".into() })
    }
}

struct Setup {
    ca: Ca,
    server: ManageServer,
    addr: SocketAddr,
    fake: Arc<Fake>,
    good: Arc<ClientConfig>,
}

fn setup(ip: &str) -> Setup {
    let ca = Ca::new("test CA");
    let fake = Arc::new(Fake::default());
    let listen: SocketAddr = format!("{ip}:0").parse().unwrap();
    let server = manage::serve(&[listen], server_config(&ca, &ca.server(ip)), fake.clone()).unwrap();
    let addr = server.local_addrs()[0];
    let good = client_config(&ca, Some(&ca.client("admin")));
    Setup { ca, server, addr, fake, good }
}

/// A TLS client connected to `addr` (from `source` if given).
fn tls_client(
    config: &Arc<ClientConfig>,
    addr: SocketAddr,
    source: Option<IpAddr>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = match source {
        Some(source) => connect_from(source, addr).unwrap(),
        None => TcpStream::connect(addr).unwrap(),
    };
    tcp.set_read_timeout(Some(BOUND)).unwrap();
    let conn = ClientConnection::new(config.clone(), tls::server_name(&addr.ip().to_string())).unwrap();
    StreamOwned::new(conn, tcp)
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Sends `request`, reads to the end: the answer, or the error and what arrived before it.
fn exchange(
    client: &mut StreamOwned<ClientConnection, TcpStream>,
    request: &[u8],
) -> Result<Answer, (std::io::Error, Vec<u8>)> {
    let mut raw = Vec::new();
    if let Err(e) = client.write_all(request).and_then(|()| client.flush()) {
        return Err((e, raw));
    }
    if let Err(e) = client.read_to_end(&mut raw) {
        return Err((e, raw));
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Ok(Answer { status, head: head.to_string(), body: body.to_string() })
}

fn ask(config: &Arc<ClientConfig>, addr: SocketAddr, source: Option<IpAddr>, request: &[u8]) -> Answer {
    exchange(&mut tls_client(config, addr, source), request)
        .unwrap_or_else(|(e, raw)| panic!("{e} after {:?}", String::from_utf8_lossy(&raw)))
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: appliance\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r =
        format!("POST {path} HTTP/1.1\r\nHost: appliance\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn a_client_of_the_ca_is_answered_as_docs_api_says() {
    let s = setup("127.0.0.1");
    let a = ask(&s.good, s.addr, None, &get("/v1/status"));
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.head.contains("\r\nContent-Type: application/json"), "{}", a.head);
    assert!(a.head.contains("\r\nConnection: close"), "{}", a.head);
    let status: StatusAnswer = serde_json::from_str(&a.body).unwrap();
    assert_eq!(status.listing, "fake table\n");

    let a = ask(&s.good, s.addr, None, &post("/v1/config/validate", b"Appliance()"));
    assert_eq!((a.status, serde_json::from_str::<Validation>(&a.body).unwrap().plan), (200, Some("11 bytes".into())));
    assert_eq!(ask(&s.good, s.addr, None, &post("/v1/config/confirm", b"")).status, 409);
    assert_eq!(ask(&s.good, s.addr, None, &get("/v1/config")).status, 503);
    assert_eq!(ask(&s.good, s.addr, None, &get("/v1/nothing")).status, 404);
    assert_eq!(ask(&s.good, s.addr, None, b"POST /v1/config/apply HTTP/1.1\r\n\r\nAppliance()").status, 411);
    assert_eq!(ask(&s.good, s.addr, None, b"hello\r\n\r\n").status, 400);
    let big = format!("GET /v1/status HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(10_000));
    assert_eq!(ask(&s.good, s.addr, None, big.as_bytes()).status, 431);
    s.server.stop();
}

/// Connects with `config` and asks for the status: what the client sees.
fn refused_alert(config: &Arc<ClientConfig>, addr: SocketAddr) -> AlertDescription {
    match exchange(&mut tls_client(config, addr, None), &get("/v1/status")) {
        Ok(a) => panic!("answered: {a:?}"),
        Err((e, raw)) => {
            assert!(raw.is_empty(), "HTTP before the refusal: {:?}", String::from_utf8_lossy(&raw));
            match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::AlertReceived(alert)) => *alert,
                _ => panic!("not a TLS alert: {e:?}"),
            }
        }
    }
}

#[test]
fn clients_without_a_good_certificate_are_refused_at_the_handshake() {
    let s = setup("127.0.0.1");
    let none = client_config(&s.ca, None);
    assert_eq!(refused_alert(&none, s.addr), AlertDescription::CertificateRequired);
    let other = Ca::new("another CA");
    let stranger = client_config(&s.ca, Some(&other.client("stranger")));
    assert_eq!(refused_alert(&stranger, s.addr), AlertDescription::UnknownCA);
    let expired = client_config(&s.ca, Some(&s.ca.expired_client("late")));
    assert_eq!(refused_alert(&expired, s.addr), AlertDescription::CertificateExpired);
    // A client that does not trust the server's CA stops by itself, and the server still serves.
    assert_eq!(ask(&s.good, s.addr, None, &get("/v1/status")).status, 200);
    s.server.stop();
}

#[test]
fn a_body_of_2_mib_is_refused_at_once_and_the_next_client_is_served() {
    let s = setup("127.0.0.1");
    let mut client = tls_client(&s.good, s.addr, None);
    let head = format!("POST /v1/config/apply HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n", 2 << 20);
    // The head and the start of the body; the server answers without waiting for the rest.
    let mut request = head.into_bytes();
    request.extend_from_slice(&[b' '; 16 * 1024]);
    let start = Instant::now();
    let a = exchange(&mut client, &request).unwrap_or_else(|(e, raw)| panic!("{e}: {}", String::from_utf8_lossy(&raw)));
    assert_eq!(a.status, 413, "{a:?}");
    assert!(a.body.contains("larger than 1048576 bytes"), "{}", a.body);
    assert!(start.elapsed() < Duration::from_secs(2), "the 413 took {:?}", start.elapsed());
    assert_eq!(ask(&s.good, s.addr, None, &get("/v1/status")).status, 200);
    // And a body of 1 MiB exactly is taken.
    let config = vec![b' '; MAX_BODY_BYTES];
    let a = ask(&s.good, s.addr, None, &post("/v1/config/validate", &config));
    assert_eq!(
        (a.status, serde_json::from_str::<Validation>(&a.body).unwrap().plan),
        (200, Some("1048576 bytes".into()))
    );
    s.server.stop();
}

#[test]
fn log_followers_get_old_then_new_lines_and_a_fifth_gets_503() {
    let s = setup("127.0.0.1");
    let mut followers: Vec<_> = (0..4)
        .map(|_| {
            let mut c = tls_client(&s.good, s.addr, None);
            c.write_all(&get("/v1/logs?follow=1&lines=2")).unwrap();
            let mut seen = String::new();
            read_until(&mut c, &mut seen, "old 1\n");
            assert!(seen.starts_with("HTTP/1.1 200 OK\r\n") && !seen.contains("Content-Length"), "{seen}");
            assert!(seen.ends_with("\r\n\r\nold 0\nold 1\n"), "{seen}");
            c
        })
        .collect();
    let a = ask(&s.good, s.addr, None, &get("/v1/logs?follow=1"));
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(ask(&s.good, s.addr, None, &get("/v1/logs?lines=1")).body, r#"{"lines":["old 0"]}"#);
    s.fake.log("new line");
    for c in &mut followers {
        let mut seen = String::new();
        read_until(c, &mut seen, "new line\n");
    }
    // One leaves: its place is free again once the server notices.
    drop(followers.pop());
    let start = Instant::now();
    loop {
        let a = tls_client(&s.good, s.addr, None);
        let mut a = a;
        a.write_all(&get("/v1/logs?follow=1&lines=0")).unwrap();
        let mut seen = String::new();
        read_until(&mut a, &mut seen, "\r\n\r\n");
        if seen.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(start.elapsed() < BOUND, "a follower's place did not come back: {seen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    s.server.stop();
}

fn read_until(c: &mut StreamOwned<ClientConnection, TcpStream>, seen: &mut String, end: &str) {
    let mut buf = [0u8; 1024];
    while !seen.contains(end) {
        let n = c.read(&mut buf).unwrap_or_else(|e| panic!("{e} after {seen:?}"));
        assert!(n > 0, "closed after {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

#[path = "host_manage/slow.rs"]
mod slow;
#[path = "common/slowloris.rs"]
mod slowloris;
use slowloris::connect_from;
