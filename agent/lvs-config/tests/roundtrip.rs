//! Property: for any table a config can express, export then import gives the
//! same table, and export -> import -> config file -> check -> export is a fixed point.

use lvs_config::{self as config, from_table, model::Role};
use lvs_ipvs::ipvsadm::{export, import, ImportOptions};
use lvs_ipvs::*;
use proptest::prelude::*;

mod common;
use common::tables::table;
use std::path::Path;

/// The longest IPVS timeout a config takes: INT_MAX / HZ seconds at HZ=1000,
/// what every kernel takes. The kernel tables generated go up to ipvsadm's 31 days.
const MAX_TIMEOUT_SECS: u32 = i32::MAX as u32 / 1000;

/// The tables a config can express: those of `table()`, with timeouts a
/// config takes, and no real server at its own service's address and port.
fn expressible_table() -> impl Strategy<Value = Table> {
    table().prop_map(|mut t| {
        for secs in [&mut t.timeouts.tcp, &mut t.timeouts.tcp_fin, &mut t.timeouts.udp] {
            *secs = (*secs).min(MAX_TIMEOUT_SECS);
        }
        for vs in &mut t.services {
            let key = vs.service.key;
            vs.dests.retain(|d| !matches!(key, ServiceKey::Inet { addr, .. } if addr == d.addr));
        }
        t
    })
}

/// The table as a config file, read back and validated, as `import` then `check` would.
fn through_config(t: &Table) -> Table {
    let ron = config::to_ron(&from_table::director_file(t));
    let loaded = config::parse(&ron, Path::new("roundtrip.ron")).unwrap_or_else(|e| panic!("{e}\n{ron}"));
    let Role::Director(d) = loaded.model.role else { panic!("not a director") };
    d.table()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn export_then_import_gives_the_same_table(t in table()) {
        let (text, _) = export(&t);
        let back = import(&text, &ImportOptions { strict: true }).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        prop_assert_eq!(back.table, t);
    }

    #[test]
    fn a_table_survives_being_written_as_a_config(t in expressible_table()) {
        prop_assert_eq!(through_config(&t), t);
    }

    #[test]
    fn export_import_export_is_a_fixed_point(t in expressible_table()) {
        let first = export(&through_config(&t)).0;
        let again = import(&first, &ImportOptions { strict: true }).unwrap().table;
        let second = export(&through_config(&again)).0;
        prop_assert_eq!(first, second);
    }
}
