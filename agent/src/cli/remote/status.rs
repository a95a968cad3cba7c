//! `lvs-agent status --endpoint`: the appliance's table as the local command
//! prints it, and the health of each checked real server, which only the
//! running agent knows: as a section after the listing, or as `health` in
//! the JSON document.

use super::{Client, RemoteError};
use lvs_agent::manage::api::{HealthRow, StatusAnswer, StatusQuery};
use serde_json::Value;

/// What to print of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The listing, then the health section.
    Listing,
    /// Only the listing: `--timeout` and `--daemon` show no real servers.
    ListingOnly,
    /// The JSON document with `health` in it.
    Json,
}

pub fn run(client: &Client, query: &StatusQuery, shown: Shown) -> Result<i32, RemoteError> {
    let answer: StatusAnswer = client.get(&format!("/status{}", query_string(query)))?;
    print!("{}", render(&answer, shown));
    Ok(0)
}

/// `?stats=1&exact=1`, or nothing.
pub fn query_string(q: &StatusQuery) -> String {
    let flags = [
        ("stats", q.stats),
        ("rate", q.rate),
        ("exact", q.exact),
        ("thresholds", q.thresholds),
        ("persistent_conn", q.persistent_conn),
        ("tun_info", q.tun_info),
        ("nosort", q.nosort),
        ("timeout", q.timeout),
        ("daemon", q.daemon),
    ];
    let set: Vec<String> = flags.iter().filter(|(_, on)| *on).map(|(name, _)| format!("{name}=1")).collect();
    if set.is_empty() {
        String::new()
    } else {
        format!("?{}", set.join("&"))
    }
}

pub fn render(answer: &StatusAnswer, shown: Shown) -> String {
    match shown {
        Shown::Json => {
            // Pretty, as the local --json prints it; plain data cannot fail to serialise.
            let mut text = serde_json::to_string_pretty(&with_health(&answer.table, &answer.health))
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            text.push('\n');
            text
        }
        Shown::ListingOnly => ensure_newline(&answer.listing),
        Shown::Listing => format!("{}{}", ensure_newline(&answer.listing), health_section(&answer.health)),
    }
}

fn ensure_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// The `status --json` document with `health` added beside `services`: the
/// document only grows, so a script reading the local one reads this too.
pub fn with_health(table: &Value, health: &[HealthRow]) -> Value {
    let rows = serde_json::to_value(health).unwrap_or(Value::Null);
    match table {
        Value::Object(map) => {
            let mut map = map.clone();
            map.insert("health".to_string(), rows);
            Value::Object(map)
        }
        other => serde_json::json!({ "table": other, "health": rows }),
    }
}

/// After the listing, one line per checked real server:
///
/// ```text
///
/// Health
///   TCP 192.0.2.80:80  198.51.100.1:80  up
/// ```
pub fn health_section(rows: &[HealthRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let service = rows.iter().map(|r| r.service.len()).max().unwrap_or(0);
    let real_server = rows.iter().map(|r| r.real_server.len()).max().unwrap_or(0);
    let mut out = String::from("\nHealth\n");
    for r in rows {
        out.push_str(&format!("  {:service$}  {:real_server$}  {}\n", r.service, r.real_server, r.state));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &str, rs: &str, state: &str) -> HealthRow {
        HealthRow { service: service.into(), real_server: rs.into(), state: state.into() }
    }

    #[test]
    fn the_query_carries_the_listing_options() {
        assert_eq!(query_string(&StatusQuery::default()), "");
        let q = StatusQuery { stats: true, exact: true, nosort: true, ..Default::default() };
        assert_eq!(query_string(&q), "?stats=1&exact=1&nosort=1");
    }

    #[test]
    fn health_follows_the_listing_in_columns() {
        let answer = StatusAnswer {
            listing: "IP Virtual Server version 1.2.1 (size=4096)\n".into(),
            table: serde_json::json!({"schema_version": 1, "services": []}),
            health: vec![
                row("TCP 192.0.2.80:80", "198.51.100.1:80", "up"),
                row("UDP 192.0.2.80:53", "198.51.100.12:53", "down"),
            ],
        };
        assert_eq!(
            render(&answer, Shown::Listing),
            "IP Virtual Server version 1.2.1 (size=4096)\n\nHealth\n\
             \x20 TCP 192.0.2.80:80  198.51.100.1:80   up\n\
             \x20 UDP 192.0.2.80:53  198.51.100.12:53  down\n"
        );
        assert_eq!(render(&answer, Shown::ListingOnly), "IP Virtual Server version 1.2.1 (size=4096)\n");
        let json: Value = serde_json::from_str(&render(&answer, Shown::Json)).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(
            json["health"][1],
            serde_json::json!({"service": "UDP 192.0.2.80:53", "real_server": "198.51.100.12:53", "state": "down"})
        );
        let no_health = StatusAnswer { health: vec![], ..answer };
        assert_eq!(render(&no_health, Shown::Listing), "IP Virtual Server version 1.2.1 (size=4096)\n");
    }
}
