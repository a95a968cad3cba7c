//! What the host tests read back from the kernel (`ip`, /proc/sys) and the
//! configs they apply.

use std::path::Path;
use std::process::Command;

/// `ip ARGS` (split on spaces), which must succeed; its output.
pub fn ip(args: &str) -> String {
    let out = Command::new("ip").args(args.split_whitespace()).output().expect("run ip");
    assert!(out.status.success(), "ip {args}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether link `dev` has the UP flag.
pub fn is_up(dev: &str) -> bool {
    let line = ip(&format!("-o link show dev {dev}"));
    line.split(['<', '>']).nth(1).unwrap_or_default().split(',').any(|f| f == "UP")
}

/// The value of `/proc/sys/PATH`, trimmed.
pub fn sysctl(path: &str) -> String {
    std::fs::read_to_string(Path::new("/proc/sys").join(path)).unwrap().trim().to_string()
}

/// The model of a config the test knows to be valid.
pub fn model(text: &str) -> lvs_config::model::Appliance {
    match lvs_config::parse(text, Path::new("test.ron")) {
        Ok(l) => l.model,
        Err(e) => panic!("test config is invalid: {e}"),
    }
}

/// The body the built-in HTTP server of the configs these tests run
/// (`StaticHttp(port: 8080, ...)`) answers on 127.0.0.1, if it answers.
pub fn served() -> Option<String> {
    use std::io::{Read, Write};
    let addr = "127.0.0.1:8080".parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    raw.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}
