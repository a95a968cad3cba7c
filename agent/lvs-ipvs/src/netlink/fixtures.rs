//! Byte fixtures: each request as the kernel must receive it and each kind of
//! kernel reply as it arrives, written by hand from include/uapi/linux/ip_vs.h and
//! net/netfilter/ipvs/ip_vs_ctl.c (not produced by the encoder). Requests go
//! bytes → Request → the same bytes; replies are decoded into the agent's types.
//!
//! Every byte row names its field as include/uapi/linux/ip_vs.h (IPVS_*),
//! linux/netlink.h (nlmsghdr, nlattr, nlmsgerr) or linux/genetlink.h
//! (genlmsghdr) does.
//!
//! Integers are host order (nla_put_u16/u32), so the fixtures are little-endian
//! and the tests are compiled for little-endian targets only. The family id is
//! dynamic in the kernel; 0x001d stands for it. Our port id is 0x1234.

#![cfg(target_endian = "little")]

use super::wire::{parse_datagram, parse_requests, Incoming};
use super::{config, daemon, dest, service, Request};
use crate::{
    Dest, DestEntry, Family, Forward, Info, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service,
    ServiceEntry, ServiceKey, Stats, SyncDaemon, SyncState, Timeouts, TunnelCsum, TunnelKind, TunnelOptions,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const FAMILY: u16 = 0x001d;

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn tcp_v4() -> ServiceKey {
    ServiceKey::Inet { protocol: Protocol::Tcp, addr: "192.0.2.1:80".parse().unwrap() }
}

// The identifying attributes of service TCP 192.0.2.1:80 (44 bytes).
const KEY_TCP_V4: &[u8] = &[
    0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, // IPVS_SVC_ATTR_AF, u16 AF_INET (2), 2 bytes pad
    0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, // IPVS_SVC_ATTR_PROTOCOL, u16 IPPROTO_TCP, pad
    0x14, 0x00, 0x03, 0x00, // IPVS_SVC_ATTR_ADDR, 16 bytes (union nf_inet_addr)
    192, 0, 2, 1, 0, 0, 0, 0, // IPVS_SVC_ATTR_ADDR payload: 192.0.2.1 in the first 4 bytes, zeros after
    0, 0, 0, 0, 0, 0, 0, 0, // IPVS_SVC_ATTR_ADDR payload, continued (zeros)
    0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00, // IPVS_SVC_ATTR_PORT, be16 80, pad
];

// IPVS_CMD_ATTR_SERVICE with only the key, as DEL/GET/ZERO and dest commands carry it (48 bytes).
fn svc_key_nest_tcp_v4() -> Vec<u8> {
    cat(&[
        &[0x30, 0x00, 0x01, 0x80], // len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
        KEY_TCP_V4,                // IPVS_SVC_ATTR_AF, _PROTOCOL, _ADDR, _PORT: the key, as above
    ])
}

struct RequestFixture {
    name: &'static str,
    request: Request,
    seq: u32,
    bytes: Vec<u8>,
}

fn request_fixtures() -> Vec<RequestFixture> {
    let v6_persistent = Service {
        key: ServiceKey::Inet { protocol: Protocol::Udp, addr: "[2001:db8::1]:5060".parse().unwrap() },
        scheduler: Scheduler::Sh,
        sched_flags: SchedFlags { fallback: true, port: true, flag3: false },
        persistence: Some(Persistence { timeout: 300, netmask: PersistMask::V6(64) }),
        one_packet: true,
        pe: Some("sip".into()),
    };
    let fwm = ServiceKey::Fwmark { family: Family::Ipv4, mark: 7 };
    let fwm_service = Service {
        key: fwm,
        scheduler: Scheduler::Wrr,
        sched_flags: SchedFlags::default(),
        persistence: Some(Persistence { timeout: 360, netmask: PersistMask::V4(Ipv4Addr::new(255, 255, 255, 0)) }),
        one_packet: false,
        pe: None,
    };
    let nat = Dest {
        addr: "10.0.0.1:8080".parse().unwrap(),
        forward: Forward::Nat,
        weight: 5,
        upper_threshold: 100,
        lower_threshold: 10,
        tunnel: TunnelOptions::default(),
    };
    let dr = Dest { forward: Forward::DirectRouting, ..Dest::new("10.0.0.2:80".parse().unwrap()) };
    let gue = Dest {
        forward: Forward::Tunnel,
        weight: 2,
        tunnel: TunnelOptions { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::Checksum },
        ..Dest::new("10.0.0.3:80".parse().unwrap())
    };
    let mixed = Dest { forward: Forward::Tunnel, ..Dest::new("[2001:db8::10]:80".parse().unwrap()) };

    vec![
        RequestFixture {
            name: "new service TCP 192.0.2.1:80 wlc, no persistence",
            request: Request::NewService(Service::new(tcp_v4())),
            seq: 1,
            bytes: cat(&[
                &[0x68, 0, 0, 0],                               // nlmsghdr.nlmsg_len 104
                &[0x1d, 0x00, 0x05, 0x00],                      // nlmsg_type = family, flags NLM_F_REQUEST | NLM_F_ACK
                &[1, 0, 0, 0, 0, 0, 0, 0],                      // nlmsg_seq 1, nlmsg_pid 0 (addressed to the kernel)
                &[0x01, 0x01, 0x00, 0x00], // genlmsghdr: IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION, reserved
                &[0x54, 0x00, 0x01, 0x80], // len 84, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
                KEY_TCP_V4,                // IPVS_SVC_ATTR_AF, _PROTOCOL, _ADDR, _PORT (44 bytes, see KEY_TCP_V4)
                &[0x08, 0x00, 0x06, 0x00, b'w', b'l', b'c', 0], // IPVS_SVC_ATTR_SCHED_NAME "wlc\0"
                &[0x0c, 0x00, 0x07, 0x00], // IPVS_SVC_ATTR_FLAGS, struct ip_vs_flags
                &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // struct ip_vs_flags: .flags 0, .mask 0xffffffff (every flag is ours to set)
                &[0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0], // IPVS_SVC_ATTR_TIMEOUT 0: required even without persistence
                &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 255], // IPVS_SVC_ATTR_NETMASK 255.255.255.255, network order
            ]),
        },
        RequestFixture {
            name: "set service UDP [2001:db8::1]:5060 sh fallback,port persistent 300 /64 one-packet pe sip",
            request: Request::SetService(v6_persistent),
            seq: 2,
            bytes: cat(&[
                &[0x70, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 2, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 112, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 2, nlmsg_pid 0
                &[0x02, 0x01, 0x00, 0x00],                                        // IPVS_CMD_SET_SERVICE
                &[0x5c, 0x00, 0x01, 0x80], // genlmsghdr: cmd IPVS_CMD_SET_SERVICE, version IPVS_GENL_VERSION, reserved 0
                &[0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_AF, u16 AF_INET6 (10), 2 bytes pad
                &[0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_PROTOCOL, u16 IPPROTO_UDP (17), 2 bytes pad
                &[0x14, 0x00, 0x03, 0x00], // IPVS_SVC_ATTR_ADDR, 16 bytes (union nf_inet_addr), all of them used:
                &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // IPVS_SVC_ATTR_ADDR payload: 2001:db8::1, all 16 bytes
                &[0x06, 0x00, 0x04, 0x00, 0x13, 0xc4, 0x00, 0x00], // IPVS_SVC_ATTR_PORT, be16 5060, 2 bytes pad
                &[0x07, 0x00, 0x06, 0x00, b's', b'h', 0, 0], // IPVS_SVC_ATTR_SCHED_NAME "sh\0" (nla_len 7), 1 byte pad
                &[0x08, 0x00, 0x0b, 0x00, b's', b'i', b'p', 0], // IPVS_SVC_ATTR_PE_NAME "sip\0"
                &[0x0c, 0x00, 0x07, 0x00],                   // IPVS_SVC_ATTR_FLAGS, struct ip_vs_flags:
                &[0x1d, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // .flags IP_VS_SVC_F_PERSISTENT | _ONEPACKET | _SCHED1 | _SCHED2 (0x1d), .mask ~0
                &[0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00], // IPVS_SVC_ATTR_TIMEOUT, u32 300 seconds
                &[0x08, 0x00, 0x09, 0x00, 64, 0, 0, 0], // IPVS_SVC_ATTR_NETMASK: for AF_INET6 the prefix length, 64, as a host-order u32
            ]),
        },
        RequestFixture {
            name: "delete service FWM 7",
            request: Request::DelService(fwm),
            seq: 3,
            bytes: cat(&[
                &[0x28, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 3, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 40, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 3, nlmsg_pid 0
                &[0x03, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_DEL_SERVICE, version IPVS_GENL_VERSION, reserved 0
                &[0x14, 0x00, 0x01, 0x80], // nlattr: len 20, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
                &[0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_AF, u16 AF_INET (2), 2 bytes pad
                &[0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_FWMARK, u32 7 (no protocol, address or port)
            ]),
        },
        RequestFixture {
            name: "new service FWM 7 wrr persistent 360 mask 255.255.255.0",
            request: Request::NewService(fwm_service),
            seq: 4,
            bytes: cat(&[
                &[0x4c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 4, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 76, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 4, nlmsg_pid 0
                &[0x01, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE, version IPVS_GENL_VERSION, reserved 0
                &[0x38, 0x00, 0x01, 0x80], // nlattr: len 56, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
                &[0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_AF, u16 AF_INET (2), 2 bytes pad
                &[0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_FWMARK, u32 7
                &[0x08, 0x00, 0x06, 0x00, b'w', b'r', b'r', 0], // IPVS_SVC_ATTR_SCHED_NAME "wrr\0"
                &[0x0c, 0x00, 0x07, 0x00, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // IPVS_SVC_ATTR_FLAGS: .flags IP_VS_SVC_F_PERSISTENT, .mask ~0
                &[0x08, 0x00, 0x08, 0x00, 0x68, 0x01, 0x00, 0x00], // IPVS_SVC_ATTR_TIMEOUT, u32 360 seconds
                &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 0], // IPVS_SVC_ATTR_NETMASK, be32 255.255.255.0 (network order: its octets as written)
            ]),
        },
        RequestFixture {
            name: "new dest NAT 10.0.0.1:8080 weight 5 thresholds 10..100",
            request: Request::NewDest(tcp_v4(), nat),
            seq: 5,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 5, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 164, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 5, nlmsg_pid 0
                &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
                &[0x60, 0x00, 0x02, 0x80], // nlattr: len 96, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes (union nf_inet_addr): 10.0.0.1, zeros after
                &[0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // IPVS_DEST_ATTR_PORT be16 8080
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY AF_INET
                &[0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD IP_VS_CONN_F_MASQ
                &[0x08, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT 5
                &[0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH 100
                &[0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH 10
                &[0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE u8 0, 3 bytes pad
                &[0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT be16 0
                &[0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS u16 0
            ]),
        },
        RequestFixture {
            name: "set dest DR 10.0.0.2:80 weight 1",
            request: Request::SetDest(tcp_v4(), dr),
            seq: 6,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 6, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 164, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 6, nlmsg_pid 0
                &[0x06, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_SET_DEST, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
                &[0x60, 0x00, 0x02, 0x80], // nlattr: len 96, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.2, zeros after
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // IPVS_DEST_ATTR_PORT, be16 80: we send what the Dest says
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY, u16 AF_INET (2), 2 bytes pad
                &[0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD, u32 IP_VS_CONN_F_DROUTE (3)
                &[0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 1
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH, u32 0 (no limit)
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH, u32 0
                &[0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE, u8 IP_VS_CONN_F_TUNNEL_TYPE_IPIP (0), 3 bytes pad
                &[0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT, be16 0, 2 bytes pad
                &[0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS, u16 IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM (0), 2 bytes pad
            ]),
        },
        RequestFixture {
            name: "new dest tunnel GUE port 6080 with checksum",
            request: Request::NewDest(tcp_v4(), gue),
            seq: 7,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 7, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 164, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 7, nlmsg_pid 0
                &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
                &[0x60, 0x00, 0x02, 0x80], // nlattr: len 96, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.3, zeros after
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // IPVS_DEST_ATTR_PORT, be16 80, 2 bytes pad
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY, u16 AF_INET (2), 2 bytes pad
                &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD, u32 IP_VS_CONN_F_TUNNEL (2)
                &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 2
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH, u32 0
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH, u32 0
                &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE, u8 IP_VS_CONN_F_TUNNEL_TYPE_GUE (1), 3 bytes pad
                &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT, be16 6080, 2 bytes pad
                &[0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS, u16 IP_VS_TUNNEL_ENCAP_FLAG_CSUM (1), 2 bytes pad
            ]),
        },
        RequestFixture {
            name: "new dest mixed family: IPv6 ipip tunnel behind an IPv4 service",
            request: Request::NewDest(tcp_v4(), mixed),
            seq: 8,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 8, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 164, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 8, nlmsg_pid 0
                &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
                &[0x60, 0x00, 0x02, 0x80], // nlattr: len 96, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
                &[0x14, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10], // IPVS_DEST_ATTR_ADDR, 16 bytes: 2001:db8::10
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // IPVS_DEST_ATTR_PORT, be16 80, 2 bytes pad
                &[0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY, u16 AF_INET6 (10): differs from the service's
                &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD IP_VS_CONN_F_TUNNEL, the only method allowed to mix families
                &[0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 1
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH, u32 0
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH, u32 0
                &[0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE, u8 IP_VS_CONN_F_TUNNEL_TYPE_IPIP (0), 3 bytes pad
                &[0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT, be16 0, 2 bytes pad
                &[0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS, u16 0 (no checksum), 2 bytes pad
            ]),
        },
        RequestFixture {
            name: "delete dest 10.0.0.1:8080",
            request: Request::DelDest(tcp_v4(), "10.0.0.1:8080".parse().unwrap()),
            seq: 9,
            bytes: cat(&[
                &[0x6c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 9, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 108, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 9, nlmsg_pid 0
                &[0x07, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_DEL_DEST, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
                &[0x28, 0x00, 0x02, 0x80], // nlattr: len 40, IPVS_CMD_ATTR_DEST | NLA_F_NESTED: only what identifies the dest
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.1, zeros after
                &[0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // IPVS_DEST_ATTR_PORT, be16 8080, 2 bytes pad
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY, u16 AF_INET (2), 2 bytes pad
            ]),
        },
        RequestFixture {
            name: "get one service",
            request: Request::GetService(tcp_v4()),
            seq: 10,
            bytes: cat(&[
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 10, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 68, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 10, nlmsg_pid 0 (doit: one reply)
                &[0x04, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_GET_SERVICE, version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
            ]),
        },
        RequestFixture {
            name: "dump services",
            request: Request::DumpServices,
            seq: 11,
            bytes: cat(&[
                &[0x14, 0, 0, 0, 0x1d, 0x00, 0x01, 0x03, 11, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 20, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP, nlmsg_seq 11, nlmsg_pid 0
                &[0x04, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_GET_SERVICE (its dumpit), version IPVS_GENL_VERSION, reserved 0
            ]),
        },
        RequestFixture {
            name: "dump the dests of a service",
            request: Request::DumpDests(tcp_v4()),
            seq: 12,
            bytes: cat(&[
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x01, 0x03, 12, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 68, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP, nlmsg_seq 12, nlmsg_pid 0
                &[0x08, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_GET_DEST (dumpit only), version IPVS_GENL_VERSION, reserved 0
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
            ]),
        },
        RequestFixture {
            name: "dump daemons",
            request: Request::DumpDaemons,
            seq: 13,
            bytes: cat(&[&[0x14, 0, 0, 0, 0x1d, 0x00, 0x01, 0x03, 13, 0, 0, 0, 0, 0, 0, 0], &[0x0b, 0x01, 0x00, 0x00]]),
        },
        RequestFixture {
            name: "get config",
            request: Request::GetConfig,
            seq: 14,
            bytes: cat(&[&[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 14, 0, 0, 0, 0, 0, 0, 0], &[0x0d, 0x01, 0x00, 0x00]]),
        },
        RequestFixture {
            name: "get info",
            request: Request::GetInfo,
            seq: 15,
            bytes: cat(&[&[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 15, 0, 0, 0, 0, 0, 0, 0], &[0x0f, 0x01, 0x00, 0x00]]),
        },
        RequestFixture {
            name: "set config tcp 900 tcpfin 120 udp 300",
            request: Request::SetConfig(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }),
            seq: 16,
            bytes: cat(&[
                &[0x2c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 16, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 44, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 16, nlmsg_pid 0
                &[0x0c, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_SET_CONFIG, version IPVS_GENL_VERSION; the timeouts are top-level attributes
                &[0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP 900
                &[0x08, 0x00, 0x05, 0x00, 0x78, 0x00, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 120
                &[0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_UDP 300
            ]),
        },
        RequestFixture {
            name: "start master daemon on eth0 syncid 5",
            request: Request::NewDaemon(SyncDaemon::new(SyncState::Master, "eth0", 5)),
            seq: 17,
            bytes: cat(&[
                &[0x34, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 17, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 52, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 17, nlmsg_pid 0
                &[0x09, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DAEMON, version IPVS_GENL_VERSION, reserved 0
                &[0x20, 0x00, 0x03, 0x80], // nlattr: len 32, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
                &[0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE IP_VS_STATE_MASTER
                &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0, 0, 0, 0], // IPVS_DAEMON_ATTR_MCAST_IFN "eth0\0" (nla_len 9), 3 bytes pad
                &[0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00],             // IPVS_DAEMON_ATTR_SYNC_ID 5
            ]),
        },
        RequestFixture {
            name: "start master daemon on eth0 syncid 5 maxlen 1400 group 239.0.2.1 port 8849 ttl 3",
            request: Request::NewDaemon(SyncDaemon {
                sync_maxlen: Some(1400),
                mcast_group: Some(IpAddr::V4(Ipv4Addr::new(239, 0, 2, 1))),
                mcast_port: Some(8849),
                mcast_ttl: Some(3),
                ..SyncDaemon::new(SyncState::Master, "eth0", 5)
            }),
            seq: 22,
            bytes: cat(&[
                &[0x54, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 22, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 84, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 22, nlmsg_pid 0
                &[0x09, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DAEMON, version IPVS_GENL_VERSION, reserved 0
                &[0x40, 0x00, 0x03, 0x80], // nlattr: len 64, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
                &[0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE, u32 IP_VS_STATE_MASTER (1)
                &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0, 0, 0, 0], // IPVS_DAEMON_ATTR_MCAST_IFN "eth0\0" (nla_len 9), 3 bytes pad
                &[0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00],             // IPVS_DAEMON_ATTR_SYNC_ID, u32 5
                &[0x06, 0x00, 0x04, 0x00, 0x78, 0x05, 0x00, 0x00], // IPVS_DAEMON_ATTR_SYNC_MAXLEN, u16 1400 (NLA_U16, host order), 2 bytes pad
                &[0x08, 0x00, 0x05, 0x00, 239, 0, 2, 1], // IPVS_DAEMON_ATTR_MCAST_GROUP, struct in_addr 239.0.2.1 (nla_get_in_addr: network order)
                &[0x06, 0x00, 0x07, 0x00, 0x91, 0x22, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_PORT, u16 8849 in host order (nla_get_u16), 2 bytes pad
                &[0x05, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_TTL, u8 3, 3 bytes pad
            ]),
        },
        RequestFixture {
            name: "start backup daemon on eth1 syncid 9 with IPv6 group ff05::1:2, other settings the kernel's",
            request: Request::NewDaemon(SyncDaemon {
                mcast_group: Some("ff05::1:2".parse().unwrap()),
                ..SyncDaemon::new(SyncState::Backup, "eth1", 9)
            }),
            seq: 23,
            bytes: cat(&[
                &[0x48, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 23, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 72, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 23, nlmsg_pid 0
                &[0x09, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DAEMON, version IPVS_GENL_VERSION, reserved 0
                &[0x34, 0x00, 0x03, 0x80], // nlattr: len 52, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
                &[0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE, u32 IP_VS_STATE_BACKUP (2)
                &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'1', 0, 0, 0, 0], // IPVS_DAEMON_ATTR_MCAST_IFN "eth1\0" (nla_len 9), 3 bytes pad
                &[0x08, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00],             // IPVS_DAEMON_ATTR_SYNC_ID, u32 9
                &[0x14, 0x00, 0x06, 0x00], // IPVS_DAEMON_ATTR_MCAST_GROUP6, 16 bytes (struct in6_addr):
                &[0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x02], // IPVS_DAEMON_ATTR_MCAST_GROUP6 payload: ff05::1:2
            ]),
        },
        RequestFixture {
            name: "stop backup daemon",
            request: Request::DelDaemon(SyncState::Backup),
            seq: 18,
            bytes: cat(&[
                &[0x20, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 18, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 32, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 18, nlmsg_pid 0
                &[0x0a, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_DEL_DAEMON, version IPVS_GENL_VERSION, reserved 0
                &[0x0c, 0x00, 0x03, 0x80], // nlattr: len 12, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
                &[0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE, u32 IP_VS_STATE_BACKUP (2)
            ]),
        },
        RequestFixture {
            name: "zero all counters",
            request: Request::Zero(None),
            seq: 19,
            bytes: cat(&[&[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 19, 0, 0, 0, 0, 0, 0, 0], &[0x10, 0x01, 0x00, 0x00]]),
        },
        RequestFixture {
            name: "zero one service",
            request: Request::Zero(Some(tcp_v4())),
            seq: 20,
            bytes: cat(&[
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 20, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 68, nlmsg_type = family, nlmsg_flags NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 20, nlmsg_pid 0
                &[0x10, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_ZERO, version IPVS_GENL_VERSION; with a service: ip_vs_zero_service
                &svc_key_nest_tcp_v4(), // nlattr: len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, then the key of TCP 192.0.2.1:80
            ]),
        },
        RequestFixture {
            name: "flush",
            request: Request::Flush,
            seq: 21,
            bytes: cat(&[&[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 21, 0, 0, 0, 0, 0, 0, 0], &[0x11, 0x01, 0x00, 0x00]]),
        },
    ]
}

#[test]
fn every_request_encodes_to_its_fixture() {
    for f in request_fixtures() {
        let mut out = Vec::new();
        f.request.encode(&mut out, FAMILY, f.seq).unwrap();
        assert_eq!(out, f.bytes, "{}", f.name);
    }
}

#[test]
fn every_fixture_decodes_to_its_request_and_back() {
    for f in request_fixtures() {
        let frames = parse_requests(&f.bytes).unwrap();
        assert_eq!(frames.len(), 1, "{}", f.name);
        assert_eq!(frames[0].family, FAMILY, "{}", f.name);
        assert_eq!(frames[0].seq, f.seq, "{}", f.name);
        let decoded = Request::decode(&frames[0]).unwrap();
        assert_eq!(decoded, f.request, "{}", f.name);
        let mut again = Vec::new();
        decoded.encode(&mut again, FAMILY, f.seq).unwrap();
        assert_eq!(again, f.bytes, "{}", f.name);
    }
}

#[test]
fn requests_concatenate_into_one_batch() {
    let fixtures = request_fixtures();
    let mut batch = Vec::new();
    for f in &fixtures {
        f.request.encode(&mut batch, FAMILY, f.seq).unwrap();
    }
    assert_eq!(batch, fixtures.iter().flat_map(|f| f.bytes.clone()).collect::<Vec<_>>());
    let frames = parse_requests(&batch).unwrap();
    let decoded: Vec<Request> = frames.iter().map(|f| Request::decode(f).unwrap()).collect();
    assert_eq!(decoded, fixtures.into_iter().map(|f| f.request).collect::<Vec<_>>());
}

// --- Kernel replies -------------------------------------------------------------

// IPVS_*_ATTR_STATS as ip_vs_genl_fill_stats writes it: u32 except the byte counts,
// which are u64 (nla_put_u64_64bit; no IPVS_STATS_ATTR_PAD on x86-64, which has
// efficient unaligned access). 92 bytes. conns is cut to 32 bits: 5.
const STATS32: &[u8] = &[
    0x5c, 0x00, 0x0a, 0x00, // len 92, type 10 (IPVS_SVC_ATTR_STATS / IPVS_DEST_ATTR_STATS), no NLA_F_NESTED
    0x08, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_CONNS, u32 5
    0x08, 0x00, 0x02, 0x00, 0xe8, 0x03, 0x00, 0x00, // IPVS_STATS_ATTR_INPKTS, u32 1000
    0x08, 0x00, 0x03, 0x00, 0x84, 0x03, 0x00, 0x00, // IPVS_STATS_ATTR_OUTPKTS, u32 900
    0x0c, 0x00, 0x04, 0x00, 0x40, 0xe2, 0x01, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_INBYTES, u64 123456
    0x0c, 0x00, 0x05, 0x00, 0xf1, 0xfb, 0x09, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_OUTBYTES, u64 654321
    0x08, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_CPS, u32 1
    0x08, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_INPPS, u32 2
    0x08, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_OUTPPS, u32 3
    0x08, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_INBPS, u32 4
    0x08, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_OUTBPS, u32 5
];

// IPVS_*_ATTR_STATS64 (ip_vs_genl_fill_stats64): every counter u64. 124 bytes.
// A pad attribute (IPVS_STATS_ATTR_PAD, 11, empty) leads, as a kernel on an
// architecture without efficient unaligned access would put it: it must be skipped.
const STATS64: &[u8] = &[
    0x80, 0x00, 0x0c, 0x00, // len 128, type 12 (IPVS_SVC_ATTR_STATS64 / IPVS_DEST_ATTR_STATS64)
    0x04, 0x00, 0x0b, 0x00, // IPVS_STATS_ATTR_PAD, no payload
    0x0c, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, // IPVS_STATS_ATTR_CONNS, u64 0x1_0000_0005
    0x0c, 0x00, 0x02, 0x00, 0xe8, 0x03, 0x00, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_INPKTS, u64 1000
    0x0c, 0x00, 0x03, 0x00, 0x84, 0x03, 0x00, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_OUTPKTS, u64 900
    0x0c, 0x00, 0x04, 0x00, 0x40, 0xe2, 0x01, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_INBYTES, u64 123456
    0x0c, 0x00, 0x05, 0x00, 0xf1, 0xfb, 0x09, 0x00, 0, 0, 0, 0, // IPVS_STATS_ATTR_OUTBYTES, u64 654321
    0x0c, 0x00, 0x06, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, // IPVS_STATS_ATTR_CPS, u64 1
    0x0c, 0x00, 0x07, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, // IPVS_STATS_ATTR_INPPS, u64 2
    0x0c, 0x00, 0x08, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, // IPVS_STATS_ATTR_OUTPPS, u64 3
    0x0c, 0x00, 0x09, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, // IPVS_STATS_ATTR_INBPS, u64 4
    0x0c, 0x00, 0x0a, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, // IPVS_STATS_ATTR_OUTBPS, u64 5
];

fn expected_stats() -> Stats {
    Stats {
        conns: 0x1_0000_0005,
        inpkts: 1000,
        outpkts: 900,
        inbytes: 123_456,
        outbytes: 654_321,
        cps: 1,
        inpps: 2,
        outpps: 3,
        inbps: 4,
        outbps: 5,
    }
}

fn single(datagram: &[u8]) -> super::wire::GenlMsg {
    match parse_datagram(datagram).unwrap().as_slice() {
        [Incoming::Data { msg, .. }] => msg.clone(),
        other => panic!("expected one data message, got {other:?}"),
    }
}

#[test]
fn service_dump_element_with_stats64_and_done() {
    let datagram = cat(&[
        &[0x44, 0x01, 0, 0],                                              // nlmsghdr: nlmsg_len 324
        &[0x1d, 0x00, 0x02, 0x00],        // nlmsg_type = family, nlmsg_flags NLM_F_MULTI
        &[11, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsg_seq of our dump request (11), nlmsg_pid = our port id
        &[0x01, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE (ip_vs_genl_dump_service), version 1, reserved 0
        &[0x30, 0x01, 0x01, 0x00], // nlattr: len 304, IPVS_CMD_ATTR_SERVICE without NLA_F_NESTED (nla_nest_start_noflag)
        KEY_TCP_V4,                // IPVS_SVC_ATTR_AF, _PROTOCOL, _ADDR, _PORT of TCP 192.0.2.1:80
        &[0x08, 0x00, 0x06, 0x00, b'w', b'l', b'c', 0], // IPVS_SVC_ATTR_SCHED_NAME "wlc\0"
        &[0x0c, 0x00, 0x07, 0x00, 0x02, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // IPVS_SVC_ATTR_FLAGS: .flags IP_VS_SVC_F_HASHED only, .mask ~0
        &[0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0], // IPVS_SVC_ATTR_TIMEOUT, u32 0 (svc->timeout / HZ)
        &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 255], // IPVS_SVC_ATTR_NETMASK, be32 255.255.255.255 (nla_put_be32)
        STATS32,                               // IPVS_SVC_ATTR_STATS, 92 bytes (see STATS32)
        STATS64,                               // IPVS_SVC_ATTR_STATS64, 128 bytes (see STATS64)
        // NLMSG_DONE closing the dump, with its int payload 0.
        &[0x14, 0, 0, 0, 0x03, 0x00, 0x02, 0x00, 11, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0], // nlmsghdr: nlmsg_len 20, NLMSG_DONE (3), NLM_F_MULTI, nlmsg_seq 11, our port id; int error 0
    ]);
    let msgs = parse_datagram(&datagram).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1], Incoming::Done { seq: 11, errno: 0 });
    let Incoming::Data { seq: 11, msg, .. } = &msgs[0] else { panic!("{msgs:?}") };
    assert_eq!(msg.cmd, super::attrs::IPVS_CMD_NEW_SERVICE);
    let entry = service::parse_entry(&msg.attrs).unwrap();
    assert_eq!(
        entry,
        ServiceEntry { service: Service::new(tcp_v4()), stats: expected_stats(), dests: vec![] },
        "HASHED is ignored, STATS64 wins over STATS"
    );
}

#[test]
fn persistent_ipv6_service_reply() {
    // A GET_SERVICE reply for a persistent IPv6 service with the sip PE.
    let datagram = cat(&[
        &[0x70, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 10, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 112, nlmsg_type = family, no flags (a doit reply), nlmsg_seq 10, our port id
        &[0x01, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE (GET_SERVICE's reply command), version 1, reserved 0
        &[0x5c, 0x00, 0x01, 0x00], // nlattr: len 92, IPVS_CMD_ATTR_SERVICE, no NLA_F_NESTED
        &[0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_AF, u16 AF_INET6 (10), 2 bytes pad
        &[0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_PROTOCOL, u16 IPPROTO_UDP (17), 2 bytes pad
        &[0x14, 0x00, 0x03, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // IPVS_SVC_ATTR_ADDR, 16 bytes: 2001:db8::1
        &[0x06, 0x00, 0x04, 0x00, 0x13, 0xc4, 0x00, 0x00], // IPVS_SVC_ATTR_PORT, be16 5060, 2 bytes pad
        &[0x07, 0x00, 0x06, 0x00, b's', b'h', 0, 0],       // IPVS_SVC_ATTR_SCHED_NAME "sh\0" (nla_len 7), 1 byte pad
        &[0x08, 0x00, 0x0b, 0x00, b's', b'i', b'p', 0], // IPVS_SVC_ATTR_PE_NAME "sip\0": comes before FLAGS in ip_vs_genl_fill_service
        &[0x0c, 0x00, 0x07, 0x00, 0x1f, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // IPVS_SVC_ATTR_FLAGS: .flags 0x1d | IP_VS_SVC_F_HASHED, .mask ~0
        &[0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00],                // IPVS_SVC_ATTR_TIMEOUT, u32 300 seconds
        &[0x08, 0x00, 0x09, 0x00, 64, 0, 0, 0], // IPVS_SVC_ATTR_NETMASK: the prefix length 64 back as the kernel stored it
    ]);
    let entry = service::parse_entry(&single(&datagram).attrs).unwrap();
    assert_eq!(
        entry.service,
        Service {
            key: ServiceKey::Inet { protocol: Protocol::Udp, addr: "[2001:db8::1]:5060".parse().unwrap() },
            scheduler: Scheduler::Sh,
            sched_flags: SchedFlags { fallback: true, port: true, flag3: false },
            persistence: Some(Persistence { timeout: 300, netmask: PersistMask::V6(64) }),
            one_packet: true,
            pe: Some("sip".into()),
        }
    );
    assert_eq!(entry.stats, Stats::default(), "no counters sent, none read");
}

#[test]
fn dest_dump_element_with_counters() {
    let datagram = cat(&[
        &[0x68, 0x01, 0, 0],                                      // nlmsghdr: nlmsg_len 360
        &[0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsg_type = family, nlmsg_flags NLM_F_MULTI, nlmsg_seq 12, nlmsg_pid = our port id
        &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST (ip_vs_genl_dump_dest), version 1, reserved 0
        &[0x54, 0x01, 0x02, 0x00], // nlattr: len 340, IPVS_CMD_ATTR_DEST, no NLA_F_NESTED
        // In ip_vs_genl_fill_dest's order:
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.1, zeros after
        &[0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // IPVS_DEST_ATTR_PORT, be16 8080, 2 bytes pad
        &[0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD, u32 IP_VS_CONN_F_MASQ (0)
        &[0x08, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 5
        &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE, u8 GUE (1): stored, but meaningless for NAT
        &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT, be16 6080
        &[0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS, u16 IP_VS_TUNNEL_ENCAP_FLAG_CSUM
        &[0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH, u32 100
        &[0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH, u32 10
        &[0x08, 0x00, 0x07, 0x00, 0x07, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ACTIVE_CONNS, u32 7
        &[0x08, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_INACT_CONNS, u32 3
        &[0x08, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_PERSIST_CONNS, u32 1
        &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_ADDR_FAMILY, u16 AF_INET (2)
        STATS32,                                           // IPVS_DEST_ATTR_STATS, 92 bytes (see STATS32)
        STATS64,                                           // IPVS_DEST_ATTR_STATS64, 128 bytes (see STATS64)
    ]);
    let entry = dest::parse_entry(&single(&datagram).attrs, Family::Ipv4).unwrap();
    assert_eq!(
        entry,
        DestEntry {
            dest: Dest {
                addr: "10.0.0.1:8080".parse().unwrap(),
                forward: Forward::Nat,
                weight: 5,
                upper_threshold: 100,
                lower_threshold: 10,
                tunnel: TunnelOptions::default(),
            },
            active_conns: 7,
            inactive_conns: 3,
            persistent_conns: 1,
            stats: expected_stats(),
        }
    );
}

#[test]
fn tunnel_dest_reply_keeps_its_tunnel_settings_and_old_kernels_omit_family() {
    // A 4.x kernel: no TUN_* and no ADDR_FAMILY; the service's family applies.
    let old = cat(&[
        &[0x54, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 84, nlmsg_type = family, NLM_F_MULTI, nlmsg_seq 12, our port id
        &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version 1, reserved 0
        &[0x40, 0x00, 0x02, 0x00], // nlattr: len 64, IPVS_CMD_ATTR_DEST, no NLA_F_NESTED
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.3, zeros after
        &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],                          // IPVS_DEST_ATTR_PORT, be16 80
        &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD, u32 IP_VS_CONN_F_TUNNEL (2)
        &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 2
        &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_U_THRESH, u32 0
        &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_L_THRESH, u32 0
    ]);
    let d = dest::parse_entry(&single(&old).attrs, Family::Ipv4).unwrap().dest;
    assert_eq!(d, Dest { forward: Forward::Tunnel, weight: 2, ..Dest::new("10.0.0.3:80".parse().unwrap()) });

    let remcsum = cat(&[
        &[0x5c, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 92, nlmsg_type = family, NLM_F_MULTI, nlmsg_seq 12, our port id
        &[0x05, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version 1, reserved 0
        &[0x48, 0x00, 0x02, 0x00], // nlattr: len 72, IPVS_CMD_ATTR_DEST, no NLA_F_NESTED
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR, 16 bytes: 10.0.0.3, zeros after
        &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],                          // IPVS_DEST_ATTR_PORT, be16 80
        &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_FWD_METHOD, u32 IP_VS_CONN_F_TUNNEL (2)
        &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_WEIGHT, u32 2
        &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_TYPE, u8 IP_VS_CONN_F_TUNNEL_TYPE_GUE (1)
        &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_PORT, be16 6080
        &[0x06, 0x00, 0x0f, 0x00, 0x03, 0x00, 0x00, 0x00], // IPVS_DEST_ATTR_TUN_FLAGS, u16 _CSUM | _REMCSUM: remote checksum wins
    ]);
    let d = dest::parse_entry(&single(&remcsum).attrs, Family::Ipv4).unwrap().dest;
    assert_eq!(d.tunnel, TunnelOptions { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::RemoteChecksum });
}

#[test]
fn info_reply_then_ack() {
    let reply = cat(&[
        &[0x24, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 15, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 36, nlmsg_type = family, no flags, nlmsg_seq 15, our port id
        &[0x0e, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_SET_INFO (GET_INFO's reply command), version 1, reserved 0
        &[0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x01, 0x00], // IPVS_INFO_ATTR_VERSION 0x010201
        &[0x08, 0x00, 0x02, 0x00, 0x00, 0x10, 0x00, 0x00], // IPVS_INFO_ATTR_CONN_TAB_SIZE 4096
    ]);
    let msg = single(&reply);
    assert_eq!(msg.cmd, super::attrs::IPVS_CMD_SET_INFO);
    let info = config::parse_info(&msg.attrs).unwrap();
    assert_eq!(info, Info { version: 0x010201, conn_tab_size: 4096 });
    assert_eq!(info.version_string(), "1.2.1");

    // The ack: NLMSG_ERROR with error 0 and our header echoed (NLM_F_CAPPED: no payload).
    let ack = cat(&[
        &[0x24, 0, 0, 0, 0x02, 0x00, 0x00, 0x01, 15, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 36, NLMSG_ERROR (2), NLM_F_CAPPED, nlmsg_seq 15, our port id
        &[0, 0, 0, 0],                                                           // struct nlmsgerr.error 0: an ack
        &[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 15, 0, 0, 0, 0, 0, 0, 0], // struct nlmsgerr.msg: our GET_INFO nlmsghdr echoed, no payload
    ]);
    assert_eq!(parse_datagram(&ack).unwrap(), vec![Incoming::Ack { seq: 15 }]);
}

#[test]
fn config_reply() {
    let reply = cat(&[
        &[0x2c, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 14, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 44, nlmsg_type = family, no flags, nlmsg_seq 14, our port id
        &[0x0c, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_SET_CONFIG (GET_CONFIG's reply command), version 1, reserved 0
        &[0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP, u32 900
        &[0x08, 0x00, 0x05, 0x00, 0x78, 0x00, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, u32 120
        &[0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_UDP, u32 300
    ]);
    let t = config::parse_timeouts(&single(&reply).attrs).unwrap();
    assert_eq!(t, Timeouts { tcp: 900, tcp_fin: 120, udp: 300 });
}

#[test]
fn daemon_dump_element_with_the_newer_attributes() {
    let datagram = cat(&[
        &[0x54, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 13, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 84, nlmsg_type = family, NLM_F_MULTI, nlmsg_seq 13, our port id
        &[0x09, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DAEMON (ip_vs_genl_dump_daemon), version 1, reserved 0
        &[0x40, 0x00, 0x03, 0x00], // nlattr: len 64, IPVS_CMD_ATTR_DAEMON, no NLA_F_NESTED
        &[0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE, u32 IP_VS_STATE_MASTER (1)
        &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0, 0, 0, 0], // IPVS_DAEMON_ATTR_MCAST_IFN "eth0\0" (nla_len 9), 3 bytes pad
        &[0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00],             // IPVS_DAEMON_ATTR_SYNC_ID, u32 5
        &[0x06, 0x00, 0x04, 0x00, 0xc8, 0x05, 0x00, 0x00], // IPVS_DAEMON_ATTR_SYNC_MAXLEN, u16 1480, 2 bytes pad
        &[0x06, 0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_PORT, u16 8848 in host order, 2 bytes pad
        &[0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_TTL, u8 1, 3 bytes pad
        &[0x08, 0x00, 0x05, 0x00, 224, 0, 0, 81], // IPVS_DAEMON_ATTR_MCAST_GROUP, struct in_addr 224.0.0.81 (network order)
    ]);
    let d = daemon::parse_entry(&single(&datagram).attrs).unwrap();
    assert_eq!(
        d,
        SyncDaemon {
            sync_maxlen: Some(1480),
            mcast_group: Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81))),
            mcast_port: Some(8848),
            mcast_ttl: Some(1),
            ..SyncDaemon::new(SyncState::Master, "eth0", 5)
        }
    );
}

#[test]
fn daemon_dump_element_with_an_ipv6_group() {
    // A backup started with only an IPv6 group: the kernel reports its defaults
    // for the rest (maxlen 1500 - 40 - 8, port 8848, ttl 1), and GROUP6 last.
    let datagram = cat(&[
        &[0x60, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 13, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 96, nlmsg_type = family, NLM_F_MULTI, nlmsg_seq 13, our port id
        &[0x09, 0x01, 0x00, 0x00], // genlmsghdr: cmd IPVS_CMD_NEW_DAEMON (ip_vs_genl_dump_daemon), version 1, reserved 0
        &[0x4c, 0x00, 0x03, 0x00], // nlattr: len 76, IPVS_CMD_ATTR_DAEMON, no NLA_F_NESTED
        &[0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE, u32 IP_VS_STATE_BACKUP (2)
        &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'1', 0, 0, 0, 0], // IPVS_DAEMON_ATTR_MCAST_IFN "eth1\0" (nla_len 9), 3 bytes pad
        &[0x08, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00],             // IPVS_DAEMON_ATTR_SYNC_ID, u32 9
        &[0x06, 0x00, 0x04, 0x00, 0xac, 0x05, 0x00, 0x00], // IPVS_DAEMON_ATTR_SYNC_MAXLEN, u16 1452, 2 bytes pad
        &[0x06, 0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_PORT, u16 8848 in host order, 2 bytes pad
        &[0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_TTL, u8 1, 3 bytes pad
        &[0x14, 0x00, 0x06, 0x00], // IPVS_DAEMON_ATTR_MCAST_GROUP6, 16 bytes (nla_put_in6_addr):
        &[0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x02], // IPVS_DAEMON_ATTR_MCAST_GROUP6 payload: ff05::1:2
    ]);
    let d = daemon::parse_entry(&single(&datagram).attrs).unwrap();
    assert_eq!(
        d,
        SyncDaemon {
            sync_maxlen: Some(1452),
            mcast_group: Some("ff05::1:2".parse().unwrap()),
            mcast_port: Some(8848),
            mcast_ttl: Some(1),
            ..SyncDaemon::new(SyncState::Backup, "eth1", 9)
        }
    );
}

#[test]
fn error_ack_echoes_the_request_and_names_its_sequence() {
    // ESRCH for fixture "delete service FWM 7" (seq 3), request echoed in full
    // because we do not set NETLINK_CAP_ACK.
    let del = request_fixtures().into_iter().find(|f| f.seq == 3).unwrap().bytes;
    let datagram = cat(&[
        &[0x3c, 0, 0, 0, 0x02, 0x00, 0x00, 0x00, 3, 0, 0, 0, 0x34, 0x12, 0, 0], // nlmsghdr: nlmsg_len 60, NLMSG_ERROR (2), no flags, nlmsg_seq 3, our port id
        &(-3i32).to_le_bytes(),                                                 // -ESRCH
        &del,
    ]);
    assert_eq!(parse_datagram(&datagram).unwrap(), vec![Incoming::Error { seq: 3, errno: 3 }]);
}

#[test]
fn socket_addr_family_follows_the_address() {
    // A v6 dest of a v4 service decodes as v6 because of ADDR_FAMILY.
    let f = request_fixtures().into_iter().find(|f| f.seq == 8).unwrap();
    let frame = &parse_requests(&f.bytes).unwrap()[0];
    let Request::NewDest(_, d) = Request::decode(frame).unwrap() else { panic!() };
    assert_eq!(d.addr, "[2001:db8::10]:80".parse::<SocketAddr>().unwrap());
}
