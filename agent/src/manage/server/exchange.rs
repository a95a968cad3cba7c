//! One management exchange on an admitted connection: the TLS handshake and
//! the request head within `HEAD_TIMEOUT`, a bounded body, the answer, and
//! one log line naming the client.

use super::answer::{printable, Answer};
use super::follow::{self, Followers};
use super::head::{self, Head};
use super::routes::{route, Routed};
use super::tls::{Session, BUSY_ALERT};
use crate::http::conn::{Connection, Deadline, Handler, Refusal};
use crate::http::request::head_end;
use crate::manage::api::MAX_BODY_BYTES;
use crate::manage::Operations;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The TLS handshake and the request head, together.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of request head (then a 431).
pub const MAX_HEAD: usize = 8 * 1024;

pub struct ManageHandler {
    pub tls: Arc<rustls::ServerConfig>,
    pub ops: Arc<dyn Operations>,
    pub followers: Arc<Followers>,
}

/// What the client's request came to.
enum Asked {
    /// Nothing to answer: the client went, or the session broke.
    Nothing,
    /// An answer, and the head it answers if one was read.
    Answer(Option<Head>, Answer),
    Follow(Head, usize),
}

impl Handler for ManageHandler {
    fn serve(&self, conn: &mut Connection) {
        let addr = conn.peer_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
        let by = Deadline::after(HEAD_TIMEOUT);
        let mut session = match Session::handshake(self.tls.clone(), conn, by) {
            Ok(session) => session,
            Err(e) => {
                crate::note!(info, "management: {addr}: TLS handshake failed: {}", super::tls::refusal(&e));
                return;
            }
        };
        let peer = session.peer_name();
        let log = |head: Option<&Head>, status: u16| {
            let (method, target) =
                head.map_or(("-".to_string(), "-".to_string()), |h| (printable(&h.method), printable(&h.target())));
            crate::note!(info, "management: {peer} {addr} {method} {target} -> {status}");
        };
        match self.ask(&mut session, by) {
            Asked::Nothing => {}
            Asked::Answer(head, answer) => {
                log(head.as_ref(), answer.status);
                // A failed write (the client went, the deadline passed) leaves nothing to do but close.
                let _ = session.write_all(&answer.to_http());
            }
            Asked::Follow(head, lines) => match self.followers.take() {
                Some(slot) => {
                    log(Some(&head), 200);
                    follow::stream(&mut session, self.ops.as_ref(), lines);
                    drop(slot);
                }
                None => {
                    let answer = Answer::error(
                        503,
                        format!("{} clients already follow the log: try again later", self.followers.max()),
                    );
                    log(Some(&head), answer.status);
                    let _ = session.write_all(&answer.to_http());
                }
            },
        }
        session.close();
    }

    fn refusal(&self, _why: Refusal) -> Vec<u8> {
        BUSY_ALERT.to_vec()
    }
}

impl ManageHandler {
    fn ask(&self, session: &mut Session<'_>, by: Deadline) -> Asked {
        let Received { head, rest } = match read_head(session, by) {
            Ok(Some(read)) => read,
            Ok(None) => return Asked::Nothing,
            Err(answer) => return Asked::Answer(None, answer),
        };
        let head = match head::parse(&head) {
            Ok(head) => head,
            Err(answer) => return Asked::Answer(None, answer),
        };
        let body = match read_body(session, &head, rest) {
            Ok(Some(Body::Absent)) => None,
            Ok(Some(Body::Present(body))) => Some(body),
            Ok(None) => return Asked::Nothing,
            Err(answer) => return Asked::Answer(Some(head), answer),
        };
        match route(&head.method, &head.path, &head.query, body.as_deref(), self.ops.as_ref()) {
            Routed::Answer(answer) => Asked::Answer(Some(head), answer),
            Routed::Follow { lines } => Asked::Follow(head, lines),
        }
    }
}

/// A request head, and what came after it in the same reads.
struct Received {
    head: Vec<u8>,
    rest: Vec<u8>,
}

enum Body {
    /// No Content-Length.
    Absent,
    Present(Vec<u8>),
}

/// The head; None when the client went without one.
fn read_head(session: &mut Session<'_>, by: Deadline) -> Result<Option<Received>, Answer> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let searched = buf.len();
        match session.read_by(&mut chunk, by) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if timed_out(&e) => return Err(Answer::error(408, "the request head did not arrive in time")),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(None),
        }
        match head_end(&buf, searched) {
            Some(end) if end <= MAX_HEAD => {
                let rest = buf.split_off(end);
                return Ok(Some(Received { head: buf, rest }));
            }
            Some(_) => return Err(too_large_head()),
            None if buf.len() > MAX_HEAD => return Err(too_large_head()),
            None => {}
        }
    }
}

fn too_large_head() -> Answer {
    Answer::error(431, format!("the request head is larger than {MAX_HEAD} bytes"))
}

fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// The body `head` announces (`rest` is what came with the head), by the
/// connection's deadline; None when the client went. A body too large is
/// refused before a byte of it is read.
fn read_body(session: &mut Session<'_>, head: &Head, mut rest: Vec<u8>) -> Result<Option<Body>, Answer> {
    let Some(length) = head.length else {
        if !rest.is_empty() {
            return Err(Answer::error(411, "send the body with a Content-Length"));
        }
        return Ok(Some(Body::Absent));
    };
    let length = match usize::try_from(length) {
        Ok(n) if n <= MAX_BODY_BYTES => n,
        _ => return Err(Answer::error(413, format!("the body is larger than {MAX_BODY_BYTES} bytes (1 MiB)"))),
    };
    // Bytes past the body would be a second request: one per connection, so they are dropped.
    rest.truncate(length);
    rest.reserve_exact(length - rest.len());
    let mut chunk = [0u8; 16 * 1024];
    while rest.len() < length {
        let want = (length - rest.len()).min(chunk.len());
        match session.read_by(&mut chunk[..want], Deadline::NEVER) {
            Ok(0) => return Ok(None),
            Ok(n) => rest.extend_from_slice(&chunk[..n]),
            Err(e) if timed_out(&e) => return Err(Answer::error(408, "the body did not arrive in time")),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(Body::Present(rest)))
}
