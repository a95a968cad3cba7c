//! The netlink client against a kernel that answers with the fuzzer's bytes.

use lvs_ipvs::netlink::{IpvsNetlink, Transport};
use lvs_ipvs::{Family, Protocol, ServiceKey};
use std::collections::VecDeque;
use std::io;

/// The family id the client is told; the fuzzer finds it in the comparisons.
const FAMILY: u16 = 0x21;
/// Separates the datagrams of one input.
const SEPARATOR: &[u8] = b"\xffNL\xff";
const HEADER: usize = 16;

/// Hands out the input's datagrams, each message's sequence number set to the
/// last request's, so that the fuzzer need not guess it and reaches the
/// parsers behind the matching.
struct Replies {
    datagrams: VecDeque<Vec<u8>>,
    seq: u32,
    pid: u32,
}

impl Transport for Replies {
    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.len() >= HEADER {
            self.seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
            self.pid = u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(mut datagram) = self.datagrams.pop_front() else {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no more replies"));
        };
        let mut at = 0;
        while at + HEADER <= datagram.len() {
            datagram[at + 8..at + 12].copy_from_slice(&self.seq.to_ne_bytes());
            datagram[at + 12..at + 16].copy_from_slice(&self.pid.to_ne_bytes());
            let len = u32::from_ne_bytes([datagram[at], datagram[at + 1], datagram[at + 2], datagram[at + 3]]);
            let step = (len as usize).div_ceil(4) * 4;
            if step < HEADER {
                break;
            }
            at += step;
        }
        if datagram.len() > buf.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "datagram longer than the buffer"));
        }
        buf[..datagram.len()].copy_from_slice(&datagram);
        Ok(datagram.len())
    }
}

fn split(data: &[u8]) -> VecDeque<Vec<u8>> {
    let mut out = VecDeque::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        out.push_back(rest[..i].to_vec());
        rest = &rest[i + SEPARATOR.len()..];
    }
    out.push_back(rest.to_vec());
    out
}

pub fn replies(data: &[u8]) {
    let datagrams = split(data);
    let key = ServiceKey::Inet { protocol: Protocol::Tcp, addr: "192.0.2.80:80".parse().unwrap() };
    let fwmark = ServiceKey::Fwmark { family: Family::Ipv6, mark: 1 };
    // Each question with its own copy of the replies: one bad answer must not hide the next parser.
    let client = |datagrams: &VecDeque<Vec<u8>>| {
        IpvsNetlink::with_transport(Box::new(Replies { datagrams: datagrams.clone(), seq: 0, pid: 0 }), FAMILY)
    };
    let _ = client(&datagrams).services();
    let _ = client(&datagrams).dests(&key);
    let _ = client(&datagrams).dests(&fwmark);
    let _ = client(&datagrams).service(&key);
    let _ = client(&datagrams).info();
    let _ = client(&datagrams).timeouts();
    let _ = client(&datagrams).daemons();
    let _ = lvs_ipvs::Ipvs::snapshot(&mut client(&datagrams));
}
