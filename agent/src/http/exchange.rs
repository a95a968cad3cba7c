//! One HTTP exchange on an admitted connection: read the head within its
//! limit, answer, and leave the closing to the connection handling.
//!
//! Every response has `Connection: close` and a `Content-Length`: one request
//! per connection is all a demo real server and a counting client need, and it
//! keeps a slow or idle client from holding a thread past `Limits`.

use super::conn::{Connection, Deadline, Handler, Refusal};
use super::content_type;
use super::request::{self, Method};
use super::resolve::{self, Root};
use super::status::Status;
use std::io::{self, Read, Write};
use std::time::Duration;

/// What the server serves.
pub enum Site {
    Body(String),
    Root(Root),
}

/// The HTTP side of the server: what `conn` calls for each connection.
pub struct HttpHandler {
    pub site: Site,
    pub head_timeout: Duration,
    pub max_head: usize,
}

enum Head {
    Complete(Vec<u8>),
    TooLarge,
    TimedOut,
    Closed,
}

impl Handler for HttpHandler {
    fn serve(&self, conn: &mut Connection) {
        let head = match read_head(conn, self.max_head, Deadline::after(self.head_timeout)) {
            Head::Complete(head) => head,
            Head::TooLarge => return finish(conn, Status::HeadTooLarge, false),
            Head::TimedOut => return finish(conn, Status::RequestTimeout, false),
            Head::Closed => return,
        };
        let req = match request::parse(&head) {
            Ok(req) => req,
            Err(status) => return finish(conn, status, false),
        };
        let head_only = req.method == Method::Head;
        // A failed write (the client went, the deadline passed) leaves nothing to do but close.
        let _ = match (req.method, &self.site) {
            (Method::Other, _) => return finish(conn, Status::MethodNotAllowed, false),
            (_, Site::Body(body)) => conn
                .write_all(response_head(Status::Ok, "text/plain; charset=utf-8", body.len() as u64).as_bytes())
                .and_then(|()| if head_only { Ok(()) } else { conn.write_all(body.as_bytes()) }),
            (_, Site::Root(root)) => match resolve::relative(&req.path).and_then(|rel| root.file(&rel)) {
                Ok((file, len, path)) => {
                    conn.write_all(response_head(Status::Ok, content_type::of(&path), len).as_bytes()).and_then(|()| {
                        if head_only {
                            Ok(())
                        } else {
                            // A file that shrank meanwhile gives a short body; one that grew, no more than announced.
                            io::copy(&mut file.take(len), conn).map(drop)
                        }
                    })
                }
                Err(status) => return finish(conn, status, head_only),
            },
        };
    }

    fn refusal(&self, why: Refusal) -> Vec<u8> {
        let status = match why {
            Refusal::ClientFull => Status::TooManyRequests,
            Refusal::Full | Refusal::Stopping => Status::Unavailable,
        };
        short_answer(status, false)
    }
}

/// Reads up to the blank line that ends the head, by `deadline` as a whole
/// (and by the connection's): a client sending a byte at a time cannot stretch it.
fn read_head(conn: &mut Connection, max: usize, deadline: Deadline) -> Head {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let searched = buf.len();
        match conn.read_by(&mut chunk, deadline) {
            Ok(0) => return Head::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Head::TimedOut,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Head::Closed,
        }
        match request::head_end(&buf, searched) {
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

fn response_head(status: Status, content_type: &str, len: u64) -> String {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nServer: lvs-agent\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n",
        status.code(),
        status.reason()
    );
    match status {
        Status::MethodNotAllowed => head.push_str("Allow: GET, HEAD\r\n"),
        Status::Unavailable | Status::TooManyRequests => head.push_str("Retry-After: 1\r\n"),
        _ => {}
    }
    head.push_str("\r\n");
    head
}

/// `status` with a one-line body naming it (none for HEAD).
fn short_answer(status: Status, head_only: bool) -> Vec<u8> {
    let body = format!("{} {}\n", status.code(), status.reason());
    let mut answer = response_head(status, "text/plain; charset=utf-8", body.len() as u64).into_bytes();
    if !head_only {
        answer.extend_from_slice(body.as_bytes());
    }
    answer
}

fn finish(conn: &mut Connection, status: Status, head_only: bool) {
    let _ = conn.write_all(&short_answer(status, head_only));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_answers_are_whole_and_small() {
        let a = String::from_utf8(short_answer(Status::NotFound, false)).unwrap();
        assert!(a.starts_with("HTTP/1.1 404 Not Found\r\n"), "{a}");
        assert!(a.contains("\r\nContent-Length: 14\r\n"), "{a}");
        assert!(a.contains("\r\nConnection: close\r\n"), "{a}");
        assert!(a.ends_with("\r\n\r\n404 Not Found\n"), "{a}");
        let head = String::from_utf8(short_answer(Status::NotFound, true)).unwrap();
        assert!(head.ends_with("\r\n\r\n") && head.contains("Content-Length: 14"), "HEAD: the length, no body");
        assert!(String::from_utf8(short_answer(Status::MethodNotAllowed, false))
            .unwrap()
            .contains("\r\nAllow: GET, HEAD\r\n"));
    }

    #[test]
    fn refusals_say_who_is_busy_and_fit_one_small_write() {
        let handler = HttpHandler { site: Site::Body(String::new()), head_timeout: Duration::ZERO, max_head: 0 };
        for (why, start) in [
            (Refusal::Full, "HTTP/1.1 503 Service Unavailable\r\n"),
            (Refusal::Stopping, "HTTP/1.1 503 Service Unavailable\r\n"),
            (Refusal::ClientFull, "HTTP/1.1 429 Too Many Requests\r\n"),
        ] {
            let answer = String::from_utf8(handler.refusal(why)).unwrap();
            assert!(answer.starts_with(start), "{why:?}: {answer}");
            assert!(answer.contains("\r\nRetry-After: 1\r\n"), "{why:?}: {answer}");
            assert!(answer.len() < 512, "{why:?}: {} bytes", answer.len());
        }
    }
}
