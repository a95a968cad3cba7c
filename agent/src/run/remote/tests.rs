//! The operations against a fake main loop (a thread that answers the queue
//! as the agent would, and records what it was asked) and a fake kernel.

use super::*;
use crate::manage::api::HealthRow;
use lvs_ipvs::FakeIpvs;
use std::sync::Mutex;
use std::thread::JoinHandle;

const DIRECTOR: &str = r#"Appliance(role: Director(vips: [], services: [
    Service(address: "192.0.2.80:80", real_servers: [RealServer(address: "192.0.2.21", weight: 2)]),
]))"#;
const REAL_SERVER: &str = r#"Appliance(role: RealServer(mode: DirectRouting, vips: ["192.0.2.80"]))"#;

/// The kernel: the director's table, with 3 active connections on its real server.
fn kernel() -> Kernel {
    let loaded = lvs_config::parse(DIRECTOR, std::path::Path::new("t.ron")).unwrap();
    let lvs_config::model::Role::Director(d) = loaded.model.role else { panic!() };
    let table = d.table();
    Box::new(move || {
        let mut fake = FakeIpvs::with_table(&table);
        fake.state_mut().services[0].dests[0].active_conns = 3;
        Ok(Box::new(fake) as Box<dyn Ipvs>)
    })
}

fn no_kernel() -> Kernel {
    Box::new(|| Err(IpvsError::Unavailable("IPVS generic netlink family not found (is ip_vs loaded?)".into())))
}

/// What the fake main loop was asked, in words.
type Seen = Arc<Mutex<Vec<String>>>;

fn agent(kernel: Kernel) -> (Remote, Seen, JoinHandle<()>) {
    let (asks, queue) = queue::queue().unwrap();
    let seen = Seen::default();
    let log = seen.clone();
    let main = std::thread::spawn(move || loop {
        let mut fds = [nix::poll::PollFd::new(queue.wake_fd(), nix::poll::PollFlags::POLLIN)];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
        while let Some(ask) = queue.next() {
            let mut log = log.lock().unwrap();
            match ask {
                Ask::Config(_) => log.push("config".into()),
                Ask::Health(done) => {
                    log.push("health".into());
                    let row = HealthRow {
                        service: "TCP 192.0.2.80:80".into(),
                        real_server: "192.0.2.21:80".into(),
                        state: "up".into(),
                    };
                    done.send(vec![row]).unwrap();
                }
                Ask::Apply { text, reply } => {
                    log.push(format!("apply {}", text.len()));
                    reply
                        .send(Ok(Done { message: "config: applied /config/appliance.ron: 1 IPVS changes".into() }))
                        .unwrap();
                }
                Ask::Try { within, reply, .. } => {
                    log.push(format!("try {within:?}"));
                    reply.send(Ok(Done { message: "trying".into() })).unwrap();
                }
                Ask::Confirm(reply) => {
                    log.push("confirm".into());
                    reply.send(Err(OpError::Conflict("no try is running: nothing to confirm".into()))).unwrap();
                }
                Ask::Weight { request, reply } => {
                    log.push(format!("weight {} {} {:?}", request.service, request.real_server, request.weight));
                    reply.send(Ok(Done { message: "weight set".into() })).unwrap();
                }
                Ask::Stop => return,
            }
        }
    });
    (Remote::new(asks, kernel, false), seen, main)
}

fn stop(remote: Remote, main: JoinHandle<()>) {
    remote.asks.send(Ask::Stop).unwrap();
    main.join().unwrap();
}

#[test]
fn status_is_the_listing_the_json_document_and_the_health() {
    let (remote, seen, main) = agent(kernel());
    let answer = remote.status(&StatusQuery::default()).unwrap();
    assert!(answer.listing.starts_with("IP Virtual Server version"), "{}", answer.listing);
    assert!(answer.listing.contains("TCP  192.0.2.80:80"), "{}", answer.listing);
    assert!(answer.listing.contains("Weight ActiveConn InActConn"), "{}", answer.listing);
    assert_eq!(answer.table["schema_version"], 1);
    assert_eq!(answer.table["services"][0]["name"], "TCP  192.0.2.80:80");
    assert_eq!(answer.table["services"][0]["dests"][0]["active_conns"], 3);
    assert_eq!(answer.health.len(), 1);
    assert_eq!(answer.health[0].state, "up");
    let stats = remote.status(&StatusQuery { stats: true, ..StatusQuery::default() }).unwrap();
    assert!(stats.listing.contains("Conns   InPkts"), "{}", stats.listing);
    assert_eq!(stats.table, answer.table, "the query changes the listing only");
    let timeouts = remote.status(&StatusQuery { timeout: true, ..StatusQuery::default() }).unwrap();
    assert!(timeouts.listing.starts_with("Timeout (tcp tcpfin udp):"), "{}", timeouts.listing);
    assert_eq!(*seen.lock().unwrap(), ["health", "health", "health"]);
    stop(remote, main);
}

#[test]
fn status_without_ipvs_fails_saying_why_and_what_to_do() {
    let (remote, _, main) = agent(no_kernel());
    let e = remote.status(&StatusQuery::default()).unwrap_err();
    let OpError::Failed(text) = e else { panic!("{e:?}") };
    assert!(text.contains("cannot read the kernel's IPVS table: IPVS generic netlink family not found"), "{text}");
    assert!(text.contains("ask its director"), "{text}");
    stop(remote, main);
}

#[test]
fn validate_gives_errors_with_line_and_column_or_the_plan_and_changes_nothing() {
    let (remote, seen, main) = agent(kernel());
    let bad =
        remote.validate("Appliance(role: RealServer(mode: DirectRouting,\n    vips: [\"192.0.2.80\"], bogus: 1))\n");
    assert!(!bad.valid);
    let errors = bad.errors.unwrap();
    assert!(errors.contains("candidate.ron:2:"), "{errors}");
    assert!(errors.ends_with("candidate.ron: invalid: 1 error"), "{errors}");
    assert_eq!(bad.plan, None);

    let rs = remote.validate(REAL_SERVER);
    assert!(rs.valid && rs.errors.is_none() && rs.plan.is_none(), "{rs:?}");
    assert!(rs.warnings.iter().any(|w| w.contains("the management API stops")), "{:?}", rs.warnings);

    let same = remote.validate(DIRECTOR);
    assert_eq!(same.plan.as_deref(), Some("no changes\n"));
    let heavier = DIRECTOR.replace("weight: 2", "weight: 5");
    let plan = remote.validate(&heavier).plan.unwrap();
    assert_eq!(plan.lines().count(), 2, "{plan}");
    assert!(plan.starts_with("~ TCP 192.0.2.80:80 -> 192.0.2.21:80 "), "{plan}");
    assert!(plan.ends_with("\n1 change\n"), "{plan}");
    assert!(seen.lock().unwrap().is_empty(), "validate asks nothing of the main loop");
    stop(remote, main);

    let (remote, _, main) = agent(no_kernel());
    let blind = remote.validate(DIRECTOR);
    assert!(blind.valid && blind.plan.is_none());
    assert!(blind.warnings.iter().any(|w| w.starts_with("no plan: the kernel's IPVS table cannot be read")));
    stop(remote, main);
}

#[test]
fn apply_and_try_send_only_a_valid_candidate_to_the_main_loop() {
    let (remote, seen, main) = agent(kernel());
    let e = remote.apply("Appliance(").unwrap_err();
    assert!(matches!(&e, OpError::Refused(m) if m.contains("candidate.ron:1:")), "{e:?}");
    let e = remote.try_config("Appliance(", Duration::from_secs(20)).unwrap_err();
    assert!(matches!(e, OpError::Refused(_)), "{e:?}");
    for within in [Duration::ZERO, MAX_WITHIN + Duration::from_secs(1)] {
        let e = remote.try_config(DIRECTOR, within).unwrap_err();
        assert!(matches!(&e, OpError::Refused(m) if m.contains("at most 24 h")), "{e:?}");
    }
    assert!(seen.lock().unwrap().is_empty());

    let done = remote.apply(DIRECTOR).unwrap();
    assert!(done.message.starts_with("config: applied /config/appliance.ron: 1 IPVS changes\n"), "{}", done.message);
    assert!(done.message.contains("has no `management`"), "the candidate's warnings follow: {}", done.message);
    remote.try_config(DIRECTOR, Duration::from_secs(20)).unwrap();
    assert_eq!(remote.confirm().unwrap_err(), OpError::Conflict("no try is running: nothing to confirm".into()));
    assert_eq!(*seen.lock().unwrap(), [format!("apply {}", DIRECTOR.len()), "try 20s".into(), "confirm".into()]);
    stop(remote, main);
}

#[test]
fn a_weight_is_checked_first_and_a_drain_says_what_is_still_active() {
    let (remote, seen, main) = agent(kernel());
    let ask = |weight: &str| WeightAsk {
        service: "192.0.2.80:80".into(),
        real_server: "192.0.2.21".into(),
        weight: weight.into(),
    };
    let e = remote.weight(&ask("heavy")).unwrap_err();
    assert!(matches!(&e, OpError::Refused(m) if m.contains("write 0 to 2147483647, `drain` (0) or `clear`")), "{e:?}");
    assert_eq!(remote.weight(&ask("7")).unwrap().message, "weight set");
    let drained = remote.weight(&ask("Drain")).unwrap().message;
    assert_eq!(
        drained,
        "weight set\ndrained: 192.0.2.21:80 still has 3 active and 0 inactive connections in TCP 192.0.2.80:80; it is idle when both are 0"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        ["weight TCP 192.0.2.80:80 192.0.2.21 Some(7)", "weight TCP 192.0.2.80:80 192.0.2.21 Some(0)"]
    );
    stop(remote, main);
}

#[test]
fn a_stopped_agent_is_unavailable_and_logs_come_from_the_ring() {
    let (remote, _, main) = agent(kernel());
    remote.asks.send(Ask::Stop).unwrap();
    main.join().unwrap();
    assert_eq!(remote.config().unwrap_err(), OpError::Unavailable("the agent is stopping".into()));
    let status = remote.status(&StatusQuery::default()).unwrap();
    assert!(status.health.is_empty(), "the table goes out without the health");

    crate::logging::ring::RING.push("lvs-agent: T=1.000 from the ring test");
    assert_eq!(remote.logs(1), ["lvs-agent: T=1.000 from the ring test"]);
    assert!(remote.logs(usize::MAX).len() <= MAX_LOG_LINES);
    let e = remote.power(Power::Reboot).unwrap_err();
    assert!(matches!(e, OpError::Refused(_)), "{e:?}");
}
