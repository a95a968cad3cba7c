//! The text listings against ipvsadm 1.31's output for the same tables.
//!
//! The expected strings were produced by applying ipvsadm's own printf formats
//! (read from Debian's binary) with a C-compatible formatter, not by this code.

use super::{render, render_daemons, render_service, render_timeouts, DaemonStatus, Format, Options};
use lvs_ipvs::{
    Dest, DestEntry, Family, Forward, Info, PersistMask, Persistence, Protocol, SchedFlags, Scheduler, Service,
    ServiceEntry, ServiceKey, Snapshot, Stats, SyncDaemon, SyncState, Timeouts, TunnelCsum, TunnelKind, TunnelOptions,
};

pub fn inet(protocol: Protocol, addr: &str) -> ServiceKey {
    ServiceKey::Inet { protocol, addr: addr.parse().unwrap() }
}

pub fn tcp(addr: &str) -> Service {
    Service::new(inet(Protocol::Tcp, addr))
}

pub fn fwmark(family: Family, mark: u32) -> Service {
    Service::new(ServiceKey::Fwmark { family, mark })
}

pub fn with_sched(mut s: Service, scheduler: Scheduler) -> Service {
    s.scheduler = scheduler;
    s
}

pub fn persistent(mut s: Service, timeout: u32, mask: &str) -> Service {
    let family = s.key.family();
    s.persistence = Some(Persistence { timeout, netmask: PersistMask::parse(mask, family).unwrap() });
    s
}

pub fn dest(addr: &str, forward: Forward, weight: u32) -> DestEntry {
    let mut d = DestEntry::new(Dest::new(addr.parse().unwrap()));
    d.dest.forward = forward;
    d.dest.weight = weight;
    d
}

pub fn conns(mut d: DestEntry, active: u32, inactive: u32) -> DestEntry {
    d.active_conns = active;
    d.inactive_conns = inactive;
    d
}

pub fn entry(service: Service, dests: Vec<DestEntry>) -> ServiceEntry {
    ServiceEntry { service, stats: Stats::default(), dests }
}

pub fn snapshot(services: Vec<ServiceEntry>) -> Snapshot {
    Snapshot {
        info: Info::default(),
        services,
        timeouts: Timeouts { tcp: 900, tcp_fin: 120, udp: 300 },
        daemons: vec![],
    }
}

fn plain() -> Options {
    Options::default()
}

fn with(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

/// Exact comparison with a readable diff on failure: whitespace matters here.
#[track_caller]
fn same(got: String, want: &str) {
    if got != want {
        panic!("listing differs\n--- got\n{}\n--- want\n{}", got.replace(' ', "·"), want.replace(' ', "·"));
    }
}

pub fn dr_nat_tun() -> Snapshot {
    snapshot(vec![entry(
        tcp("192.0.2.1:80"),
        vec![
            // Out of order on purpose: ipvsadm sorts destinations.
            conns(dest("192.0.2.12:80", Forward::Tunnel, 100), 1234567, 0),
            conns(dest("192.0.2.10:80", Forward::DirectRouting, 1), 3, 12),
            dest("192.0.2.11:8080", Forward::Nat, 2),
        ],
    )])
}

#[test]
fn status_plain_dr_nat_tun() {
    same(render(&dr_nat_tun(), &plain()), PLAIN);
}

#[test]
fn status_empty_table_is_titles_only() {
    same(render(&snapshot(vec![]), &plain()), EMPTY);
}

#[test]
fn status_one_service_has_no_version_line() {
    same(render_service(&dr_nat_tun().services[0], &plain()), ONE_SERVICE);
}

#[test]
fn status_nosort_keeps_dump_order() {
    let text = render(&dr_nat_tun(), &with(|o| o.nosort = true));
    let lines: Vec<&str> = text.lines().skip(4).map(|l| &l[5..18]).collect();
    assert_eq!(lines, ["192.0.2.12:80", "192.0.2.10:80", "192.0.2.11:80"]);
}

#[test]
fn status_persistence_and_masks() {
    let snap = snapshot(vec![
        entry(
            persistent(tcp("192.0.2.1:0"), 360, "255.255.255.0"),
            vec![dest("192.0.2.10:0", Forward::DirectRouting, 1)],
        ),
        entry(persistent(with_sched(tcp("192.0.2.2:443"), Scheduler::Rr), 300, "32"), vec![]),
        entry(persistent(with_sched(tcp("[2001:db8::2]:443"), Scheduler::Rr), 600, "128"), vec![]),
        entry(persistent(with_sched(tcp("[2001:db8::1]:443"), Scheduler::Rr), 600, "/64"), vec![]),
    ]);
    same(render(&snap, &plain()), PERSIST);
}

#[test]
fn status_fwmark_v4_and_v6() {
    let snap = snapshot(vec![
        entry(fwmark(Family::Ipv4, 300), vec![]),
        entry(
            with_sched(fwmark(Family::Ipv6, 7), Scheduler::Rr),
            vec![dest("[2001:db8::10]:0", Forward::DirectRouting, 1)],
        ),
        entry(
            fwmark(Family::Ipv4, 7),
            vec![dest("192.0.2.11:0", Forward::DirectRouting, 0), dest("192.0.2.10:0", Forward::DirectRouting, 1)],
        ),
    ]);
    same(render(&snap, &plain()), FWMARK);
}

#[test]
fn status_fwmark_above_int_max_prints_and_sorts_as_signed() {
    // ipvsadm prints the mark with %d and sorts by an int difference.
    let snap =
        snapshot(vec![entry(fwmark(Family::Ipv4, 7), vec![]), entry(fwmark(Family::Ipv4, 3_000_000_000), vec![])]);
    let text = render(&snap, &plain());
    let services: Vec<&str> = text.lines().skip(3).collect();
    assert_eq!(services, ["FWM  -1294967296 wlc", "FWM  7 wlc"]);
}

#[test]
fn status_ipv6_service() {
    let snap = snapshot(vec![entry(
        tcp("[2001:db8::1]:80"),
        vec![
            conns(dest("[2001:db8:1234:5678:9abc:def0:1234:5678]:80", Forward::DirectRouting, 1), 5, 0),
            dest("[2001:db8::10]:80", Forward::Nat, 1),
        ],
    )]);
    same(render(&snap, &plain()), IPV6);
}

#[test]
fn status_scheduler_flags() {
    let flags = |fallback, port, flag3| SchedFlags { fallback, port, flag3 };
    let mut sh = with_sched(tcp("192.0.2.1:80"), Scheduler::Sh);
    sh.sched_flags = flags(true, true, false);
    let mut mh = persistent(with_sched(tcp("192.0.2.2:80"), Scheduler::Mh), 60, "32");
    mh.sched_flags = flags(false, true, false);
    // Bit 3 has no name under sh: ipvsadm prints empty parentheses.
    let mut sh3 = with_sched(tcp("192.0.2.3:80"), Scheduler::Sh);
    sh3.sched_flags = flags(false, false, true);
    let mut rr = with_sched(tcp("192.0.2.4:80"), Scheduler::Rr);
    rr.sched_flags = flags(true, false, true);
    let snap = snapshot(vec![entry(sh, vec![]), entry(mh, vec![]), entry(sh3, vec![]), entry(rr, vec![])]);
    same(render(&snap, &plain()), SCHED_FLAGS);
}

#[test]
fn status_one_packet_pe_sip_and_sctp() {
    let udp = |a: &str| with_sched(Service::new(inet(Protocol::Udp, a)), Scheduler::Rr);
    let mut dns = udp("192.0.2.1:53");
    dns.one_packet = true;
    let mut sip = persistent(udp("192.0.2.1:5060"), 360, "32");
    sip.pe = Some("sip".into());
    sip.one_packet = true;
    // Not persistent: ipvsadm shows no pe.
    let mut sip_np = udp("192.0.2.2:5060");
    sip_np.pe = Some("sip".into());
    let sctp = with_sched(Service::new(inet(Protocol::Sctp, "192.0.2.1:9999")), Scheduler::Wrr);
    let snap = snapshot(vec![entry(sctp, vec![]), entry(sip_np, vec![]), entry(sip, vec![]), entry(dns, vec![])]);
    same(render(&snap, &plain()), OPS_PE_SCTP);
}

fn thresholds_table() -> Snapshot {
    let mut busy = conns(dest("192.0.2.10:80", Forward::DirectRouting, 5), 7, 3);
    busy.dest.upper_threshold = 1000;
    busy.dest.lower_threshold = 800;
    busy.persistent_conns = 42;
    snapshot(vec![entry(
        persistent(tcp("192.0.2.1:80"), 300, "255.255.255.255"),
        vec![busy, dest("192.0.2.11:80", Forward::DirectRouting, 0)],
    )])
}

#[test]
fn status_thresholds() {
    same(render(&thresholds_table(), &with(|o| o.thresholds = true)), THRESHOLDS);
}

#[test]
fn status_persistent_conn() {
    same(render(&thresholds_table(), &with(|o| o.persistent_conn = true)), PERSISTENT_CONN);
}

#[test]
fn status_thresholds_win_over_persistent_conn_and_tun_info() {
    let opts = with(|o| {
        o.thresholds = true;
        o.persistent_conn = true;
        o.tun_info = true;
    });
    same(render(&thresholds_table(), &opts), THRESHOLDS_WIN);
}

#[test]
fn status_tun_info() {
    let tunnel = |addr: &str, kind, port, csum, weight| {
        let mut d = dest(addr, Forward::Tunnel, weight);
        d.dest.tunnel = TunnelOptions { kind, port, csum };
        d
    };
    let snap = snapshot(vec![entry(
        tcp("192.0.2.1:80"),
        vec![
            tunnel("[2001:db8::15]:80", TunnelKind::Ipip, 0, TunnelCsum::NoChecksum, 1),
            tunnel("192.0.2.14:80", TunnelKind::Gue, 5555, TunnelCsum::RemoteChecksum, 1),
            tunnel("192.0.2.13:80", TunnelKind::Gre, 0, TunnelCsum::Checksum, 1),
            tunnel("192.0.2.12:80", TunnelKind::Gue, 6080, TunnelCsum::NoChecksum, 3),
            tunnel("192.0.2.11:80", TunnelKind::Ipip, 0, TunnelCsum::NoChecksum, 1),
            dest("192.0.2.10:80", Forward::DirectRouting, 1),
        ],
    )]);
    same(render(&snap, &with(|o| o.tun_info = true)), TUN_INFO);
}

pub fn counters_table() -> Snapshot {
    let big = Stats {
        conns: 12_345,
        inpkts: 99_999_999,
        outpkts: 100_000_000,
        inbytes: 123_456_789_012,
        outbytes: 98_765_432_109_876_543,
        cps: 7,
        inpps: 123_456_789,
        outpps: 0,
        inbps: 1_500_000_000,
        outbps: 250_000_000_000,
    };
    let small = Stats {
        conns: 1,
        inpkts: 2,
        outpkts: 3,
        inbytes: 4,
        outbytes: 5,
        cps: 1,
        inpps: 2,
        outpps: 3,
        inbps: 4,
        outbps: 5,
    };
    let with_stats = |mut d: DestEntry, s: Stats| {
        d.stats = s;
        d
    };
    let mut v4 = entry(
        tcp("192.0.2.1:80"),
        vec![
            with_stats(dest("192.0.2.11:80", Forward::DirectRouting, 1), small),
            with_stats(dest("192.0.2.10:80", Forward::DirectRouting, 1), big),
        ],
    );
    v4.stats = big;
    let mut v6 = entry(
        tcp("[2001:db8::1]:80"),
        vec![with_stats(dest("[2001:db8:1234:5678:9abc:def0:1234:5678]:80", Forward::DirectRouting, 1), small)],
    );
    v6.stats = small;
    let mut fwm = entry(fwmark(Family::Ipv4, 7), vec![]);
    fwm.stats = small;
    snapshot(vec![fwm, v6, v4])
}

#[test]
fn status_stats_scaled() {
    same(render(&counters_table(), &with(|o| o.format = Format::Stats)), STATS);
}

#[test]
fn status_stats_exact() {
    let opts = with(|o| {
        o.format = Format::Stats;
        o.exact = true;
    });
    same(render(&counters_table(), &opts), STATS_EXACT);
}

#[test]
fn status_rate_scaled() {
    same(render(&counters_table(), &with(|o| o.format = Format::Rate)), RATE);
}

#[test]
fn status_rate_exact() {
    let opts = with(|o| {
        o.format = Format::Rate;
        o.exact = true;
    });
    same(render(&counters_table(), &opts), RATE_EXACT);
}

#[test]
fn status_stats_win_over_rate() {
    assert_eq!(Format::from_ipvsadm_flags(true, true), Format::Stats);
    assert_eq!(Format::from_ipvsadm_flags(false, true), Format::Rate);
    assert_eq!(Format::from_ipvsadm_flags(false, false), Format::Plain);
}

#[test]
fn status_version_line_follows_info() {
    let mut snap = snapshot(vec![]);
    snap.info = Info { version: 0x010200, conn_tab_size: 1 << 20 };
    assert!(render(&snap, &plain()).starts_with("IP Virtual Server version 1.2.0 (size=1048576)\n"));
}

#[test]
fn status_timeouts() {
    assert_eq!(
        render_timeouts(&Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
}

#[test]
fn status_daemons() {
    let master = DaemonStatus {
        sync_maxlen: Some(1472),
        mcast_group: Some("224.0.0.81".parse().unwrap()),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
        ..DaemonStatus::from(&SyncDaemon::new(SyncState::Master, "eth0", 1))
    };
    let backup = DaemonStatus {
        mcast_group: Some("ff02::1:2".parse().unwrap()),
        mcast_port: Some(0),
        ..DaemonStatus::from(&SyncDaemon::new(SyncState::Backup, "eth1", 0))
    };
    assert_eq!(
        render_daemons(&[master, backup]),
        "master sync daemon (mcast=eth0, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth1, syncid=0, group=ff02::1:2)\n"
    );
    assert_eq!(render_daemons(&[]), "");
}

const PLAIN: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "TCP  192.0.2.1:80 wlc\n",
    "  -> 192.0.2.10:80                Route   1      3          12        \n",
    "  -> 192.0.2.11:8080              Masq    2      0          0         \n",
    "  -> 192.0.2.12:80                Tunnel  100    1234567    0         \n",
);

const PERSIST: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "TCP  192.0.2.1:0 wlc persistent 360 mask 255.255.255.0\n",
    "  -> 192.0.2.10:0                 Route   1      0          0         \n",
    "TCP  192.0.2.2:443 rr persistent 300\n",
    "TCP  [2001:db8::1]:443 rr persistent 600 mask 64\n",
    "TCP  [2001:db8::2]:443 rr persistent 600\n",
);

const FWMARK: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "FWM  7 wlc\n",
    "  -> 192.0.2.10:0                 Route   1      0          0         \n",
    "  -> 192.0.2.11:0                 Route   0      0          0         \n",
    "FWM  7 IPv6 rr\n",
    "  -> [2001:db8::10]:0             Route   1      0          0         \n",
    "FWM  300 wlc\n",
);

const IPV6: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "TCP  [2001:db8::1]:80 wlc\n",
    "  -> [2001:db8::10]:80            Masq    1      0          0         \n",
    "  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:80 Route   1      5          0         \n",
);

const SCHED_FLAGS: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "TCP  192.0.2.1:80 sh (sh-fallback,sh-port)\n",
    "TCP  192.0.2.2:80 mh (mh-port) persistent 60\n",
    "TCP  192.0.2.3:80 sh ()\n",
    "TCP  192.0.2.4:80 rr (flag-1,flag-3)\n",
);

const OPS_PE_SCTP: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "UDP  192.0.2.1:53 rr ops\n",
    "UDP  192.0.2.1:5060 rr persistent 360 pe sip ops\n",
    "UDP  192.0.2.2:5060 rr\n",
    "SCTP 192.0.2.1:9999 wrr\n",
);

const THRESHOLDS: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80 wlc persistent 300\n",
    "  -> 192.0.2.10:80                1000       800        7          3         \n",
    "  -> 192.0.2.11:80                0          0          0          0         \n",
);

const PERSISTENT_CONN: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80 wlc persistent 300\n",
    "  -> 192.0.2.10:80                5         42          7          3         \n",
    "  -> 192.0.2.11:80                0         0           0          0         \n",
);

const THRESHOLDS_WIN: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80 wlc persistent 300\n",
    "  -> 192.0.2.10:80                1000       800        7          3         \n",
    "  -> 192.0.2.11:80                0          0          0          0         \n",
);

const TUN_INFO: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n",
    "TCP  192.0.2.1:80 wlc\n",
    "  -> 192.0.2.10:80                Route   n/a           1      0          0         \n",
    "  -> 192.0.2.11:80                Tunnel  ipip          1      0          0         \n",
    "  -> 192.0.2.12:80                Tunnel  gue:6080:-c   3      0          0         \n",
    "  -> 192.0.2.13:80                Tunnel  gre:+c        1      0          0         \n",
    "  -> 192.0.2.14:80                Tunnel  gue:5555:r+c  1      0          0         \n",
    "  -> [2001:db8::15]:80            Tunnel  ipip          1      0          0         \n",
);

const STATS: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80                    12345 99999999  100000K     123G   98765T\n",
    "  -> 192.0.2.10:80                   12345 99999999  100000K     123G   98765T\n",
    "  -> 192.0.2.11:80                       1        2        3        4        5\n",
    "TCP  [2001:db8::1]:80                    1        2        3        4        5\n",
    "  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:80        1        2        3        4        5\n",
    "FWM  7                                   1        2        3        4        5\n",
);

const STATS_EXACT: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80                    12345 99999999 100000000 123456789012 98765432109876543\n",
    "  -> 192.0.2.10:80                   12345 99999999 100000000 123456789012 98765432109876543\n",
    "  -> 192.0.2.11:80                       1        2        3        4        5\n",
    "TCP  [2001:db8::1]:80                    1        2        3        4        5\n",
    "  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:80        1        2        3        4        5\n",
    "FWM  7                                   1        2        3        4        5\n",
);

const RATE: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80                        7  123456K        0    1500M     250G\n",
    "  -> 192.0.2.10:80                       7 123456789        0    1500M     250G\n",
    "  -> 192.0.2.11:80                       1        2        3        4        5\n",
    "TCP  [2001:db8::1]:80                    1        2        3        4        5\n",
    "  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:80        1        2        3        4        5\n",
    "FWM  7                                   1        2        3        4        5\n",
);

const RATE_EXACT: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
    "  -> RemoteAddress:Port\n",
    "TCP  192.0.2.1:80                        7 123456789        0 1500000000 250000000000\n",
    "  -> 192.0.2.10:80                       7 123456789        0 1500000000 250000000000\n",
    "  -> 192.0.2.11:80                       1        2        3        4        5\n",
    "TCP  [2001:db8::1]:80                    1        2        3        4        5\n",
    "  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:80        1        2        3        4        5\n",
    "FWM  7                                   1        2        3        4        5\n",
);

const ONE_SERVICE: &str = concat!(
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    "TCP  192.0.2.1:80 wlc\n",
    "  -> 192.0.2.10:80                Route   1      3          12        \n",
    "  -> 192.0.2.11:8080              Masq    2      0          0         \n",
    "  -> 192.0.2.12:80                Tunnel  100    1234567    0         \n",
);

const EMPTY: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
);
