//! Test code acting as a client on the lab's network: a thread of our own
//! process enters the lab's namespace (setns on that thread only) and talks
//! with std::net, so no curl or wget is needed on the host.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

use super::error::{LabError, Result};

/// Runs `f` on a fresh thread inside the network namespace at `netns_path`.
/// Only that thread moves: the caller's thread and the rest of the test
/// process stay in the host namespace.
pub fn in_netns<F, T>(netns_path: &Path, f: F) -> Result<T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let netns = netns_path.display().to_string();
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| -> Result<T> {
            let file = File::open(netns_path).map_err(|e| LabError::io(format!("opening namespace {netns}"), e))?;
            setns(&file, CloneFlags::CLONE_NEWNET)
                .map_err(|e| LabError::io(format!("entering namespace {netns}"), e.into()))?;
            Ok(f())
        });
        handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Lab traffic goes to the documentation ranges and loopback only.
pub fn ensure_lab_address(ip: IpAddr) -> Result<()> {
    let ok = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback() || o[..3] == [192, 0, 2] || o[..3] == [198, 51, 100] || o[..3] == [203, 0, 113]
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.segments()[..2] == [0x2001, 0x0db8],
    };
    if ok {
        Ok(())
    } else {
        Err(LabError::Address { addr: ip.to_string() })
    }
}

/// What [`http_get`] read: status, headers and the whole body.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header named `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 GET from inside the namespace; `timeout` bounds the connect
/// and each read and write.
pub fn http_get(netns_path: &Path, addr: SocketAddr, path: &str, timeout: Duration) -> Result<HttpResponse> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let raw = tcp_exchange(netns_path, addr, request.as_bytes(), timeout)?;
    parse_response(&raw).map_err(|m| netns_error(netns_path, &format!("HTTP GET http://{addr}{path}"), m))
}

/// Like [`http_get`], but the connection leaves from `source`, an address the
/// namespace holds (e.g. a second address on a bridge): a second client on the
/// same L2, for what depends on the client's address (IPVS persistence).
pub fn http_get_from(
    netns_path: &Path,
    source: IpAddr,
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<HttpResponse> {
    ensure_lab_address(source)?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let raw = exchange(netns_path, Some(source), addr, request.as_bytes(), timeout)?;
    parse_response(&raw).map_err(|m| netns_error(netns_path, &format!("HTTP GET http://{addr}{path} from {source}"), m))
}

/// Retries [`http_get`] until it gets any response or `total` has passed: for
/// a service in a VM that is still starting. Each failure is reported in the
/// final error.
pub fn http_get_until(netns_path: &Path, addr: SocketAddr, path: &str, total: Duration) -> Result<HttpResponse> {
    let deadline = Instant::now() + total;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let each = left.clamp(Duration::from_millis(100), Duration::from_secs(2));
        match http_get(netns_path, addr, path, each) {
            Ok(r) => return Ok(r),
            Err(e) if Instant::now() >= deadline => {
                return Err(netns_error(
                    netns_path,
                    &format!("HTTP GET http://{addr}{path}"),
                    format!("no answer in {total:?} ({attempts} attempts); last: {e}"),
                ))
            }
            // A refused connect returns at once; pace the retries.
            Err(_) => std::thread::sleep(Duration::from_millis(100).min(left)),
        }
    }
}

/// Connects to `addr` from inside the namespace, sends `request`, shuts the
/// write side and reads until the peer closes.
pub fn tcp_exchange(netns_path: &Path, addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<Vec<u8>> {
    exchange(netns_path, None, addr, request, timeout)
}

fn exchange(
    netns_path: &Path,
    source: Option<IpAddr>,
    addr: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>> {
    ensure_lab_address(addr.ip())?;
    let what = format!(
        "TCP exchange with {addr}{} (request starts {:?})",
        source.map(|s| format!(" from {s}")).unwrap_or_default(),
        preview(request)
    );
    in_netns(netns_path, || -> std::io::Result<Vec<u8>> {
        let mut stream = match source {
            None => TcpStream::connect_timeout(&addr, timeout)?,
            Some(source) => connect_from(source, addr, timeout)?,
        };
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(request)?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf)?;
        Ok(buf)
    })?
    .map_err(|e| netns_error(netns_path, &what, e.to_string()))
}

/// std cannot bind before connecting; nix can. Linux bounds a blocking
/// connect by SO_SNDTIMEO, which stands in for connect_timeout.
fn connect_from(source: IpAddr, addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    use nix::sys::socket::{
        bind, connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
    };
    use std::os::fd::AsRawFd;
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    bind(fd.as_raw_fd(), &SockaddrStorage::from(SocketAddr::new(source, 0)))?;
    let limit = nix::sys::time::TimeVal::new(
        i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        i64::from(timeout.subsec_micros()),
    );
    setsockopt(&fd, sockopt::SendTimeout, &limit)?;
    connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)).map_err(|e| {
        // EINPROGRESS is how a connect that hit SO_SNDTIMEO ends.
        if e == nix::errno::Errno::EINPROGRESS {
            std::io::Error::new(std::io::ErrorKind::TimedOut, format!("connect timed out after {timeout:?}"))
        } else {
            std::io::Error::from(e)
        }
    })?;
    Ok(TcpStream::from(fd))
}

fn netns_error(netns_path: &Path, what: &str, message: String) -> LabError {
    LabError::Netns {
        netns: netns_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        what: what.to_string(),
        message,
    }
}

fn parse_response(raw: &[u8]) -> std::result::Result<HttpResponse, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {} bytes: {:?}", raw.len(), preview(raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/"))
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Ok(HttpResponse { status, headers, body: raw[split + 4..].to_vec() })
}

fn preview(raw: &[u8]) -> String {
    String::from_utf8_lossy(&raw[..raw.len().min(200)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documentation_ranges_and_loopback() {
        for ok in ["192.0.2.7", "198.51.100.1", "203.0.113.254", "127.0.0.1", "::1", "2001:db8::5"] {
            assert!(ensure_lab_address(ok.parse().expect("ip")).is_ok(), "{ok}");
        }
        for bad in ["10.0.0.1", "192.168.1.1", "8.8.8.8", "192.0.3.1", "2001:db9::1"] {
            assert!(ensure_lab_address(bad.parse().expect("ip")).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_a_response() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nServer: x\r\nContent-Length: 2\r\n\r\nhi").expect("parses");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("server"), Some("x"));
        assert_eq!(r.body_text(), "hi");
        assert!(parse_response(b"garbage").is_err());
    }
}
