use super::*;
use std::path::Path;

fn cx() -> Context<'static> {
    Context {
        endpoint: "192.0.2.10:9443",
        ca: Path::new("pki/ca.pem"),
        identity: Path::new("pki/admin.pem"),
        timeout: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(10),
    }
}

fn io_wrapping(e: rustls::Error) -> ureq::Error {
    ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, e))
}

fn says(e: &RemoteError, parts: &[&str]) {
    let text = e.to_string();
    for p in parts {
        assert!(text.contains(p), "{p:?} not in {text:?}");
    }
}

#[test]
fn a_server_certificate_from_another_ca_is_an_unknown_ca_naming_the_ca_file() {
    for e in [
        io_wrapping(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
    ] {
        let mapped = from_ureq(e, &cx());
        assert!(matches!(mapped, RemoteError::UnknownCa { .. }), "{mapped:?}");
        says(&mapped, &["192.0.2.10:9443", "unknown CA", "pki/ca.pem", "`lvs-agent pki init`", "server.pem"]);
        assert_eq!(mapped.exit_status(), 1);
    }
}

#[test]
fn a_certificate_for_other_names_says_which_names_it_has_and_which_to_add() {
    let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
        expected: rustls_pki_types::ServerName::try_from("192.0.2.10").unwrap().to_owned(),
        presented: vec!["IpAddress(192.0.2.11)".to_string(), "DnsName(\"lb1\")".to_string()],
    });
    let mapped = from_ureq(io_wrapping(e), &cx());
    assert!(matches!(mapped, RemoteError::WrongName { .. }), "{mapped:?}");
    says(&mapped, &["not valid for 192.0.2.10", "192.0.2.11", "lb1", "--address 192.0.2.10"]);
    let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
        expected: rustls_pki_types::ServerName::try_from("lb2.example.net").unwrap().to_owned(),
        presented: vec![],
    });
    says(&from_ureq(io_wrapping(e), &cx()), &["no subject alternative name", "--name lb2.example.net"]);
    let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
    says(&from_ureq(io_wrapping(e), &cx()), &["not valid for 192.0.2.10", "names 192.0.2.10"]);
}

#[test]
fn an_expired_or_future_server_certificate_says_so() {
    let e = rustls::Error::InvalidCertificate(CertificateError::Expired);
    says(&from_ureq(io_wrapping(e), &cx()), &["192.0.2.10:9443", "expired", "clock"]);
    let e = rustls::Error::InvalidCertificate(CertificateError::NotValidYet);
    says(&from_ureq(io_wrapping(e), &cx()), &["not valid yet", "clock"]);
}

#[test]
fn an_alert_refusing_our_certificate_asks_about_the_identity() {
    for alert in [
        AlertDescription::BadCertificate,
        AlertDescription::UnknownCA,
        AlertDescription::CertificateExpired,
        AlertDescription::CertificateRevoked,
        AlertDescription::CertificateRequired,
        AlertDescription::DecryptError,
    ] {
        let mapped = from_ureq(io_wrapping(rustls::Error::AlertReceived(alert)), &cx());
        assert!(matches!(mapped, RemoteError::CertificateRefused { .. }), "{alert:?}: {mapped:?}");
        says(&mapped, &["192.0.2.10:9443", "certificate refused", "TLS alert", "pki/admin.pem", "not revoked"]);
    }
    let mapped = from_ureq(io_wrapping(rustls::Error::AlertReceived(AlertDescription::UnknownCA)), &cx());
    says(&mapped, &["unknown CA"]);
    let other = from_ureq(io_wrapping(rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)), &cx());
    assert!(matches!(other, RemoteError::Tls { .. }), "{other:?}");
}

#[test]
fn refused_unreachable_and_reset_connections_say_what_to_check() {
    let mapped = from_ureq(ureq::Error::Io(io::ErrorKind::ConnectionRefused.into()), &cx());
    assert!(matches!(mapped, RemoteError::Refused { .. }), "{mapped:?}");
    says(&mapped, &["192.0.2.10:9443", "connection refused", "`management:`", "forwarded"]);
    for kind in [io::ErrorKind::HostUnreachable, io::ErrorKind::NetworkUnreachable] {
        let mapped = from_ureq(ureq::Error::Io(kind.into()), &cx());
        assert!(matches!(mapped, RemoteError::Unreachable { .. }), "{mapped:?}");
        says(&mapped, &["cannot reach", "`management:`"]);
    }
    let mapped = from_ureq(ureq::Error::Io(io::ErrorKind::ConnectionReset.into()), &cx());
    assert!(matches!(mapped, RemoteError::Closed { .. }), "{mapped:?}");
    says(&mapped, &["closed the connection", "--identity"]);
    let mapped = from_ureq(ureq::Error::HostNotFound, &cx());
    says(&mapped, &["cannot resolve"]);
}

#[test]
fn timeouts_say_which_and_how_long() {
    let mapped = from_ureq(ureq::Error::Timeout(ureq::Timeout::Connect), &cx());
    assert!(matches!(mapped, RemoteError::ConnectTimeout { .. }), "{mapped:?}");
    says(&mapped, &["192.0.2.10:9443", "no connection within 10s", "firewall"]);
    for t in [ureq::Timeout::Global, ureq::Timeout::RecvResponse, ureq::Timeout::RecvBody] {
        let mapped = from_ureq(ureq::Error::Timeout(t), &cx());
        assert!(matches!(mapped, RemoteError::AnswerTimeout { .. }), "{mapped:?}");
        says(&mapped, &["no answer within 1m", "--request-timeout"]);
    }
    let mapped = from_ureq(ureq::Error::Io(io::ErrorKind::TimedOut.into()), &cx());
    assert!(matches!(mapped, RemoteError::AnswerTimeout { .. }), "{mapped:?}");
}

#[test]
fn what_the_appliance_refused_is_status_2_and_the_rest_1() {
    let answer = |status| RemoteError::Answer {
        endpoint: "192.0.2.10:9443".into(),
        status,
        error: "candidate.ron:3:5: error: unknown scheduler".into(),
    };
    for status in [400, 409, 422] {
        assert_eq!(answer(status).exit_status(), 2, "{status}");
    }
    for status in [404, 408, 413, 429, 500, 503] {
        assert_eq!(answer(status).exit_status(), 1, "{status}");
    }
    says(&answer(422), &["192.0.2.10:9443 answered 422 (refused):\ncandidate.ron:3:5: error: unknown scheduler"]);
}

#[test]
fn a_non_tls_peer_is_told_apart() {
    let e = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
    says(&from_ureq(io_wrapping(e), &cx()), &["TLS failed", "management port"]);
}

#[test]
fn an_internal_error_alert_before_the_handshake_is_a_busy_appliance() {
    let mapped = from_ureq(io_wrapping(rustls::Error::AlertReceived(AlertDescription::InternalError)), &cx());
    assert!(matches!(mapped, RemoteError::Busy { .. }), "{mapped:?}");
    says(&mapped, &["192.0.2.10:9443", "busy", "32 connections", "try again"]);
    assert_eq!(mapped.exit_status(), 1);
}
