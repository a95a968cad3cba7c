//! One connection: read the head within a deadline, answer, close.
//!
//! Every response has `Connection: close` and a `Content-Length`: one request
//! per connection is all a demo real server and a counting client need, and it
//! keeps a slow or idle client from holding a thread past `Limits`.

use super::content_type;
use super::request::{self, Method};
use super::resolve::{self, Root};
use super::status::Status;
use super::Limits;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// What the server serves.
pub enum Site {
    Body(String),
    Root(Root),
}

enum Head {
    Complete(Vec<u8>),
    TooLarge,
    TimedOut,
    Closed,
}

pub fn handle(mut stream: TcpStream, site: &Site, limits: &Limits) {
    let _ = stream.set_write_timeout(Some(limits.write_timeout));
    let deadline = Instant::now() + limits.head_timeout;
    let head = match read_head(&mut stream, limits.max_head, deadline) {
        Head::Complete(head) => head,
        Head::TooLarge => return finish(stream, Status::HeadTooLarge, false),
        Head::TimedOut => return finish(stream, Status::RequestTimeout, false),
        Head::Closed => return,
    };
    let req = match request::parse(&head) {
        Ok(req) => req,
        Err(status) => return finish(stream, status, false),
    };
    let head_only = req.method == Method::Head;
    let written = match (req.method, site) {
        (Method::Other, _) => return finish(stream, Status::MethodNotAllowed, false),
        (_, Site::Body(body)) => write_head(&mut stream, Status::Ok, "text/plain; charset=utf-8", body.len() as u64)
            .and_then(|()| if head_only { Ok(()) } else { stream.write_all(body.as_bytes()) }),
        (_, Site::Root(root)) => match resolve::relative(&req.path).and_then(|rel| root.file(&rel)) {
            Ok((file, len, path)) => write_head(&mut stream, Status::Ok, content_type::of(&path), len).and_then(|()| {
                if head_only {
                    Ok(())
                } else {
                    // A file that shrank meanwhile gives a short body; one that grew, no more than announced.
                    io::copy(&mut file.take(len), &mut stream).map(drop)
                }
            }),
            Err(status) => return finish(stream, status, head_only),
        },
    };
    if written.is_ok() {
        linger(stream);
    }
}

/// Reads up to the blank line that ends the head, within `deadline` as a
/// whole: a client sending a byte at a time cannot stretch it.
fn read_head(stream: &mut TcpStream, max: usize, deadline: Instant) -> Head {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Head::TimedOut;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Head::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Head::TimedOut,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Head::Closed,
        }
        match request::head_end(&buf) {
            Some(end) if end <= max => {
                buf.truncate(end);
                return Head::Complete(buf);
            }
            Some(_) => return Head::TooLarge,
            None if buf.len() > max => return Head::TooLarge,
            None => {}
        }
    }
}

fn write_head(stream: &mut TcpStream, status: Status, content_type: &str, len: u64) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nServer: lvs-agent\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n",
        status.code(),
        status.reason()
    );
    if status == Status::MethodNotAllowed {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

/// Answers with `status` and a one-line body naming it (none for HEAD).
pub fn finish(mut stream: TcpStream, status: Status, head_only: bool) {
    let body = format!("{} {}\n", status.code(), status.reason());
    let written = write_head(&mut stream, status, "text/plain; charset=utf-8", body.len() as u64).and_then(|()| {
        if head_only {
            Ok(())
        } else {
            stream.write_all(body.as_bytes())
        }
    });
    if written.is_ok() {
        linger(stream);
    }
}

/// Closes without losing the response: closing a socket with unread input
/// (a request body, a pipelined request) sends a reset, and the client may drop
/// what it has not read yet. So: end our side, then drain theirs a little.
fn linger(mut stream: TcpStream) {
    let _ = stream.flush();
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}
