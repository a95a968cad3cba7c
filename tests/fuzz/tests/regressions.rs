//! Every input in regressions/<target>/ through its target, under plain
//! `cargo test`: inputs that once crashed a parser (and the seeds that show
//! each parser's good path) stay fixed.

use std::path::Path;

fn each(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n > 0, "no inputs in {}", dir.display());
}

#[test]
fn config() {
    each("config", lvs_fuzz::config);
}

#[test]
fn ipvsadm() {
    each("ipvsadm", lvs_fuzz::ipvsadm);
}

#[test]
fn state() {
    each("state", lvs_fuzz::state);
}

#[test]
fn netlink() {
    each("netlink", lvs_fuzz::netlink);
}

#[test]
fn http_head() {
    each("http_head", lvs_fuzz::http_head);
}

#[test]
fn manage_request() {
    each("manage_request", lvs_fuzz::manage_request);
}
