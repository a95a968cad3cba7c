//! The client's request. Not `Lab::http_get`: the client loop runs on one
//! thread that entered the lab once, sends ten requests a second, and words
//! each failure for the timeline, where a hung server (`connected, no
//! answer`) must read differently from a refused connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Who answered a request: an index into the lab's bodies and labels.
pub type Who = usize;

/// One request on a new connection, from a thread in the lab's namespace;
/// who answered (from the body), or how it failed. `timeout` bounds the
/// connect and each read and write.
pub fn get(service: SocketAddr, bodies: &[String], timeout: Duration) -> Result<Who, String> {
    let mut stream = TcpStream::connect_timeout(&service, timeout).map_err(|e| format!("connect: {e}"))?;
    let request = format!("GET / HTTP/1.0\r\nHost: {service}\r\nConnection: close\r\n\r\n");
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("socket: {e}"))?;
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        return Err(match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                format!("connected, no answer in {timeout:?} ({} bytes)", raw.len())
            }
            _ => format!("receive: {e} ({} bytes)", raw.len()),
        });
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no end of headers in {text:?}"))?;
    let status = head.lines().next().unwrap_or_default();
    match bodies.iter().position(|b| b == body) {
        Some(who) if status.split_whitespace().nth(1) == Some("200") => Ok(who),
        _ => Err(format!("{status:?} with body {body:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server on loopback that answers one connection with `reply`, or
    /// holds it open without a word when `reply` is None.
    fn serve(reply: Option<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            if let Some(r) = reply {
                let _ = conn.write_all(r.as_bytes());
            } else {
                std::thread::sleep(Duration::from_millis(600));
            }
        });
        addr
    }

    #[test]
    fn names_who_answered_and_words_each_failure() {
        let bodies = ["rs1\n".to_string(), "rs2\n".to_string()];
        let t = Duration::from_millis(300);
        assert_eq!(get(serve(Some("HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nrs2\n")), &bodies, t), Ok(1));
        assert_eq!(
            get(serve(Some("HTTP/1.0 200 OK\r\n\r\nrs3\n")), &bodies, t),
            Err("\"HTTP/1.0 200 OK\" with body \"rs3\\n\"".into())
        );
        assert_eq!(
            get(serve(Some("HTTP/1.0 503 Busy\r\n\r\nrs1\n")), &bodies, t),
            Err("\"HTTP/1.0 503 Busy\" with body \"rs1\\n\"".into())
        );
        assert_eq!(get(serve(None), &bodies, t), Err("connected, no answer in 300ms (0 bytes)".into()));
        assert!(get(serve(Some("HTTP/1.0 200 OK\r\n")), &bodies, t).unwrap_err().starts_with("no end of headers in"));
    }
}
