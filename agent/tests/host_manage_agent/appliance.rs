//! The appliance as an operator meets it: the real `lvs-agent run` on a real
//! server's config with `management`, its pki made by the real `lvs-agent
//! pki`, and the real CLI with `--endpoint`; plus raw TLS clients made from
//! the same PEM files, for what the CLI would not send.

use super::common::agent::{Agent, AGENT};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

/// The management API's address in the test's namespace.
pub const ENDPOINT: &str = "127.0.0.1:9443";
/// What the tests allow for what takes the agent milliseconds.
pub const LIMIT: Duration = Duration::from_secs(10);

pub struct Appliance {
    pub agent: Agent,
    pub dir: tempfile::TempDir,
    /// The operator's pki folder, which is also the agent's `pki`.
    pub pki: PathBuf,
    /// The agent's config file.
    pub file: PathBuf,
}

/// `lvs-agent ARGS`, which must succeed.
pub fn lvs_agent(args: &[&str]) -> String {
    let out = Command::new(AGENT).args(args).output().unwrap();
    assert!(out.status.success(), "lvs-agent {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Appliance {
    /// `pki init` (admin), `pki client` bob and eve, `pki revoke` eve, all
    /// before the agent starts on `config(pki, "one")`; then ready and serving.
    pub fn start() -> Appliance {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        let p = pki.to_str().unwrap();
        lvs_agent(&["pki", "init", p, "--name", "rs1", "--address", "127.0.0.1"]);
        lvs_agent(&["pki", "client", p, "--name", "bob"]);
        lvs_agent(&["pki", "client", p, "--name", "eve"]);
        lvs_agent(&["pki", "revoke", p, "--name", "eve"]);
        let agent = Agent::start(dir.path(), &config(&pki, "one"));
        let file = dir.path().join("appliance.ron");
        let run = dir.path().join("run");
        agent.wait("ready", LIMIT, |_| run.join("ready").exists());
        agent.wait("the API served", LIMIT, |a| a.log().contains(&format!("management: serving on {ENDPOINT}")));
        let appliance = Appliance { agent, dir, pki, file };
        appliance.serves("one");
        appliance
    }

    /// A file in the test's folder (outside the pki folder).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `lvs-agent ARGS --endpoint .. --identity PKI/NAME.pem --ca PKI/ca.pem`, with no LVS_* from outside.
    pub fn cli_as(&self, name: &str, args: &[&str]) -> Output {
        self.cli_with(&self.pki.join(format!("{name}.pem")), &self.pki.join("ca.pem"), args)
    }

    pub fn cli_with(&self, identity: &Path, ca: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(AGENT);
        for var in ["LVS_ENDPOINT", "LVS_IDENTITY", "LVS_CA", "LVS_REQUEST_TIMEOUT"] {
            cmd.env_remove(var);
        }
        cmd.args(args).args(["--endpoint", ENDPOINT, "--identity", identity.to_str().unwrap()]);
        cmd.args(["--ca", ca.to_str().unwrap()]).output().unwrap()
    }

    /// [`Appliance::cli_as`] admin, which must exit with `status`: its stdout and stderr.
    pub fn cli(&self, status: i32, args: &[&str]) -> (String, String) {
        expect(&self.cli_as("admin", args), status)
    }

    pub fn config_text(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap()
    }

    pub fn prev_text(&self) -> String {
        std::fs::read_to_string(self.file.with_extension("ron.prev")).unwrap()
    }

    /// Waits until the built-in HTTP server answers `body`.
    pub fn serves(&self, body: &str) {
        self.agent.wait(&format!("serving {body:?}"), LIMIT, |_| served().as_deref() == Some(body));
    }

    /// A client trusting the pki's CA, showing `identity` (a PEM file with
    /// the certificate and its key), or no certificate.
    pub fn tls(&self, identity: Option<&Path>) -> Arc<ClientConfig> {
        client_config(&self.pki.join("ca.pem"), identity)
    }
}

/// The exit status must be `status`: stdout and stderr.
pub fn expect(out: &Output, status: i32) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(status), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

/// A real server's config whose built-in HTTP server answers `body`, with
/// the management API on [`ENDPOINT`] and its certificates in `pki`.
pub fn config(pki: &Path, body: &str) -> String {
    format!(
        "Appliance(\n    role: RealServer(mode: DirectRouting, vips: [\"192.0.2.80\"],\n        \
         http: StaticHttp(port: 8080, body: \"{body}\")),\n    \
         management: Management(listen: [\"{ENDPOINT}\"], pki: \"{}\"),\n)\n",
        pki.display()
    )
}

pub use crate::common::host::served;

pub fn client_config(ca: &Path, identity: Option<&Path>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(path) => {
            let chain = CertificateDer::pem_file_iter(path).unwrap().map(Result::unwrap).collect();
            builder.with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(path).unwrap()).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A TLS client of [`ENDPOINT`], and the address it connects from (what the agent logs).
pub fn connect(config: &Arc<ClientConfig>) -> (Tls, SocketAddr) {
    let tcp = TcpStream::connect(ENDPOINT).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    let from = tcp.local_addr().unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    (StreamOwned::new(ClientConnection::new(config.clone(), name).unwrap(), tcp), from)
}

/// Sends `request` and reads to the end: what arrived, or the error and what arrived before it.
pub fn exchange(client: &mut Tls, request: &[u8]) -> Result<Vec<u8>, (std::io::Error, Vec<u8>)> {
    let mut raw = Vec::new();
    if let Err(e) = client.write_all(request).and_then(|()| client.flush()) {
        return Err((e, raw));
    }
    match client.read_to_end(&mut raw) {
        Ok(_) => Ok(raw),
        Err(e) => Err((e, raw)),
    }
}
