//! The management lab (issue 14): a director booted from its disk image
//! under OVMF with the management API on, operated from the host with the
//! CLI (`lvs-agent ... --endpoint`) while a client sends requests: status,
//! a drain, a try that lapses, an apply and a confirmed try that survive a
//! reboot through the API, and an invalid config refused with its line:col.
//!
//! The files are in `tests/lab/manage/`; [`plan`] loads them and checks that
//! they make the lab the test assumes (no root needed); [`cli`] runs the
//! CLI in the lab's namespace. docs/LAB.md has the section.

pub mod cli;
pub mod judge;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::Duration;

use lvs_config::model::Role;

use crate::watch::files::{load, machine};
pub use crate::watch::Machine;

/// The client, the test itself, on the lab's bridge (seed 001's VirtualBox host).
pub const CLIENT: &str = "192.0.2.1/24";
/// The port the director's API listens on, on both its addresses.
pub const MANAGE_PORT: u16 = 9443;
/// The user-mode network of the director's eth1, as `make run` gives it.
pub const USER_NET: std::net::Ipv4Addr = std::net::Ipv4Addr::new(203, 0, 113, 0);
/// How long the lab's try runs before the agent goes back (the 20 s).
pub const TRY_WITHIN: Duration = Duration::from_secs(20);
/// How long the confirmed try may run: far longer than the test takes to confirm it.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(300);
/// The name the server's certificate carries besides its addresses.
pub const SERVER_NAME: &str = "ds1";

/// The lab's files, relative to the repository.
pub const DIRECTOR: &str = "tests/lab/manage/ds.ron";
pub const RS3: &str = "tests/lab/manage/ds-rs3.ron";
pub const APPLY: &str = "tests/lab/manage/ds-apply.ron";
pub const CONFIRM: &str = "tests/lab/manage/ds-confirm.ron";
pub const INVALID: &str = "tests/lab/manage/ds-invalid.ron";
pub const REAL_SERVERS: [&str; 2] = ["tests/lab/manage/rs1.ron", "tests/lab/manage/rs2.ron"];

/// Real server address -> weight, as a table reads (and a config says).
pub type Weights = BTreeMap<SocketAddr, u32>;

/// What the files make, as the test uses it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub ds: Machine,
    pub real_servers: [Machine; 2],
    /// The service; its name as the log and `lvs-agent weight` take it
    /// (`TCP 192.0.2.185:80`); its line as `lvs-agent status` prints it,
    /// spaces squeezed.
    pub service: SocketAddr,
    pub service_key: String,
    pub service_line: String,
    /// The API on the bridge, and on eth1 (the user-mode network).
    pub endpoint: SocketAddr,
    pub user_endpoint: SocketAddrV4,
    /// rs3 of ds-rs3.ron.
    pub rs3: SocketAddr,
    /// Each file's weights (the table with every server up).
    pub weights: BTreeMap<&'static str, Weights>,
    /// Each file's text, as pushed.
    pub texts: BTreeMap<&'static str, String>,
    /// `line:col` of the invalid file's first error, as the agent's own
    /// validation places it: what the refusal must name.
    pub invalid_at: String,
}

/// Loads every file and checks that together they make this lab.
pub fn plan() -> Result<Plan, String> {
    let mut weights = BTreeMap::new();
    let mut texts = BTreeMap::new();
    let mut listens = Vec::new();
    let mut ds = None;
    let mut service = None;
    for file in [DIRECTOR, RS3, APPLY, CONFIRM] {
        let loaded = load(file)?;
        texts.insert(file, loaded.text.clone());
        let Role::Director(d) = &loaded.model.role else { return Err(format!("{file}: not a director")) };
        let [svc] = d.services.as_slice() else { return Err(format!("{file}: one service expected")) };
        service.get_or_insert(svc.service.key.to_string());
        weights.insert(file, svc.real_servers.iter().map(|r| (r.dest.addr, r.dest.weight)).collect::<Weights>());
        let management = loaded.model.management.clone().ok_or_else(|| format!("{file}: no management"))?;
        // A pushed file without the same management would end the API.
        listens.push((file, management.listen));
        if file == DIRECTOR {
            ds = Some(machine(file, &loaded.model)?);
        }
    }
    let ds = ds.ok_or("no director")?;
    let service_key = service.ok_or("no service")?;
    let mut real_servers = Vec::new();
    for file in REAL_SERVERS {
        let loaded = load(file)?;
        real_servers.push(machine(file, &loaded.model)?);
    }
    let real_servers: [Machine; 2] = real_servers.try_into().map_err(|_| "two real servers")?;

    let endpoint = SocketAddr::new(ds.address, MANAGE_PORT);
    let user_endpoint: SocketAddrV4 = "203.0.113.181:9443".parse().map_err(|e| format!("{e}"))?;
    let want_listen = vec![endpoint, SocketAddr::V4(user_endpoint)];
    for (file, listen) in &listens {
        if *listen != want_listen {
            return Err(format!("{file}: management listens on {listen:?}, the lab expects {want_listen:?}"));
        }
    }
    let (rs1, rs2) = (SocketAddr::new(real_servers[0].address, 80), SocketAddr::new(real_servers[1].address, 80));
    let rs3: SocketAddr = "192.0.2.186:80".parse().map_err(|e| format!("{e}"))?;
    let expect = |file: &'static str, want: &[(SocketAddr, u32)]| -> Result<(), String> {
        let got = &weights[file];
        let want: Weights = want.iter().copied().collect();
        (*got == want).then_some(()).ok_or_else(|| format!("{file}: weights {got:?}, the lab expects {want:?}"))
    };
    expect(DIRECTOR, &[(rs1, 2), (rs2, 1)])?;
    expect(RS3, &[(rs1, 2), (rs2, 1), (rs3, 1)])?;
    expect(APPLY, &[(rs1, 3), (rs2, 1)])?;
    expect(CONFIRM, &[(rs1, 3), (rs2, 2)])?;

    let invalid_at = invalid_position()?;
    texts.insert(INVALID, read(INVALID)?);
    let (service, service_line) = parse_service(&service_key)?;
    Ok(Plan {
        ds,
        real_servers,
        service,
        service_key,
        service_line,
        endpoint,
        user_endpoint,
        rs3,
        weights,
        texts,
        invalid_at,
    })
}

fn read(file: &str) -> Result<String, String> {
    std::fs::read_to_string(crate::repo_root().join(file)).map_err(|e| format!("{file}: {e}"))
}

/// `TCP 192.0.2.185:80` (the key as the log names it) -> the address, and
/// the status line `TCP 192.0.2.185:80 wrr`.
fn parse_service(key: &str) -> Result<(SocketAddr, String), String> {
    let addr = key.split_whitespace().nth(1).and_then(|a| a.parse().ok()).ok_or(format!("service key {key:?}"))?;
    Ok((addr, format!("{key} wrr")))
}

/// The invalid file's first error as the agent's own validation places it,
/// under the name the guest gives it.
fn invalid_position() -> Result<String, String> {
    let text = read(INVALID)?;
    match lvs_config::parse(&text, Path::new("/config/appliance.ron")) {
        Ok(_) => Err(format!("{INVALID} validates: the lab needs it refused")),
        Err(lvs_config::ConfigError::Invalid { errors, .. }) => {
            let first = errors.first().ok_or(format!("{INVALID}: invalid with no error"))?;
            let p = first.position.ok_or_else(|| format!("{INVALID}: its error has no position: {first}"))?;
            Ok(format!("{}:{}", p.line, p.column))
        }
        Err(e) => Err(format!("{INVALID}: {e}")),
    }
}

/// The weights of the plan's service in a table read by `lvs-agent status`.
pub fn weights_in(rules: &crate::persist::Rules, service_line: &str) -> Option<Weights> {
    rules.weights(service_line)
}

/// The addresses of the host the server certificate names: the bridge
/// address and loopback (the forwarded port).
pub fn certificate_addresses(plan: &Plan) -> Vec<IpAddr> {
    vec![plan.ds.address, IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), IpAddr::V4(*plan.user_endpoint.ip())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_make_the_lab() {
        let plan = plan().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.service_line, "TCP 192.0.2.185:80 wrr");
        assert_eq!(plan.endpoint.to_string(), "192.0.2.181:9443");
        assert_eq!(plan.real_servers.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["rs1\n", "rs2\n"]);
        // The position is where the DR real server on another port is.
        let (line, col) = plan.invalid_at.split_once(':').unwrap();
        let line: usize = line.parse().unwrap();
        let col: usize = col.parse().unwrap();
        let text = &plan.texts[INVALID];
        let at = text.lines().nth(line - 1).unwrap();
        assert!(at.contains("192.0.2.187:8080"), "{}: {at:?} col {col}", plan.invalid_at);
    }
}
