//! Byte fixtures: each request as the kernel must receive it and each kind of
//! kernel reply as it arrives, written by hand from include/uapi/linux/ip_vs.h and
//! net/netfilter/ipvs/ip_vs_ctl.c (not produced by the encoder). Requests go
//! bytes → Request → the same bytes; replies are decoded into the agent's types.
//!
//! Integers are host order (nla_put_u16/u32), so the fixtures are little-endian
//! and the tests are compiled for little-endian targets only. The family id is
//! dynamic in the kernel; 0x001d stands for it. Our port id is 0x1234.

#![cfg(target_endian = "little")]

use super::wire::{parse_datagram, parse_requests, Incoming};
use super::{config, daemon, dest, service, Request};
use crate::ipvs::{
    Dest, DestEntry, Family, Forward, Info, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service,
    ServiceEntry, ServiceKey, Stats, SyncDaemon, SyncState, Timeouts, TunnelCsum, TunnelKind, TunnelOptions,
};
use std::net::{Ipv4Addr, SocketAddr};

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
    192, 0, 2, 1, 0, 0, 0, 0, // 192.0.2.1 in the first 4 bytes, zeros after
    0, 0, 0, 0, 0, 0, 0, 0, //
    0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00, // IPVS_SVC_ATTR_PORT, be16 80, pad
];

// IPVS_CMD_ATTR_SERVICE with only the key, as DEL/GET/ZERO and dest commands carry it (48 bytes).
fn svc_key_nest_tcp_v4() -> Vec<u8> {
    cat(&[
        &[0x30, 0x00, 0x01, 0x80], // len 48, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
        KEY_TCP_V4,
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
                &[0x68, 0, 0, 0], // nlmsghdr.nlmsg_len 104
                &[0x1d, 0x00, 0x05, 0x00], // nlmsg_type = family, flags NLM_F_REQUEST | NLM_F_ACK
                &[1, 0, 0, 0, 0, 0, 0, 0], // seq 1, pid 0 (the kernel)
                &[0x01, 0x01, 0x00, 0x00], // genlmsghdr: IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION, reserved
                &[0x54, 0x00, 0x01, 0x80], // len 84, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
                KEY_TCP_V4,
                &[0x08, 0x00, 0x06, 0x00, b'w', b'l', b'c', 0], // IPVS_SVC_ATTR_SCHED_NAME "wlc\0"
                &[0x0c, 0x00, 0x07, 0x00], // IPVS_SVC_ATTR_FLAGS, struct ip_vs_flags
                &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // .flags 0, .mask all ones
                &[0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0], // IPVS_SVC_ATTR_TIMEOUT 0: required even without persistence
                &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 255], // IPVS_SVC_ATTR_NETMASK 255.255.255.255, network order
            ]),
        },
        RequestFixture {
            name: "set service UDP [2001:db8::1]:5060 sh fallback,port persistent 300 /64 one-packet pe sip",
            request: Request::SetService(v6_persistent),
            seq: 2,
            bytes: cat(&[
                &[0x70, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 2, 0, 0, 0, 0, 0, 0, 0], // len 112, REQUEST|ACK, seq 2
                &[0x02, 0x01, 0x00, 0x00], // IPVS_CMD_SET_SERVICE
                &[0x5c, 0x00, 0x01, 0x80], // len 92, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
                &[0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00], // AF AF_INET6 (10)
                &[0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00], // PROTOCOL IPPROTO_UDP (17)
                &[0x14, 0x00, 0x03, 0x00], // ADDR, all 16 bytes
                &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
                &[0x06, 0x00, 0x04, 0x00, 0x13, 0xc4, 0x00, 0x00], // PORT be16 5060
                &[0x07, 0x00, 0x06, 0x00, b's', b'h', 0, 0], // SCHED_NAME "sh\0" (len 7), 1 byte pad
                &[0x08, 0x00, 0x0b, 0x00, b's', b'i', b'p', 0], // IPVS_SVC_ATTR_PE_NAME "sip\0"
                &[0x0c, 0x00, 0x07, 0x00], // FLAGS:
                &[0x1d, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // PERSISTENT|ONEPACKET|SCHED1|SCHED2, mask ~0
                &[0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00], // TIMEOUT 300
                &[0x08, 0x00, 0x09, 0x00, 64, 0, 0, 0], // NETMASK: prefix length 64 as a host-order u32
            ]),
        },
        RequestFixture {
            name: "delete service FWM 7",
            request: Request::DelService(fwm),
            seq: 3,
            bytes: cat(&[
                &[0x28, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 3, 0, 0, 0, 0, 0, 0, 0], // len 40, seq 3
                &[0x03, 0x01, 0x00, 0x00], // IPVS_CMD_DEL_SERVICE
                &[0x14, 0x00, 0x01, 0x80], // len 20, SERVICE nest
                &[0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // AF AF_INET
                &[0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00], // IPVS_SVC_ATTR_FWMARK 7 (no protocol/addr/port)
            ]),
        },
        RequestFixture {
            name: "new service FWM 7 wrr persistent 360 mask 255.255.255.0",
            request: Request::NewService(fwm_service),
            seq: 4,
            bytes: cat(&[
                &[0x4c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 4, 0, 0, 0, 0, 0, 0, 0], // len 76, seq 4
                &[0x01, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_SERVICE
                &[0x38, 0x00, 0x01, 0x80], // len 56, SERVICE nest
                &[0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // AF AF_INET
                &[0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00], // FWMARK 7
                &[0x08, 0x00, 0x06, 0x00, b'w', b'r', b'r', 0], // SCHED_NAME "wrr\0"
                &[0x0c, 0x00, 0x07, 0x00, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // FLAGS PERSISTENT, mask ~0
                &[0x08, 0x00, 0x08, 0x00, 0x68, 0x01, 0x00, 0x00], // TIMEOUT 360
                &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 0], // NETMASK 255.255.255.0 as its octets
            ]),
        },
        RequestFixture {
            name: "new dest NAT 10.0.0.1:8080 weight 5 thresholds 10..100",
            request: Request::NewDest(tcp_v4(), nat),
            seq: 5,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 5, 0, 0, 0, 0, 0, 0, 0], // len 164, seq 5
                &[0x05, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_DEST
                &svc_key_nest_tcp_v4(),
                &[0x60, 0x00, 0x02, 0x80], // len 96, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // IPVS_DEST_ATTR_ADDR
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
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 6, 0, 0, 0, 0, 0, 0, 0],
                &[0x06, 0x01, 0x00, 0x00], // IPVS_CMD_SET_DEST
                &svc_key_nest_tcp_v4(),
                &[0x60, 0x00, 0x02, 0x80],
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00], // PORT 80: we send what the Dest says
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00],
                &[0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00], // FWD_METHOD IP_VS_CONN_F_DROUTE
                &[0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00], // WEIGHT 1
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00], // U_THRESH 0 (no limit)
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00], // L_THRESH 0
                &[0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00],
            ]),
        },
        RequestFixture {
            name: "new dest tunnel GUE port 6080 with checksum",
            request: Request::NewDest(tcp_v4(), gue),
            seq: 7,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 7, 0, 0, 0, 0, 0, 0, 0],
                &[0x05, 0x01, 0x00, 0x00],
                &svc_key_nest_tcp_v4(),
                &[0x60, 0x00, 0x02, 0x80],
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00],
                &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // FWD_METHOD IP_VS_CONN_F_TUNNEL
                &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00], // WEIGHT 2
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_TYPE IP_VS_CONN_F_TUNNEL_TYPE_GUE
                &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // TUN_PORT be16 6080
                &[0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_FLAGS IP_VS_TUNNEL_ENCAP_FLAG_CSUM
            ]),
        },
        RequestFixture {
            name: "new dest mixed family: IPv6 ipip tunnel behind an IPv4 service",
            request: Request::NewDest(tcp_v4(), mixed),
            seq: 8,
            bytes: cat(&[
                &[0xa4, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 8, 0, 0, 0, 0, 0, 0, 0],
                &[0x05, 0x01, 0x00, 0x00],
                &svc_key_nest_tcp_v4(),
                &[0x60, 0x00, 0x02, 0x80],
                &[0x14, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10],
                &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],
                &[0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00], // ADDR_FAMILY AF_INET6: differs from the service
                &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // TUNNEL, the only method allowed to mix
                &[0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00],
                &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00], // TUN_TYPE IPIP
                &[0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00],
                &[0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00],
            ]),
        },
        RequestFixture {
            name: "delete dest 10.0.0.1:8080",
            request: Request::DelDest(tcp_v4(), "10.0.0.1:8080".parse().unwrap()),
            seq: 9,
            bytes: cat(&[
                &[0x6c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 9, 0, 0, 0, 0, 0, 0, 0], // len 108
                &[0x07, 0x01, 0x00, 0x00], // IPVS_CMD_DEL_DEST
                &svc_key_nest_tcp_v4(),
                &[0x28, 0x00, 0x02, 0x80], // len 40, DEST nest: only what identifies the dest
                &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &[0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00],
                &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00],
            ]),
        },
        RequestFixture {
            name: "get one service",
            request: Request::GetService(tcp_v4()),
            seq: 10,
            bytes: cat(&[
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 10, 0, 0, 0, 0, 0, 0, 0], // len 68, doit
                &[0x04, 0x01, 0x00, 0x00], // IPVS_CMD_GET_SERVICE
                &svc_key_nest_tcp_v4(),
            ]),
        },
        RequestFixture {
            name: "dump services",
            request: Request::DumpServices,
            seq: 11,
            bytes: cat(&[
                &[0x14, 0, 0, 0, 0x1d, 0x00, 0x01, 0x03, 11, 0, 0, 0, 0, 0, 0, 0], // NLM_F_REQUEST | NLM_F_DUMP
                &[0x04, 0x01, 0x00, 0x00],
            ]),
        },
        RequestFixture {
            name: "dump the dests of a service",
            request: Request::DumpDests(tcp_v4()),
            seq: 12,
            bytes: cat(&[
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x01, 0x03, 12, 0, 0, 0, 0, 0, 0, 0],
                &[0x08, 0x01, 0x00, 0x00], // IPVS_CMD_GET_DEST (dumpit only)
                &svc_key_nest_tcp_v4(),
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
                &[0x2c, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 16, 0, 0, 0, 0, 0, 0, 0], // len 44
                &[0x0c, 0x01, 0x00, 0x00], // IPVS_CMD_SET_CONFIG; the timeouts are top-level attributes
                &[0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP 900
                &[0x08, 0x00, 0x05, 0x00, 0x78, 0x00, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 120
                &[0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00], // IPVS_CMD_ATTR_TIMEOUT_UDP 300
            ]),
        },
        RequestFixture {
            name: "start master daemon on eth0 syncid 5",
            request: Request::NewDaemon(SyncDaemon { state: SyncState::Master, interface: "eth0".into(), sync_id: 5 }),
            seq: 17,
            bytes: cat(&[
                &[0x34, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 17, 0, 0, 0, 0, 0, 0, 0], // len 52
                &[0x09, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_DAEMON
                &[0x20, 0x00, 0x03, 0x80], // len 32, IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED
                &[0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_STATE IP_VS_STATE_MASTER
                &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0, 0, 0, 0], // MCAST_IFN "eth0\0", 3 pad
                &[0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_SYNC_ID 5
            ]),
        },
        RequestFixture {
            name: "stop backup daemon",
            request: Request::DelDaemon(SyncState::Backup),
            seq: 18,
            bytes: cat(&[
                &[0x20, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 18, 0, 0, 0, 0, 0, 0, 0], // len 32
                &[0x0a, 0x01, 0x00, 0x00], // IPVS_CMD_DEL_DAEMON
                &[0x0c, 0x00, 0x03, 0x80], // DAEMON nest
                &[0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00], // STATE IP_VS_STATE_BACKUP
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
                &[0x44, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 20, 0, 0, 0, 0, 0, 0, 0],
                &[0x10, 0x01, 0x00, 0x00], // IPVS_CMD_ZERO with a service: ip_vs_zero_service
                &svc_key_nest_tcp_v4(),
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
    0x08, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, // IPVS_STATS_ATTR_CONNS u32 5
    0x08, 0x00, 0x02, 0x00, 0xe8, 0x03, 0x00, 0x00, // INPKTS u32 1000
    0x08, 0x00, 0x03, 0x00, 0x84, 0x03, 0x00, 0x00, // OUTPKTS u32 900
    0x0c, 0x00, 0x04, 0x00, 0x40, 0xe2, 0x01, 0x00, 0, 0, 0, 0, // INBYTES u64 123456
    0x0c, 0x00, 0x05, 0x00, 0xf1, 0xfb, 0x09, 0x00, 0, 0, 0, 0, // OUTBYTES u64 654321
    0x08, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, // CPS 1
    0x08, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, // INPPS 2
    0x08, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // OUTPPS 3
    0x08, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, // INBPS 4
    0x08, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x00, 0x00, // OUTBPS 5
];

// IPVS_*_ATTR_STATS64 (ip_vs_genl_fill_stats64): every counter u64. 124 bytes.
// A pad attribute (IPVS_STATS_ATTR_PAD, 11, empty) leads, as a kernel on an
// architecture without efficient unaligned access would put it: it must be skipped.
const STATS64: &[u8] = &[
    0x80, 0x00, 0x0c, 0x00, // len 128, type 12 (IPVS_SVC_ATTR_STATS64 / IPVS_DEST_ATTR_STATS64)
    0x04, 0x00, 0x0b, 0x00, // IPVS_STATS_ATTR_PAD, no payload
    0x0c, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // CONNS 0x1_0000_0005
    0x0c, 0x00, 0x02, 0x00, 0xe8, 0x03, 0x00, 0x00, 0, 0, 0, 0, // INPKTS 1000
    0x0c, 0x00, 0x03, 0x00, 0x84, 0x03, 0x00, 0x00, 0, 0, 0, 0, // OUTPKTS 900
    0x0c, 0x00, 0x04, 0x00, 0x40, 0xe2, 0x01, 0x00, 0, 0, 0, 0, // INBYTES 123456
    0x0c, 0x00, 0x05, 0x00, 0xf1, 0xfb, 0x09, 0x00, 0, 0, 0, 0, // OUTBYTES 654321
    0x0c, 0x00, 0x06, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, // CPS 1
    0x0c, 0x00, 0x07, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, // INPPS 2
    0x0c, 0x00, 0x08, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, // OUTPPS 3
    0x0c, 0x00, 0x09, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, // INBPS 4
    0x0c, 0x00, 0x0a, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, // OUTBPS 5
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
        &[0x44, 0x01, 0, 0], // nlmsg_len 324
        &[0x1d, 0x00, 0x02, 0x00], // family, NLM_F_MULTI
        &[11, 0, 0, 0, 0x34, 0x12, 0, 0], // seq of our dump request, our port id
        &[0x01, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_SERVICE (ip_vs_genl_dump_service), version 1
        &[0x30, 0x01, 0x01, 0x00], // len 304, IPVS_CMD_ATTR_SERVICE without NLA_F_NESTED (nla_nest_start_noflag)
        KEY_TCP_V4,
        &[0x08, 0x00, 0x06, 0x00, b'w', b'l', b'c', 0], // SCHED_NAME
        &[0x0c, 0x00, 0x07, 0x00, 0x02, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // FLAGS: IP_VS_SVC_F_HASHED only, mask ~0
        &[0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0], // TIMEOUT (svc->timeout / HZ)
        &[0x08, 0x00, 0x09, 0x00, 255, 255, 255, 255], // NETMASK (nla_put_be32)
        STATS32,
        STATS64,
        // NLMSG_DONE closing the dump, with its int payload 0.
        &[0x14, 0, 0, 0, 0x03, 0x00, 0x02, 0x00, 11, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0],
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
        &[0x70, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 10, 0, 0, 0, 0x34, 0x12, 0, 0], // len 112, no flags
        &[0x01, 0x01, 0x00, 0x00], // reply command IPVS_CMD_NEW_SERVICE
        &[0x5c, 0x00, 0x01, 0x00], // SERVICE nest, 92
        &[0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00],
        &[0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00],
        &[0x14, 0x00, 0x03, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
        &[0x06, 0x00, 0x04, 0x00, 0x13, 0xc4, 0x00, 0x00],
        &[0x07, 0x00, 0x06, 0x00, b's', b'h', 0, 0],
        &[0x08, 0x00, 0x0b, 0x00, b's', b'i', b'p', 0], // PE_NAME comes before FLAGS in the kernel's fill
        &[0x0c, 0x00, 0x07, 0x00, 0x1f, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // 0x1d | HASHED
        &[0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00],
        &[0x08, 0x00, 0x09, 0x00, 64, 0, 0, 0], // the prefix length back as the kernel stored it
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
        &[0x68, 0x01, 0, 0], // nlmsg_len 360
        &[0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // NLM_F_MULTI, seq 12
        &[0x05, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_DEST (ip_vs_genl_dump_dest)
        &[0x54, 0x01, 0x02, 0x00], // len 340, IPVS_CMD_ATTR_DEST, no NLA_F_NESTED
        // In ip_vs_genl_fill_dest's order:
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ADDR
        &[0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00], // PORT 8080
        &[0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00], // FWD_METHOD masq
        &[0x08, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00], // WEIGHT 5
        &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_TYPE GUE: stored, but meaningless for NAT
        &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // TUN_PORT 6080
        &[0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00], // TUN_FLAGS CSUM
        &[0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00], // U_THRESH 100
        &[0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x00], // L_THRESH 10
        &[0x08, 0x00, 0x07, 0x00, 0x07, 0x00, 0x00, 0x00], // ACTIVE_CONNS 7
        &[0x08, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00], // INACT_CONNS 3
        &[0x08, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00], // PERSIST_CONNS 1
        &[0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00], // ADDR_FAMILY AF_INET
        STATS32,
        STATS64,
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
        &[0x54, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // len 84
        &[0x05, 0x01, 0x00, 0x00],
        &[0x40, 0x00, 0x02, 0x00], // DEST nest, 64
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],
        &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00], // TUNNEL
        &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00],
        &[0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00],
    ]);
    let d = dest::parse_entry(&single(&old).attrs, Family::Ipv4).unwrap().dest;
    assert_eq!(d, Dest { forward: Forward::Tunnel, weight: 2, ..Dest::new("10.0.0.3:80".parse().unwrap()) });

    let remcsum = cat(&[
        &[0x5c, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 12, 0, 0, 0, 0x34, 0x12, 0, 0], // len 92
        &[0x05, 0x01, 0x00, 0x00],
        &[0x48, 0x00, 0x02, 0x00], // DEST nest, 72
        &[0x14, 0x00, 0x01, 0x00, 10, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x06, 0x00, 0x02, 0x00, 0x00, 0x50, 0x00, 0x00],
        &[0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00],
        &[0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00],
        &[0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00], // GUE
        &[0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00], // port 6080
        &[0x06, 0x00, 0x0f, 0x00, 0x03, 0x00, 0x00, 0x00], // CSUM | REMCSUM: remote checksum wins
    ]);
    let d = dest::parse_entry(&single(&remcsum).attrs, Family::Ipv4).unwrap().dest;
    assert_eq!(d.tunnel, TunnelOptions { kind: TunnelKind::Gue, port: 6080, csum: TunnelCsum::RemoteChecksum });
}

#[test]
fn info_reply_then_ack() {
    let reply = cat(&[
        &[0x24, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 15, 0, 0, 0, 0x34, 0x12, 0, 0], // len 36
        &[0x0e, 0x01, 0x00, 0x00], // IPVS_CMD_SET_INFO (GET_INFO's reply command)
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
        &[0x24, 0, 0, 0, 0x02, 0x00, 0x00, 0x01, 15, 0, 0, 0, 0x34, 0x12, 0, 0],
        &[0, 0, 0, 0], // error 0
        &[0x14, 0, 0, 0, 0x1d, 0x00, 0x05, 0x00, 15, 0, 0, 0, 0, 0, 0, 0], // our GET_INFO header
    ]);
    assert_eq!(parse_datagram(&ack).unwrap(), vec![Incoming::Ack { seq: 15 }]);
}

#[test]
fn config_reply() {
    let reply = cat(&[
        &[0x2c, 0, 0, 0, 0x1d, 0x00, 0x00, 0x00, 14, 0, 0, 0, 0x34, 0x12, 0, 0], // len 44
        &[0x0c, 0x01, 0x00, 0x00], // IPVS_CMD_SET_CONFIG (GET_CONFIG's reply command)
        &[0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00], // TIMEOUT_TCP 900
        &[0x08, 0x00, 0x05, 0x00, 0x78, 0x00, 0x00, 0x00], // TIMEOUT_TCP_FIN 120
        &[0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00], // TIMEOUT_UDP 300
    ]);
    let t = config::parse_timeouts(&single(&reply).attrs).unwrap();
    assert_eq!(t, Timeouts { tcp: 900, tcp_fin: 120, udp: 300 });
}

#[test]
fn daemon_dump_element_with_the_newer_attributes() {
    let datagram = cat(&[
        &[0x54, 0, 0, 0, 0x1d, 0x00, 0x02, 0x00, 13, 0, 0, 0, 0x34, 0x12, 0, 0], // len 84, NLM_F_MULTI
        &[0x09, 0x01, 0x00, 0x00], // IPVS_CMD_NEW_DAEMON (ip_vs_genl_dump_daemon)
        &[0x40, 0x00, 0x03, 0x00], // len 64, IPVS_CMD_ATTR_DAEMON, no NLA_F_NESTED
        &[0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // STATE master
        &[0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0, 0, 0, 0], // MCAST_IFN "eth0"
        &[0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00], // SYNC_ID 5
        &[0x06, 0x00, 0x04, 0x00, 0xc8, 0x05, 0x00, 0x00], // IPVS_DAEMON_ATTR_SYNC_MAXLEN 1480
        &[0x06, 0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_PORT 8848
        &[0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00], // IPVS_DAEMON_ATTR_MCAST_TTL 1
        &[0x08, 0x00, 0x05, 0x00, 224, 0, 0, 81], // IPVS_DAEMON_ATTR_MCAST_GROUP 224.0.0.81
    ]);
    let d = daemon::parse_entry(&single(&datagram).attrs).unwrap();
    assert_eq!(d, SyncDaemon { state: SyncState::Master, interface: "eth0".into(), sync_id: 5 });
}

#[test]
fn error_ack_echoes_the_request_and_names_its_sequence() {
    // ESRCH for fixture "delete service FWM 7" (seq 3), request echoed in full
    // because we do not set NETLINK_CAP_ACK.
    let del = request_fixtures().into_iter().find(|f| f.seq == 3).unwrap().bytes;
    let datagram = cat(&[
        &[0x3c, 0, 0, 0, 0x02, 0x00, 0x00, 0x00, 3, 0, 0, 0, 0x34, 0x12, 0, 0], // len 60, NLMSG_ERROR
        &(-3i32).to_le_bytes(), // -ESRCH
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
