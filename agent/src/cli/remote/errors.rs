//! Why a request to the appliance did not get its answer, told so that the
//! operator knows what to do: each variant names the endpoint (or the file)
//! and the likely fix. [`from_ureq`] maps what ureq and rustls say onto them.

use super::super::{EXIT_FAILED, EXIT_INVALID};
use rustls::{AlertDescription, CertificateError};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// What `management:` needs for a connection to reach the agent at all.
const REACH: &str =
    "is `management:` in the appliance's config, listening on this address and port, and the port forwarded?";

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("--identity {}: {problem}", path.display())]
    Identity { path: PathBuf, problem: String },
    #[error("--ca {}: {problem}", path.display())]
    Ca { path: PathBuf, problem: String },
    #[error("{endpoint}: connection refused: nothing listens there; {REACH}")]
    Refused { endpoint: String },
    #[error("{endpoint}: cannot reach it ({detail}): is the address right and the appliance up? {REACH}")]
    Unreachable { endpoint: String, detail: String },
    #[error("{endpoint}: cannot resolve the host name: use the appliance's address, or a name your resolver knows")]
    HostNotFound { endpoint: String },
    #[error("{endpoint}: no connection within {}: is the appliance up, and no firewall dropping the port? {REACH}", secs(*after))]
    ConnectTimeout { endpoint: String, after: Duration },
    #[error("{endpoint}: no answer within {}: the appliance is busy or the port leads elsewhere; try again, or give it longer with --request-timeout", secs(*after))]
    AnswerTimeout { endpoint: String, after: Duration },
    #[error(
        "{endpoint}: unknown CA: the appliance's certificate is not signed by {}: is --ca the ca.pem of the `lvs-agent pki init` that made this appliance's server.pem?",
        ca.display()
    )]
    UnknownCa { endpoint: String, ca: PathBuf },
    #[error(
        "{endpoint}: the appliance's certificate is not valid for {expected}: it names {}; {fix}",
        names(presented)
    )]
    WrongName { endpoint: String, expected: String, presented: Vec<String>, fix: String },
    #[error("{endpoint}: the appliance's certificate is refused: {problem}")]
    ServerCertificate { endpoint: String, problem: String },
    #[error(
        "{endpoint}: certificate refused ({alert}): is --identity {} signed by the appliance's CA, not expired, not revoked?",
        identity.display()
    )]
    CertificateRefused { endpoint: String, alert: String, identity: PathBuf },
    #[error("{endpoint}: the appliance closed the connection ({detail}); if it does so at once, it may be refusing --identity (signed by another CA, expired or revoked)")]
    Closed { endpoint: String, detail: String },
    /// The server refuses a connection it has no slot for with this alert, in
    /// one write before any handshake (manage::server): HTTP cannot be spoken yet.
    #[error("{endpoint}: the appliance is busy: it serves 32 connections at once, 8 per client address, and had no room for this one; try again in a few seconds")]
    Busy { endpoint: String },
    #[error("{endpoint}: TLS failed: {detail}")]
    Tls { endpoint: String, detail: String },
    /// The appliance answered, with something else than 200.
    #[error("{endpoint} answered {status} ({}):\n{error}", reason(*status))]
    Answer { endpoint: String, status: u16, error: String },
    #[error("{endpoint}: the answer is not the API's: {detail} (is this lvs-agent's management port, and is lvs-agent here as new as the appliance's?)")]
    BadAnswer { endpoint: String, detail: String },
    #[error("{endpoint}: {detail}")]
    Other { endpoint: String, detail: String },
}

impl RemoteError {
    /// 2 for what the appliance refused as wrong (422, 400, 409), 1 for anything else.
    pub fn exit_status(&self) -> i32 {
        match self {
            RemoteError::Answer { status: 400 | 409 | 422, .. } => EXIT_INVALID,
            _ => EXIT_FAILED,
        }
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn names(presented: &[String]) -> String {
    if presented.is_empty() {
        "no subject alternative name".to_string()
    } else {
        presented.join(", ")
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        404 => "no such path: is lvs-agent here newer than the appliance's?",
        405 => "method not allowed",
        408 => "request timeout",
        409 => "conflict",
        411 => "length required",
        413 => "too large",
        422 => "refused",
        429 => "too many connections",
        500 => "failed",
        503 => "unavailable",
        _ => "unexpected",
    }
}

/// What a request was made with, for the messages.
pub struct Context<'a> {
    pub endpoint: &'a str,
    pub ca: &'a std::path::Path,
    pub identity: &'a std::path::Path,
    /// The whole request's limit (a stream's: its answer's head).
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

/// ureq's error as the operator's.
pub fn from_ureq(e: ureq::Error, cx: &Context) -> RemoteError {
    let endpoint = cx.endpoint.to_string();
    match e {
        ureq::Error::Io(io) => from_io(io, cx),
        ureq::Error::Rustls(tls) => from_rustls(&tls, cx),
        ureq::Error::Timeout(ureq::Timeout::Connect) => ConnectTimeout { endpoint, after: cx.connect_timeout },
        ureq::Error::Timeout(ureq::Timeout::Resolve) => HostNotFound { endpoint },
        ureq::Error::Timeout(_) => AnswerTimeout { endpoint, after: cx.timeout },
        ureq::Error::HostNotFound => HostNotFound { endpoint },
        ureq::Error::Protocol(p) => BadAnswer { endpoint, detail: p.to_string() },
        ureq::Error::LargeResponseHeader(..) => BadAnswer { endpoint, detail: e.to_string() },
        ureq::Error::BodyExceedsLimit(limit) => {
            BadAnswer { endpoint, detail: format!("it is larger than {limit} bytes, the most read") }
        }
        ureq::Error::Tls(detail) => Tls { endpoint, detail: detail.to_string() },
        other => Other { endpoint, detail: other.to_string() },
    }
}

use RemoteError::*;

/// An I/O error, which may carry rustls's (ureq passes the handshake's and
/// the stream's on inside io::Error).
pub fn from_io(io: io::Error, cx: &Context) -> RemoteError {
    if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return from_rustls(tls, cx);
    }
    let endpoint = cx.endpoint.to_string();
    match io.kind() {
        io::ErrorKind::ConnectionRefused => Refused { endpoint },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable | io::ErrorKind::AddrNotAvailable => {
            Unreachable { endpoint, detail: io.to_string() }
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => AnswerTimeout { endpoint, after: cx.timeout },
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::UnexpectedEof => {
            Closed { endpoint, detail: io.to_string() }
        }
        _ => Other { endpoint, detail: io.to_string() },
    }
}

pub fn from_rustls(e: &rustls::Error, cx: &Context) -> RemoteError {
    let endpoint = cx.endpoint.to_string();
    match e {
        rustls::Error::InvalidCertificate(c) => from_certificate(c, cx),
        rustls::Error::AlertReceived(alert) if refuses_certificate(*alert) => {
            CertificateRefused { endpoint, alert: alert_name(*alert), identity: cx.identity.to_path_buf() }
        }
        rustls::Error::AlertReceived(AlertDescription::InternalError) => Busy { endpoint },
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion) => Tls {
            endpoint,
            detail: "the other side does not speak TLS 1.3: is this the appliance's management port?".to_string(),
        },
        rustls::Error::AlertReceived(alert) => {
            Tls { endpoint, detail: format!("the appliance sent the alert {}", alert_name(*alert)) }
        }
        rustls::Error::InvalidMessage(_) => {
            Tls { endpoint, detail: format!("{e}: is this an HTTPS port, the appliance's management port?") }
        }
        other => Tls { endpoint, detail: other.to_string() },
    }
}

/// The alerts a server sends when it does not take the client's certificate.
fn refuses_certificate(alert: AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateRequired
            | AlertDescription::DecryptError
    )
}

fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::BadCertificate => "bad certificate",
        AlertDescription::UnsupportedCertificate => "unsupported certificate",
        AlertDescription::CertificateRevoked => "certificate revoked",
        AlertDescription::CertificateExpired => "certificate expired",
        AlertDescription::CertificateUnknown => "certificate unknown",
        AlertDescription::UnknownCA => "unknown CA",
        AlertDescription::AccessDenied => "access denied",
        AlertDescription::CertificateRequired => "certificate required",
        AlertDescription::DecryptError => "decrypt error: the key does not prove the certificate",
        other => return format!("{other:?}"),
    };
    format!("TLS alert: {name}")
}

fn from_certificate(c: &CertificateError, cx: &Context) -> RemoteError {
    let endpoint = cx.endpoint.to_string();
    let problem = match c {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            return UnknownCa { endpoint, ca: cx.ca.to_path_buf() }
        }
        CertificateError::NotValidForNameContext { expected, presented } => {
            let (expected, flag) = match expected {
                rustls_pki_types::ServerName::IpAddress(ip) => (std::net::IpAddr::from(*ip).to_string(), "--address"),
                rustls_pki_types::ServerName::DnsName(name) => (name.as_ref().to_string(), "--name"),
                other => (format!("{other:?}"), "--name"),
            };
            let fix = format!(
                "use one of those in --endpoint, or make the appliance a server.pem with {expected} among its subject alternative names (`lvs-agent pki init ... {flag} {expected}`)"
            );
            return WrongName { endpoint, expected, presented: presented.clone(), fix };
        }
        CertificateError::NotValidForName => {
            let host = cx.endpoint.rsplit_once(':').map_or(cx.endpoint, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
            let fix = format!(
                "use a name or address it was made for in --endpoint, or make the appliance a server.pem that names {host}"
            );
            return WrongName { endpoint, expected: host, presented: Vec::new(), fix };
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("it has expired ({c}): make the appliance a new server.pem with `lvs-agent pki`, or check this machine's clock")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("it is not valid yet ({c}): check this machine's clock and the appliance's")
        }
        CertificateError::Revoked => "it is revoked".to_string(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            format!("{c}: it is not a server certificate; the appliance's is server.pem from `lvs-agent pki init`")
        }
        other => other.to_string(),
    };
    ServerCertificate { endpoint, problem }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
