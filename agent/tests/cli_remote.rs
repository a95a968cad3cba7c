//! `lvs-agent` with `--endpoint` as a user runs it, against a small HTTPS
//! server in the test that answers each path of docs/API.md with canned JSON:
//! what it prints, its exit status, what it sent, and how it tells the
//! failures an operator meets (unknown CA, certificate refused, nothing
//! listening, no answer). The certificates are made here with rcgen, as
//! `lvs-agent pki` makes them.

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A CA as `lvs-agent pki init` makes one: its certificate, and what it issues.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { pem, issuer: Issuer::new(params, key) }
    }

    /// A certificate and its key, as one PEM (server.pem, admin.pem).
    fn issue(&self, name: &str, sans: &[&str], purpose: ExtendedKeyUsagePurpose) -> String {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![purpose];
        format!("{}{}", params.signed_by(&key, &self.issuer).unwrap().pem(), key.serialize_pem())
    }
}

/// What the server was sent.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    body: String,
}

/// "METHOD /path" (no query) -> status, content type, body.
type Routes = HashMap<String, (u16, &'static str, String)>;

struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `routes` with `server_pem`, asking for a client certificate signed by `clients`.
    fn start(server_pem: &str, clients: &Ca, routes: Routes) -> Server {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(clients.pem.as_bytes()).unwrap()).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(server_pem.as_bytes()).map(Result::unwrap).collect();
        let key = PrivateKeyDer::from_pem_slice(server_pem.as_bytes()).unwrap();
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (routes, record) = (Arc::new(routes), seen.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let (config, routes, record) = (config.clone(), routes.clone(), record.clone());
                std::thread::spawn(move || serve(tcp, config, &routes, &record));
            }
        });
        Server { port, seen }
    }

    fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// One request, one answer, as the appliance serves them (Connection: close).
fn serve(tcp: TcpStream, config: Arc<ServerConfig>, routes: &Routes, seen: &Mutex<Vec<Seen>>) {
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let raw = tcp.try_clone().unwrap();
    let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tls.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(_) => {
                // The handshake failed and rustls sent its alert: let the
                // client read it rather than meet a reset.
                let _ = raw.shutdown(Shutdown::Write);
                let _ = raw.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = std::io::copy(&mut &raw, &mut std::io::sink());
                return;
            }
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap().to_string(), words.next().unwrap().to_string());
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = tls.read(&mut chunk).unwrap();
        assert!(n > 0, "the body ended early");
        bytes.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).to_string();
    let path = target.split('?').next().unwrap().to_string();
    seen.lock().unwrap().push(Seen { method: method.clone(), target, body });
    let (status, kind, answer) = routes.get(&format!("{method} {path}")).cloned().unwrap_or((
        404,
        "application/json",
        r#"{"error": "no such path"}"#.to_string(),
    ));
    let length = if kind == "text/plain" { String::new() } else { format!("Content-Length: {}\r\n", answer.len()) };
    let reply = format!("HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n{length}Connection: close\r\n\r\n{answer}");
    let _ = tls.write_all(reply.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// The appliance's CA, its server certificate for 127.0.0.1, and the files
/// the operator holds, in a folder.
struct Pki {
    dir: tempfile::TempDir,
    ca: Ca,
    other: Ca,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki { dir: tempfile::tempdir().unwrap(), ca: Ca::new("appliance CA"), other: Ca::new("another CA") };
        pki.write("ca.pem", &pki.ca.pem);
        pki.write("other-ca.pem", &pki.other.pem);
        pki.write("admin.pem", &pki.ca.issue("admin", &[], ExtendedKeyUsagePurpose::ClientAuth));
        pki.write("stranger.pem", &pki.other.issue("stranger", &[], ExtendedKeyUsagePurpose::ClientAuth));
        pki
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn server(&self, routes: Routes) -> Server {
        let pem = self.ca.issue("lb1", &["lb1.example.net", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
        Server::start(&pem, &self.ca, routes)
    }
}

fn routes(list: &[(&str, u16, &str)]) -> Routes {
    list.iter().map(|(k, s, b)| (k.to_string(), (*s, "application/json", b.to_string()))).collect()
}

/// lvs-agent ARGS --endpoint ... --identity admin.pem --ca ca.pem, with no LVS_* from outside.
fn agent(pki: &Pki, endpoint: &str, args: &[&str]) -> Output {
    agent_as(pki, endpoint, "admin.pem", "ca.pem", args)
}

fn agent_as(pki: &Pki, endpoint: &str, identity: &str, ca: &str, args: &[&str]) -> Output {
    let mut cmd = bare();
    cmd.args(args).args(["--endpoint", endpoint, "--identity", &pki.path(identity), "--ca", &pki.path(ca)]);
    cmd.output().unwrap()
}

fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvs-agent"));
    for var in ["LVS_ENDPOINT", "LVS_IDENTITY", "LVS_CA", "LVS_REQUEST_TIMEOUT"] {
        cmd.env_remove(var);
    }
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn expect(out: &Output, status: i32) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(status), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

const LISTING: &str = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  192.0.2.80:80 wrr\n  -> 198.51.100.1:80              Route   1      0          0\n";

fn status_answer() -> String {
    serde_json::json!({
        "listing": LISTING,
        "table": {"schema_version": 1, "services": [{"name": "TCP  192.0.2.80:80"}]},
        "health": [{"service": "TCP 192.0.2.80:80", "real_server": "198.51.100.1:80", "state": "up"}],
    })
    .to_string()
}

#[test]
fn status_prints_the_listing_then_health_and_json_has_health() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("GET /v1/status", 200, &status_answer())]));
    let (stdout, _) = expect(&agent(&pki, &server.endpoint(), &["status", "--stats", "--exact"]), 0);
    assert_eq!(stdout, format!("{LISTING}\nHealth\n  TCP 192.0.2.80:80  198.51.100.1:80  up\n"));
    assert_eq!(server.seen()[0].target, "/v1/status?stats=1&exact=1");

    let (stdout, _) = expect(&agent(&pki, &server.endpoint(), &["status", "--json"]), 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["services"][0]["name"], "TCP  192.0.2.80:80");
    assert_eq!(doc["health"][0]["state"], "up");
}

#[test]
fn the_environment_gives_endpoint_identity_and_ca() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("GET /v1/status", 200, &status_answer())]));
    let out = bare()
        .arg("status")
        .env("LVS_ENDPOINT", server.endpoint())
        .env("LVS_IDENTITY", pki.path("admin.pem"))
        .env("LVS_CA", pki.path("ca.pem"))
        .output()
        .unwrap();
    let (stdout, _) = expect(&out, 0);
    assert!(stdout.starts_with(LISTING), "{stdout}");

    // An endpoint with no identity is a usage error, before any connection.
    let out = bare().arg("status").env("LVS_ENDPOINT", server.endpoint()).env("LVS_CA", pki.path("ca.pem")).output();
    let (_, stderr) = expect(&out.unwrap(), 2);
    assert!(stderr.contains("--identity <FILE>"), "{stderr}");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn config_prints_the_running_text_exactly_and_says_where_it_is_from() {
    let pki = Pki::new();
    let config = "Appliance(\n  role: Director(services: []),\n)\n";
    let answer = serde_json::json!({"path": "/config/appliance.ron", "text": config, "hash": "0123456789abcdef", "trying": null});
    let server = pki.server(routes(&[("GET /v1/config", 200, &answer.to_string())]));
    let (stdout, stderr) = expect(&agent(&pki, &server.endpoint(), &["config"]), 0);
    assert_eq!(stdout, config);
    assert!(stderr.contains("/config/appliance.ron (hash 0123456789abcdef)"), "{stderr}");
}

#[test]
fn apply_sends_the_file_and_a_refusal_shows_line_and_column_with_status_2() {
    let pki = Pki::new();
    let error = "candidate.ron:3:27: error: unknown scheduler \"wrrr\"\n  help: one of rr, wrr, lc, wlc, ...";
    let server = pki.server(routes(&[
        ("POST /v1/config/apply", 422, &serde_json::json!({ "error": error }).to_string()),
        ("POST /v1/config/try", 200, r#"{"message": "lvs-agent: trying the config for 20s"}"#),
    ]));
    let file =
        pki.write("new.ron", "Appliance(\n  role: Director(services: [\n    Service(scheduler: \"wrrr\"),\n  ]),\n)\n");
    let (stdout, stderr) = expect(&agent(&pki, &server.endpoint(), &["apply", file.to_str().unwrap()]), 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains(&format!("{} answered 422", server.endpoint())), "{stderr}");
    assert!(stderr.contains(error), "{stderr}");
    assert!(stderr.contains("nothing applied: the running config stays"), "{stderr}");
    let seen = server.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("POST", "/v1/config/apply"));
    assert_eq!(seen[0].body, std::fs::read_to_string(&file).unwrap());

    let (stdout, _) = expect(&agent(&pki, &server.endpoint(), &["try", file.to_str().unwrap(), "--within", "20s"]), 0);
    assert_eq!(stdout, "lvs-agent: trying the config for 20s\n");
    assert_eq!(server.seen()[1].target, "/v1/config/try?within=20s");

    // Larger than the API takes: refused here, nothing sent.
    let big = pki.write("big.ron", &format!("Appliance()\n{}", "//\n".repeat(400_000)));
    let (_, stderr) = expect(&agent(&pki, &server.endpoint(), &["apply", big.to_str().unwrap()]), 2);
    assert!(stderr.contains("more than the appliance takes over the network (1048576 bytes at most"), "{stderr}");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn weight_sends_the_ask_and_prints_what_changed() {
    let pki = Pki::new();
    let message = "lvs-agent: TCP 192.0.2.80:80 198.51.100.1:80: weight 0 (drain), 3 connections still active";
    let server =
        pki.server(routes(&[("POST /v1/weight", 200, &serde_json::json!({ "message": message }).to_string())]));
    let out = agent(&pki, &server.endpoint(), &["weight", "TCP 192.0.2.80:80", "198.51.100.1:80", "drain"]);
    let (stdout, _) = expect(&out, 0);
    assert_eq!(stdout, format!("{message}\n"));
    let ask: serde_json::Value = serde_json::from_str(&server.seen()[0].body).unwrap();
    assert_eq!(
        ask,
        serde_json::json!({"service": "TCP 192.0.2.80:80", "real_server": "198.51.100.1:80", "weight": "drain"})
    );
}

#[test]
fn logs_prints_the_last_lines_and_follows_the_stream() {
    let pki = Pki::new();
    let mut r =
        routes(&[("GET /v1/logs", 200, r#"{"lines": ["lvs-agent: T=1.000 started", "lvs-agent: T=2.000 ready"]}"#)]);
    let server = pki.server(r.clone());
    let (stdout, _) = expect(&agent(&pki, &server.endpoint(), &["logs", "-n", "2"]), 0);
    assert_eq!(stdout, "lvs-agent: T=1.000 started\nlvs-agent: T=2.000 ready\n");
    assert_eq!(server.seen()[0].target, "/v1/logs?lines=2");

    r.insert("GET /v1/logs".into(), (200, "text/plain", "lvs-agent: T=1.000 a\nlvs-agent: T=3.000 b\n".into()));
    let server = pki.server(r);
    let (stdout, stderr) = expect(&agent(&pki, &server.endpoint(), &["logs", "-f"]), 0);
    assert_eq!(stdout, "lvs-agent: T=1.000 a\nlvs-agent: T=3.000 b\n");
    assert!(stderr.contains("ended the log stream"), "{stderr}");
    assert_eq!(server.seen()[0].target, "/v1/logs?follow=1&lines=100");
}

#[test]
fn a_server_certificate_from_another_ca_is_an_unknown_ca() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("GET /v1/status", 200, &status_answer())]));
    let out = agent_as(&pki, &server.endpoint(), "admin.pem", "other-ca.pem", &["status"]);
    let (stdout, stderr) = expect(&out, 1);
    assert_eq!(stdout, "");
    assert!(stderr.contains(&server.endpoint()), "{stderr}");
    assert!(stderr.contains("unknown CA"), "{stderr}");
    assert!(
        stderr.contains("is --ca the ca.pem of the `lvs-agent pki init` that made this appliance's server.pem?"),
        "{stderr}"
    );
    assert!(server.seen().is_empty());
}

#[test]
fn a_certificate_for_other_names_says_which_it_has() {
    let pki = Pki::new();
    let pem = pki.ca.issue("lb2", &["lb2.example.net", "192.0.2.99"], ExtendedKeyUsagePurpose::ServerAuth);
    let server = Server::start(&pem, &pki.ca, routes(&[]));
    let (_, stderr) = expect(&agent(&pki, &server.endpoint(), &["status"]), 1);
    assert!(stderr.contains("not valid for 127.0.0.1"), "{stderr}");
    assert!(stderr.contains("lb2.example.net") && stderr.contains("192.0.2.99"), "{stderr}");
    assert!(stderr.contains("--address 127.0.0.1"), "{stderr}");
}

#[test]
fn a_client_certificate_from_another_ca_is_refused_by_the_appliance() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("GET /v1/status", 200, &status_answer())]));
    let out = agent_as(&pki, &server.endpoint(), "stranger.pem", "ca.pem", &["status"]);
    let (_, stderr) = expect(&out, 1);
    assert!(stderr.contains(&server.endpoint()), "{stderr}");
    assert!(stderr.contains("certificate refused"), "{stderr}");
    assert!(stderr.contains("is --identity"), "{stderr}");
    assert!(stderr.contains("signed by the appliance's CA, not expired, not revoked?"), "{stderr}");
    assert!(server.seen().is_empty());
}

#[test]
fn nothing_listening_is_connection_refused() {
    let pki = Pki::new();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("127.0.0.1:{port}");
    let (_, stderr) = expect(&agent(&pki, &endpoint, &["status"]), 1);
    assert!(stderr.contains(&format!("{endpoint}: connection refused")), "{stderr}");
    assert!(stderr.contains("is `management:` in the appliance's config"), "{stderr}");
    assert!(stderr.contains("port forwarded?"), "{stderr}");
}

#[test]
fn no_answer_is_a_timeout_naming_how_long() {
    let pki = Pki::new();
    // Connections complete in the backlog, and nothing ever answers them.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = silent.local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    let (_, stderr) = expect(&agent(&pki, &endpoint, &["status", "--request-timeout", "1s"]), 1);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(stderr.contains(&endpoint), "{stderr}");
    assert!(stderr.contains("within 1s"), "{stderr}");
    drop(silent);
}

#[test]
fn a_missing_identity_file_is_named_and_nothing_is_sent() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("POST /v1/reboot", 200, r#"{"message": "rebooting"}"#)]));
    let (_, stderr) = expect(&agent_as(&pki, &server.endpoint(), "none.pem", "ca.pem", &["reboot"]), 1);
    assert!(stderr.contains("--identity ") && stderr.contains("none.pem: cannot read it"), "{stderr}");
    assert!(server.seen().is_empty());
    let (stdout, _) = expect(&agent(&pki, &server.endpoint(), &["reboot"]), 0);
    assert_eq!(stdout, "rebooting\n");
}

#[test]
fn confirm_with_no_try_is_a_conflict_with_status_2() {
    let pki = Pki::new();
    let server = pki.server(routes(&[("POST /v1/config/confirm", 409, r#"{"error": "no try is running"}"#)]));
    let (_, stderr) = expect(&agent(&pki, &server.endpoint(), &["confirm"]), 2);
    assert!(stderr.contains("answered 409 (conflict):\nno try is running"), "{stderr}");
}
