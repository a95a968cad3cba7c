//! Netlink framing through neli: building attributes and whole messages, and
//! cutting a received datagram into messages. Integers go in host byte order (as
//! nla_put_u16/u32 do); the `be16` helpers exist for the few network-order fields.

use super::attrs::GENL_VERSION;
use crate::IpvsError;
use neli::consts::nl::{NlmF, Nlmsg};
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::types::{Buffer, GenlBuffer};
use neli::{FromBytes, FromBytesWithInput, ToBytes};
use std::collections::HashMap;
use std::io::Cursor;

pub type Attr = Nlattr<u16, Buffer>;

/// Message flags of a request that changes something or asks one question:
/// the kernel answers each with exactly one ack or error.
pub fn flags_doit() -> NlmF {
    NlmF::REQUEST | NlmF::ACK
}

/// Message flags of a dump request: answered by data messages and NLMSG_DONE.
pub fn flags_dump() -> NlmF {
    NlmF::REQUEST | NlmF::DUMP
}

fn encode_error(detail: impl std::fmt::Display) -> IpvsError {
    IpvsError::Io { what: "encoding a request".into(), detail: detail.to_string() }
}

fn decode_error(what: &str, detail: impl std::fmt::Display) -> IpvsError {
    IpvsError::Decode { what: what.into(), detail: detail.to_string() }
}

fn attr(ty: u16, nested: bool, payload: Vec<u8>) -> Result<Attr, IpvsError> {
    let nla_type = AttrTypeBuilder::default().nla_type(ty).nla_nested(nested).build().map_err(encode_error)?;
    NlattrBuilder::default().nla_type(nla_type).nla_payload(Buffer::from(payload)).build().map_err(encode_error)
}

pub fn bytes(ty: u16, payload: &[u8]) -> Result<Attr, IpvsError> {
    attr(ty, false, payload.to_vec())
}

pub fn u8(ty: u16, v: u8) -> Result<Attr, IpvsError> {
    attr(ty, false, vec![v])
}

pub fn u16(ty: u16, v: u16) -> Result<Attr, IpvsError> {
    attr(ty, false, v.to_ne_bytes().to_vec())
}

pub fn be16(ty: u16, v: u16) -> Result<Attr, IpvsError> {
    attr(ty, false, v.to_be_bytes().to_vec())
}

pub fn u32(ty: u16, v: u32) -> Result<Attr, IpvsError> {
    attr(ty, false, v.to_ne_bytes().to_vec())
}

/// A NUL-terminated string: the kernel's policies for names are NLA_NUL_STRING.
pub fn string(ty: u16, s: &str) -> Result<Attr, IpvsError> {
    let mut payload = s.as_bytes().to_vec();
    payload.push(0);
    attr(ty, false, payload)
}

/// A nest with NLA_F_NESTED set. The kernel parses IPVS nests with
/// nla_parse_nested_deprecated, which accepts the flag or its absence; its own
/// replies leave it off (nla_nest_start_noflag), requests carry it as libnl's
/// nla_nest_start does since 3.5.
pub fn nest(ty: u16, children: Vec<Attr>) -> Result<Attr, IpvsError> {
    let mut payload = Cursor::new(Vec::new());
    for child in &children {
        child.to_bytes(&mut payload).map_err(encode_error)?;
    }
    let payload = payload.into_inner();
    if payload.len() + 4 > usize::from(u16::MAX) {
        return Err(encode_error("nested attribute longer than 65535 bytes"));
    }
    attr(ty, true, payload)
}

/// Appends one complete netlink message (header, genl header, attributes) to `out`.
pub fn encode_message(
    out: &mut Vec<u8>,
    family: u16,
    flags: NlmF,
    seq: u32,
    cmd: u8,
    attrs: Vec<Attr>,
) -> Result<(), IpvsError> {
    let genl = GenlmsghdrBuilder::<u8, u16>::default()
        .cmd(cmd)
        .version(GENL_VERSION)
        .attrs(attrs.into_iter().collect::<GenlBuffer<u16, Buffer>>())
        .build()
        .map_err(encode_error)?;
    let msg = NlmsghdrBuilder::default()
        .nl_type(family)
        .nl_flags(flags)
        .nl_seq(seq)
        .nl_pid(0)
        .nl_payload(NlPayload::Payload(genl))
        .build()
        .map_err(encode_error)?;
    let start = out.len() as u64;
    let mut cursor = Cursor::new(std::mem::take(out));
    cursor.set_position(start);
    let written = msg.to_bytes(&mut cursor);
    *out = cursor.into_inner();
    written.map_err(encode_error)
}

/// One message of a received datagram, reduced to what the client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A generic netlink message: a reply, or one element of a dump.
    Data { seq: u32, flags: NlmF, msg: GenlMsg },
    /// NLMSG_ERROR with error 0.
    Ack { seq: u32 },
    /// NLMSG_ERROR with a negative errno, made positive here.
    Error { seq: u32, errno: i32 },
    /// NLMSG_DONE: the end of a dump, with the dump's own error if it failed.
    Done { seq: u32, errno: i32 },
}

/// A parsed generic netlink payload: the command and its top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenlMsg {
    pub cmd: u8,
    pub attrs: Attrs,
}

/// Attributes by type, flags stripped. The last of a repeated type wins, as in
/// the kernel's nla_parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs(HashMap<u16, Vec<u8>>);

impl Attrs {
    pub fn parse(payload: &[u8], what: &str) -> Result<Attrs, IpvsError> {
        let list = GenlBuffer::<u16, Buffer>::from_bytes_with_input(&mut Cursor::new(payload), payload.len())
            .map_err(|e| decode_error(what, e))?;
        Ok(Self::from_buffer(&list))
    }

    fn from_buffer(list: &GenlBuffer<u16, Buffer>) -> Attrs {
        Attrs(list.iter().map(|a| (*a.nla_type().nla_type(), a.nla_payload().as_ref().to_vec())).collect())
    }

    pub fn get(&self, ty: u16) -> Option<&[u8]> {
        self.0.get(&ty).map(Vec::as_slice)
    }

    pub fn has(&self, ty: u16) -> bool {
        self.0.contains_key(&ty)
    }

    pub fn nested(&self, ty: u16, what: &str) -> Result<Option<Attrs>, IpvsError> {
        self.get(ty).map(|p| Attrs::parse(p, what)).transpose()
    }

    /// The first N bytes of an attribute (addresses, fixed-size integers).
    pub fn fixed<const N: usize>(&self, ty: u16, what: &str) -> Result<Option<[u8; N]>, IpvsError> {
        match self.get(ty) {
            None => Ok(None),
            Some(p) => p
                .get(..N)
                .and_then(|b| <[u8; N]>::try_from(b).ok())
                .map(Some)
                .ok_or_else(|| decode_error(what, format!("attribute {ty} has {} bytes, expected {N}", p.len()))),
        }
    }

    pub fn u8(&self, ty: u16, what: &str) -> Result<Option<u8>, IpvsError> {
        Ok(self.fixed::<1>(ty, what)?.map(|b| b[0]))
    }

    pub fn u16(&self, ty: u16, what: &str) -> Result<Option<u16>, IpvsError> {
        Ok(self.fixed::<2>(ty, what)?.map(u16::from_ne_bytes))
    }

    pub fn be16(&self, ty: u16, what: &str) -> Result<Option<u16>, IpvsError> {
        Ok(self.fixed::<2>(ty, what)?.map(u16::from_be_bytes))
    }

    pub fn u32(&self, ty: u16, what: &str) -> Result<Option<u32>, IpvsError> {
        Ok(self.fixed::<4>(ty, what)?.map(u32::from_ne_bytes))
    }

    /// A counter the kernel sends as u32 in IPVS_*_ATTR_STATS and as u64 in STATS64.
    pub fn counter(&self, ty: u16, what: &str) -> Result<u64, IpvsError> {
        match self.get(ty) {
            None => Ok(0),
            Some(p) if p.len() == 8 => Ok(self.fixed::<8>(ty, what)?.map(u64::from_ne_bytes).unwrap_or(0)),
            Some(p) if p.len() == 4 => Ok(self.u32(ty, what)?.map(u64::from).unwrap_or(0)),
            Some(p) => Err(decode_error(what, format!("counter {ty} has {} bytes", p.len()))),
        }
    }

    /// A NUL-terminated (or, leniently, unterminated) string.
    pub fn string(&self, ty: u16, what: &str) -> Result<Option<String>, IpvsError> {
        match self.get(ty) {
            None => Ok(None),
            Some(p) => {
                let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
                String::from_utf8(p[..end].to_vec())
                    .map(Some)
                    .map_err(|e| decode_error(what, format!("attribute {ty}: {e}")))
            }
        }
    }

    pub fn require<T>(value: Option<T>, ty: u16, what: &str) -> Result<T, IpvsError> {
        value.ok_or_else(|| decode_error(what, format!("attribute {ty} is missing")))
    }
}

/// The length of a netlink message header.
const NLMSG_HDRLEN: usize = 16;

fn ne_u32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Cuts a datagram into its messages by their own lengths, each with its
/// padding, before neli reads them: a length shorter than a header or past
/// the end is refused here, and so are the error and done payloads that neli
/// reads with subtractions that underflow (an error shorter than its errno
/// and the header it echoes, a done shorter than its errno, found by the
/// netlink fuzz target). Each message is then parsed alone, so that neli's
/// "at the end of the buffer" means at the end of that message.
fn frames(buf: &[u8]) -> Result<Vec<&[u8]>, IpvsError> {
    let bad = |detail: String| Err(decode_error("netlink message", detail));
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let rest = &buf[at..];
        if rest.len() < NLMSG_HDRLEN {
            return bad(format!("{} bytes left at offset {at}, less than a message header", rest.len()));
        }
        let len = ne_u32(rest) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return bad(format!("length {len} at offset {at}, with {} bytes left", rest.len()));
        }
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let payload = &rest[NLMSG_HDRLEN..len];
        if ty == u16::from(Nlmsg::Error) {
            if payload.len() < 4 + NLMSG_HDRLEN {
                return bad(format!(
                    "an error message of {len} bytes at offset {at}: too short for its errno and header"
                ));
            }
            let echoed = ne_u32(&payload[4..]) as usize;
            let fits = echoed >= NLMSG_HDRLEN && 4 + echoed.div_ceil(4) * 4 <= payload.len();
            if ne_u32(payload) != 0 && !fits {
                return bad(format!("an error message at offset {at} echoes a request of {echoed} bytes in {len}"));
            }
        }
        if ty == u16::from(Nlmsg::Done) && !payload.is_empty() && payload.len() < 4 {
            return bad(format!("a done message at offset {at} with {} bytes of errno", payload.len()));
        }
        let end = (len.div_ceil(4) * 4).min(rest.len());
        out.push(&rest[..end]);
        at += end;
    }
    Ok(out)
}

/// The errno of a netlink error or done code (the kernel sends it negated);
/// i32::MIN, which has no positive, is no errno.
fn errno(code: i32) -> Result<i32, IpvsError> {
    code.checked_neg().ok_or_else(|| decode_error("netlink message", format!("error code {code} is no errno")))
}

/// Cuts one datagram into messages.
pub fn parse_datagram(buf: &[u8]) -> Result<Vec<Incoming>, IpvsError> {
    let mut out = Vec::new();
    for frame in frames(buf)? {
        let msg = Nlmsghdr::<u16, Buffer>::from_bytes(&mut Cursor::new(frame))
            .map_err(|e| decode_error("netlink message", e))?;
        let seq = *msg.nl_seq();
        let ty = *msg.nl_type();
        let incoming = match msg.nl_payload() {
            NlPayload::Ack(_) => Incoming::Ack { seq },
            NlPayload::Err(e) => Incoming::Error { seq, errno: errno(*e.error())? },
            NlPayload::DumpExtAck(e) => Incoming::Done { seq, errno: errno(*e.error())? },
            NlPayload::Empty => Incoming::Done { seq, errno: 0 },
            NlPayload::Payload(p) if ty == u16::from(Nlmsg::Done) => {
                let code = p.as_ref().get(..4).map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                let errno = errno(code)?;
                Incoming::Done { seq, errno }
            }
            NlPayload::Payload(_) if ty == u16::from(Nlmsg::Noop) => continue,
            NlPayload::Payload(_) if ty == u16::from(Nlmsg::Overrun) => {
                return Err(decode_error("netlink message", "the kernel reports an overrun (lost messages)"))
            }
            NlPayload::Payload(p) => {
                let genl = Genlmsghdr::<u8, u16>::from_bytes_with_input(&mut Cursor::new(p.as_ref()), p.len())
                    .map_err(|e| decode_error("generic netlink message", e))?;
                Incoming::Data {
                    seq,
                    flags: *msg.nl_flags(),
                    msg: GenlMsg { cmd: *genl.cmd(), attrs: Attrs::from_buffer(genl.attrs()) },
                }
            }
        };
        out.push(incoming);
    }
    Ok(out)
}

/// The header fields of one request, as [`parse_request`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFrame {
    pub family: u16,
    pub flags: NlmF,
    pub seq: u32,
    pub msg: GenlMsg,
}

/// Cuts a buffer of our own requests back into messages: for tests, and for the
/// fake kernel behind them.
pub fn parse_requests(buf: &[u8]) -> Result<Vec<RequestFrame>, IpvsError> {
    let mut cursor = Cursor::new(buf);
    let mut out = Vec::new();
    while (cursor.position() as usize) < buf.len() {
        let msg =
            Nlmsghdr::<u16, Genlmsghdr<u8, u16>>::from_bytes(&mut cursor).map_err(|e| decode_error("request", e))?;
        let genl = msg.get_payload().ok_or_else(|| decode_error("request", "no generic netlink payload"))?;
        out.push(RequestFrame {
            family: *msg.nl_type(),
            flags: *msg.nl_flags(),
            seq: *msg.nl_seq(),
            msg: GenlMsg { cmd: *genl.cmd(), attrs: Attrs::from_buffer(genl.attrs()) },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    fn header(len: u32, ty: u16, flags: u16) -> Vec<u8> {
        let mut out = len.to_ne_bytes().to_vec();
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&[0; 8]);
        out
    }

    /// Each of these made neli subtract past zero (a panic with overflow
    /// checks, a wrapped length without): the fuzz target's finds, refused.
    #[test]
    fn lying_lengths_and_short_error_or_done_payloads_are_refused_not_misread() {
        let done_multi_then_more = [header(16, 3, 2), header(16, 3, 2)].concat();
        assert!(parse_datagram(&done_multi_then_more).is_ok(), "two empty dones, each read alone");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("shorter than a header", vec![1, 2, 3]),
            ("length under a header", header(8, 3, 0)),
            ("length past the end", header(64, 3, 0)),
            ("done with 2 bytes of errno", [header(18, 3, 2), vec![0, 0]].concat()),
            ("error without the echoed header", [header(20, 2, 0), (-1i32).to_ne_bytes().to_vec()].concat()),
            (
                "error echoing a longer request than it holds",
                [header(36, 2, 0), (-22i32).to_ne_bytes().to_vec(), header(200, 0x21, 5)].concat(),
            ),
        ];
        for (what, bytes) in cases {
            assert!(parse_datagram(&bytes).is_err(), "{what}: accepted");
        }
        // An error code of i32::MIN has no errno to negate into.
        let min = [header(36, 2, 0), i32::MIN.to_ne_bytes().to_vec(), header(16, 0x21, 5)].concat();
        assert!(parse_datagram(&min).is_err());
    }
}
