//! What each fuzz target does with its input, in one place: the targets in
//! fuzz_targets/ call these, and so do the regression tests (tests/), which
//! run every input kept in regressions/ under plain `cargo test`.
//!
//! Each function feeds the bytes to one parser as the agent meets them and
//! fails (panics) only where the parser itself would: a panic, an overflow,
//! or a property the parser promises (what it accepts, it writes back and
//! reads again the same).

mod netlink;

use std::path::Path;

/// Inputs longer than this are cut: the parsers refuse far shorter files
/// before parsing, and libFuzzer's own cap is smaller still.
const MAX_INPUT: usize = 1 << 20;

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(&data[..data.len().min(MAX_INPUT)]).into_owned()
}

/// A RON config, as `check` and the agent read it. What validates is written
/// back as RON, which must validate again.
pub fn config(data: &[u8]) {
    let text = text(data);
    if let Ok(loaded) = lvs_config::parse(&text, Path::new("fuzz.ron")) {
        let again = lvs_config::to_ron(&loaded.raw);
        if let Err(e) = lvs_config::parse(&again, Path::new("again.ron")) {
            panic!("a config that validated does not validate once written back:\n{again}\n{e}");
        }
    }
}

/// ipvsadm rules or script lines, as `import ipvsadm` reads them, leniently
/// and strictly. A table that imports is exported and must import again to
/// the same table.
pub fn ipvsadm(data: &[u8]) {
    use lvs_ipvs::ipvsadm::{export, import, ImportOptions};
    let text = text(data);
    let _ = import(&text, &ImportOptions { strict: true });
    if let Ok(imported) = import(&text, &ImportOptions { strict: false }) {
        let (rules, warnings) = export(&imported.table);
        if !warnings.is_empty() {
            // Something rules cannot say was left out, and the export says so.
            return;
        }
        match import(&rules, &ImportOptions { strict: true }) {
            Ok(again) => assert_eq!(again.table, imported.table, "export then import changed the table:\n{rules}"),
            Err(e) => panic!("exported rules do not import again:\n{rules}\n{e}"),
        }
    }
}

/// A state file, as the agent reads it at start and `restore` does.
pub fn state(data: &[u8]) {
    if let Ok(state) = lvs_agent::state::format::decode(data) {
        let again = lvs_agent::state::format::encode(&state);
        assert_eq!(lvs_agent::state::format::decode(again.as_bytes()).ok(), Some(state), "re-encoded state differs");
    }
}

/// The kernel's replies, as the netlink client reads them: the input is a
/// sequence of datagrams answering the client's dumps and questions.
pub fn netlink(data: &[u8]) {
    netlink::replies(data);
}

/// A request head to the built-in HTTP server, arriving in pieces: the first
/// byte says how many of the next bytes are piece lengths. Read piece by
/// piece, it must read as it does whole.
pub fn http_head(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let (pieces, bytes) = rest.split_at(usize::from(n % 16).min(rest.len()));
    let pieces: Vec<usize> = pieces.iter().map(|&p| usize::from(p)).collect();
    let bytes = &bytes[..bytes.len().min(MAX_INPUT)];
    assert_eq!(
        lvs_agent::http::read_head(bytes, &pieces),
        lvs_agent::http::read_head(bytes, &[]),
        "read in pieces {pieces:?}, the head reads otherwise than whole"
    );
}

/// A request to the management API, as a client's bytes reach it after TLS:
/// the head, the body's length, the query, the JSON, the route. Every
/// request with a whole head gets one of the API's statuses (docs/API.md).
pub fn manage_request(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Some(status) = lvs_agent::manage::answer_request(data) {
        assert!(
            [200, 400, 404, 405, 408, 409, 411, 413, 422, 431, 500, 503, 505].contains(&status),
            "status {status} is not one the API gives"
        );
    }
}
