use super::*;
use crate::manage::api::*;
use crate::manage::OpError;
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use std::time::Duration;

/// Records what it was asked, answers what it was told to.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
    /// What every fallible operation fails with, if anything.
    fail: Option<OpError>,
}

impl Fake {
    fn failing(e: OpError) -> Fake {
        Fake { fail: Some(e), ..Fake::default() }
    }
    fn called(&self, what: String) -> Result<(), OpError> {
        self.calls.lock().unwrap().push(what);
        self.fail.clone().map_or(Ok(()), Err)
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

fn done(message: &str) -> Done {
    Done { message: message.into() }
}

impl Operations for Fake {
    fn status(&self, q: &StatusQuery) -> Result<StatusAnswer, OpError> {
        self.called(format!("status stats={} daemon={}", q.stats, q.daemon))?;
        Ok(StatusAnswer { listing: "table".into(), ..StatusAnswer::default() })
    }
    fn config(&self) -> Result<ConfigAnswer, OpError> {
        self.called("config".into())?;
        Ok(ConfigAnswer { path: "/config/appliance.ron".into(), text: "x".into(), hash: "0".into(), trying: None })
    }
    fn validate(&self, text: &str) -> Validation {
        self.calls.lock().unwrap().push(format!("validate {text}"));
        let valid = !text.contains("bad");
        Validation { valid, errors: (!valid).then(|| "test.ron:1:1: bad".into()), ..Validation::default() }
    }
    fn apply(&self, text: &str) -> Result<Done, OpError> {
        self.called(format!("apply {text}")).map(|()| done("applied"))
    }
    fn try_config(&self, text: &str, within: Duration) -> Result<Done, OpError> {
        self.called(format!("try {text} {within:?}")).map(|()| done("trying"))
    }
    fn confirm(&self) -> Result<Done, OpError> {
        self.called("confirm".into()).map(|()| done("confirmed"))
    }
    fn weight(&self, ask: &WeightAsk) -> Result<Done, OpError> {
        self.called(format!("weight {} {} {}", ask.service, ask.real_server, ask.weight)).map(|()| done("weighted"))
    }
    fn logs(&self, lines: usize) -> Vec<String> {
        self.calls.lock().unwrap().push(format!("logs {lines}"));
        (0..lines.min(3)).map(|i| format!("line {i}")).collect()
    }
    fn follow(&self) -> Receiver<String> {
        channel().1
    }
    fn power(&self, what: Power) -> Result<Done, OpError> {
        self.called(format!("power {what:?}")).map(|()| done("bye"))
    }
}

/// Routes `method target` and expects an answer: its status and body.
fn ask(ops: &Fake, method: &str, target: &str, body: Option<&[u8]>) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match route(method, path, query, body, ops) {
        Routed::Answer(a) => (a.status, a.body),
        Routed::Follow { lines } => panic!("{method} {target}: a follow of {lines}"),
    }
}

fn message(body: &str) -> String {
    serde_json::from_str::<Done>(body).unwrap().message
}

fn error(body: &str) -> String {
    serde_json::from_str::<ErrorAnswer>(body).unwrap().error
}

#[test]
fn every_route_reaches_its_operation() {
    let ops = Fake::default();
    let (status, body) = ask(&ops, "GET", "/v1/status?stats=1", None);
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<StatusAnswer>(&body).unwrap().listing, "table");
    let (status, body) = ask(&ops, "GET", "/v1/config", None);
    assert_eq!((status, serde_json::from_str::<ConfigAnswer>(&body).unwrap().text.as_str()), (200, "x"));
    let (status, body) = ask(&ops, "POST", "/v1/config/validate", Some(b"good"));
    assert_eq!((status, serde_json::from_str::<Validation>(&body).unwrap().valid), (200, true));
    assert_eq!(message(&ask(&ops, "POST", "/v1/config/apply", Some(b"A")).1), "applied");
    assert_eq!(message(&ask(&ops, "POST", "/v1/config/try?within=20s", Some(b"T")).1), "trying");
    assert_eq!(message(&ask(&ops, "POST", "/v1/config/confirm", None).1), "confirmed");
    let weight = br#"{"service":"TCP 192.0.2.80:80","real_server":"198.51.100.1:80","weight":"drain"}"#;
    assert_eq!(message(&ask(&ops, "POST", "/v1/weight", Some(weight)).1), "weighted");
    let (status, body) = ask(&ops, "GET", "/v1/logs?lines=2", None);
    assert_eq!((status, serde_json::from_str::<LogsAnswer>(&body).unwrap().lines.len()), (200, 2));
    assert_eq!(message(&ask(&ops, "POST", "/v1/reboot", Some(b"")).1), "bye");
    assert_eq!(message(&ask(&ops, "POST", "/v1/poweroff", None).1), "bye");
    assert_eq!(
        ops.calls(),
        [
            "status stats=true daemon=false",
            "config",
            "validate good",
            "apply A",
            "try T 20s",
            "confirm",
            "weight TCP 192.0.2.80:80 198.51.100.1:80 drain",
            "logs 2",
            "power Reboot",
            "power Off",
        ]
    );
}

#[test]
fn logs_default_to_100_lines_and_follow_is_a_stream() {
    let ops = Fake::default();
    ask(&ops, "GET", "/v1/logs", None);
    assert_eq!(ops.calls(), ["logs 100"]);
    assert_eq!(route("GET", "/v1/logs", "follow=1&lines=7", None, &ops), Routed::Follow { lines: 7 });
    assert_eq!(route("GET", "/v1/logs", "follow=1", None, &ops), Routed::Follow { lines: 100 });
    assert_eq!(route("GET", "/v1/logs", "follow=0&lines=1", None, &ops), ask_routed(&ops, "/v1/logs?lines=1"));
}

fn ask_routed(ops: &Fake, target: &str) -> Routed {
    let (path, query) = target.split_once('?').unwrap();
    route("GET", path, query, None, ops)
}

#[test]
fn an_invalid_config_is_422_with_its_validation() {
    let ops = Fake::default();
    let (status, body) = ask(&ops, "POST", "/v1/config/validate", Some(b"bad"));
    assert_eq!(status, 422);
    let v: Validation = serde_json::from_str(&body).unwrap();
    assert_eq!((v.valid, v.errors.as_deref()), (false, Some("test.ron:1:1: bad")));
}

#[test]
fn bad_queries_are_400_and_nothing_is_done() {
    let ops = Fake::default();
    for target in [
        "/v1/config/try?within=banana",
        "/v1/config/try",
        "/v1/config/try?within=0s",
        "/v1/logs?lines=-1",
        "/v1/logs?lines=banana",
        "/v1/status?stats=maybe",
        "/v1/status?colour=1",
        "/v1/config?x=1",
        "/v1/config/apply?now=1",
        "/v1/config/confirm?x",
        "/v1/reboot?force=1",
    ] {
        let method = if target.starts_with("/v1/logs") || target.starts_with("/v1/status") || target == "/v1/config?x=1"
        {
            "GET"
        } else {
            "POST"
        };
        let (status, body) = ask(&ops, method, target, Some(b"text"));
        assert_eq!(status, 400, "{target}: {body}");
        assert!(!error(&body).is_empty(), "{target}");
    }
    assert_eq!(ops.calls(), Vec::<String>::new(), "a refused request reaches no operation");
}

#[test]
fn wrong_methods_are_405_and_unknown_paths_404() {
    let ops = Fake::default();
    for (method, target, allow) in [
        ("POST", "/v1/status", "GET"),
        ("DELETE", "/v1/config", "GET"),
        ("GET", "/v1/config/apply", "POST"),
        ("GET", "/v1/reboot", "POST"),
        ("HEAD", "/v1/logs", "GET"),
        ("PUT", "/v1/weight", "POST"),
    ] {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        match route(method, path, query, None, &ops) {
            Routed::Answer(a) => {
                assert_eq!((a.status, a.allow), (405, Some(allow)), "{method} {target}");
                assert!(error(&a.body).contains(allow), "{}", a.body);
            }
            other => panic!("{other:?}"),
        }
    }
    for path in ["/", "/v1", "/v1/", "/v2/status", "/v1/status/", "/v1/statusx", "/v1statuses", "/v1/config/../status"]
    {
        let (status, body) = ask(&ops, "GET", path, None);
        assert_eq!(status, 404, "{path}");
        assert!(error(&body).contains("/v1/"), "{body}");
    }
    assert_eq!(ops.calls(), Vec::<String>::new());
}

#[test]
fn bodies_that_are_not_what_was_asked_for_are_refused() {
    let ops = Fake::default();
    for target in ["/v1/config/validate", "/v1/config/apply", "/v1/config/try?within=5s"] {
        let (status, body) = ask(&ops, "POST", target, Some(b"Appliance(\xff\xfe)"));
        assert_eq!(status, 400, "{target}");
        assert!(error(&body).contains("not UTF-8"), "{body}");
        assert_eq!(ask(&ops, "POST", target, None).0, 411, "{target}: no Content-Length");
    }
    for body in [&b"not json"[..], b"{}", br#"{"service":"s","real_server":"r"}"#, br#"{"weight":5}"#, b"\xff", b""] {
        let (status, answer) = ask(&ops, "POST", "/v1/weight", Some(body));
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(body));
        assert!(error(&answer).contains("not a weight request"), "{answer}");
    }
    assert_eq!(ask(&ops, "POST", "/v1/weight", None).0, 411);
    let big = vec![b'a'; MAX_BODY_BYTES + 1];
    assert_eq!(ask(&ops, "POST", "/v1/config/apply", Some(&big)).0, 413);
    assert_eq!(ops.calls(), Vec::<String>::new());
}

#[test]
fn operation_errors_become_their_statuses() {
    for (e, status) in [
        (OpError::Refused("appliance.ron:3:7: no such field".into()), 422),
        (OpError::Conflict("no try is running".into()), 409),
        (OpError::Unavailable("between two configs".into()), 503),
        (OpError::Failed("the kernel refused".into()), 500),
    ] {
        let ops = Fake::failing(e.clone());
        for (method, target, body) in [
            ("GET", "/v1/status", None),
            ("GET", "/v1/config", None),
            ("POST", "/v1/config/apply", Some(&b"x"[..])),
            ("POST", "/v1/config/try?within=1m", Some(b"x")),
            ("POST", "/v1/config/confirm", None),
            ("POST", "/v1/weight", Some(br#"{"service":"s","real_server":"r","weight":"5"}"#)),
            ("POST", "/v1/reboot", None),
            ("POST", "/v1/poweroff", None),
        ] {
            let (got, answer) = ask(&ops, method, target, body);
            assert_eq!(got, status, "{method} {target} with {e:?}");
            assert_eq!(error(&answer), e.to_string());
        }
    }
}
