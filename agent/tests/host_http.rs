//! Host test: the built-in HTTP server on a real socket, on 127.0.0.1 with an
//! ephemeral port (and, for the all-addresses bind, in a network namespace of
//! its own, so that nothing listens outside loopback).

use lvs_agent::http::{self, HttpError, HttpServer, Limits};
use lvs_config::model::{HttpContent, StaticHttp};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
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
