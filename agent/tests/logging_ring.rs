//! The log ring as the logger fills it: one entry per record, exactly as the
//! log file got it (continuation lines included), and followers. A process
//! of its own, since the logger is global.

use lvs_agent::logging::{self, ring::RING};

#[test]
fn the_ring_holds_each_record_as_the_file_got_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.log");
    logging::init("lvs-agent", log::LevelFilter::Info);
    logging::attach_file(&file).unwrap();
    let follower = RING.follow();
    lvs_agent::note!(info, "config: applied a.ron");
    lvs_agent::note!(error, "config: invalid, the running config stays: a.ron:2:5: error: x\n  help: y");
    log::debug!("below the level: neither in the file nor in the ring");
    lvs_agent::note!(warn, "forged\nlvs-agent: T=1.000 ready");

    let text = std::fs::read_to_string(&file).unwrap();
    let entries = RING.last(3);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(format!("{}\n", entries.join("\n")), text, "the ring holds what the file got");
    assert_eq!(entries[1].lines().count(), 2, "a record of two lines is one entry: {entries:?}");
    assert!(entries[2].ends_with("  lvs-agent: T\\u{3d}1.000 ready"), "{entries:?}");
    assert_eq!(follower.try_iter().collect::<Vec<_>>(), entries);
    assert_eq!(RING.last(1000).len(), 3);
}
