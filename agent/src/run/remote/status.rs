//! `GET /v1/status` from one kernel snapshot, rendered as `lvs-agent status`
//! renders it, and what a drain leaves behind. Pure.

use crate::manage::api::{HealthRow, StatusAnswer, StatusQuery};
use crate::manage::OpError;
use crate::status::{self, Format, Options, StatusView};
use lvs_ipvs::{Endpoint, IpvsError, Snapshot};

/// The kernel's table could not be read: why, and what to do.
pub fn unreadable(e: IpvsError) -> OpError {
    OpError::Failed(format!(
        "cannot read the kernel's IPVS table: {e}; a real server has none (ip_vs is not loaded there): ask its director"
    ))
}

/// The listing with the query's options, the `--json` document, the health.
pub fn answer(snapshot: &Snapshot, query: &StatusQuery, health: Vec<HealthRow>) -> StatusAnswer {
    let listing = if query.timeout {
        status::render_timeouts(&snapshot.timeouts)
    } else if query.daemon {
        let daemons: Vec<_> = snapshot.daemons.iter().map(status::DaemonStatus::from).collect();
        status::render_daemons(&daemons)
    } else {
        status::render(snapshot, &options(query, Format::from_ipvsadm_flags(query.stats, query.rate)))
    };
    let view = StatusView::new(snapshot, &options(query, Format::Json));
    // Plain strings and integers: serialising cannot fail; Null if it ever did.
    let table = serde_json::to_value(view).unwrap_or_default();
    StatusAnswer { listing, table, health }
}

fn options(query: &StatusQuery, format: Format) -> Options {
    Options {
        format,
        exact: query.exact,
        thresholds: query.thresholds,
        persistent_conn: query.persistent_conn,
        tun_info: query.tun_info,
        nosort: query.nosort,
    }
}

/// After a drain: how many connections the real server still has, from a
/// snapshot taken after the weight went to 0 (or why it could not be taken).
pub fn still_active(snapshot: Result<&Snapshot, &String>, service: &str, real_server: Endpoint) -> String {
    let snapshot = match snapshot {
        Ok(s) => s,
        Err(e) => return format!("drained; its connections cannot be counted: {e}"),
    };
    let entry = snapshot.services.iter().find(|e| e.service.key.to_string().eq_ignore_ascii_case(service));
    let Some(entry) = entry else {
        return format!("drained; the kernel has no service {service} (yet): no connections to count");
    };
    let addr = real_server.with_default_port(entry.service.key.port().unwrap_or(0));
    match entry.dests.iter().find(|d| d.dest.addr == addr) {
        Some(d) => format!(
            "drained: {addr} still has {} active and {} inactive connections in {service}; it is idle when both are 0",
            d.active_conns, d.inactive_conns
        ),
        None => format!("drained: {addr} is not in the kernel's {service}: no connections left"),
    }
}
