//! Servers that misbehave on purpose, each on 127.0.0.1 with a port of its
//! own, run from threads of the test (and so in the test's namespace).

use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::Duration;

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A port nothing listens on: connecting is refused.
pub fn closed_port() -> SocketAddr {
    TcpListener::bind(any_port()).unwrap().local_addr().unwrap()
}

/// A port whose SYNs go unanswered: a listener with a backlog of 0 holding one
/// connection it never accepts, so the kernel drops further SYNs.
pub fn unanswered_port() -> (SocketAddr, Vec<OwnedFd>, TcpStream) {
    let fd = socket::socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None).unwrap();
    socket::bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::new(127, 0, 0, 1, 0)).unwrap();
    socket::listen(&fd, Backlog::new(0).unwrap()).unwrap();
    let local: SockaddrIn = socket::getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd)).unwrap();
    let addr: SocketAddr = SocketAddr::V4(local.into());
    let queued = TcpStream::connect(addr).unwrap();
    (addr, vec![fd], queued)
}

/// Accepts connections and never answers them.
pub fn silent_server() -> (SocketAddr, TcpListener) {
    let listener = TcpListener::bind(any_port()).unwrap();
    (listener.local_addr().unwrap(), listener)
}

/// An HTTP server that answers the n-th connection (from 0) with `answer(n)`:
/// a delay, then the bytes, then a close. The requests come out of the
/// receiver, as sent.
pub fn http_server<F>(answer: F) -> (SocketAddr, Receiver<String>)
where
    F: Fn(usize) -> (Duration, Vec<u8>) + Send + Sync + 'static,
{
    http_parts(move |n| vec![answer(n)])
}

/// As `http_server`, with the answer sent in parts, each after its delay.
pub fn http_parts<F>(answer: F) -> (SocketAddr, Receiver<String>)
where
    F: Fn(usize) -> Vec<(Duration, Vec<u8>)> + Send + Sync + 'static,
{
    let listener = TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = channel();
    let answer = std::sync::Arc::new(answer);
    thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let (answer, tx) = (answer.clone(), tx.clone());
            thread::spawn(move || {
                let _ = tx.send(read_request(&mut stream));
                for (delay, bytes) in answer(n) {
                    thread::sleep(delay);
                    if stream.write_all(&bytes).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, rx)
}

fn read_request(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 512];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&request).into_owned()
}

/// Answers every request at once with this status and body.
pub fn http_answer(status: &str, body: &str) -> (SocketAddr, Receiver<String>) {
    let bytes = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes();
    http_server(move |_| (Duration::ZERO, bytes.clone()))
}

/// Answers 200 and then body bytes without end, until the client goes.
pub fn endless_body() -> SocketAddr {
    let listener = TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            thread::spawn(move || {
                read_request(&mut stream);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
                let chunk = [b'x'; 4096];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

/// Sends each datagram's `reply` back (or the datagram itself when None).
pub fn udp_echo(reply: Option<&'static [u8]>) -> SocketAddr {
    let socket = UdpSocket::bind(any_port()).unwrap();
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(reply.unwrap_or(&buf[..n]), from);
        }
    });
    addr
}

/// A bound UDP port that never replies (and so sends no ICMP either).
pub fn udp_silent() -> (SocketAddr, UdpSocket) {
    let socket = UdpSocket::bind(any_port()).unwrap();
    (socket.local_addr().unwrap(), socket)
}

/// A UDP port nothing is bound to: the kernel answers ICMP port unreachable.
pub fn udp_closed() -> SocketAddr {
    UdpSocket::bind(any_port()).unwrap().local_addr().unwrap()
}
