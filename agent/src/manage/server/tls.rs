//! TLS over an admitted connection: rustls's server side, its reads bounded
//! by a deadline of the exchange's choosing (the handshake and head share
//! one) and by the connection's.

use crate::http::conn::{Connection, Deadline};
use rustls::{ServerConfig, ServerConnection, Stream};
use std::io::{self, Read, Write};
use std::sync::Arc;

/// The fatal alert (`internal_error`) a client is sent, in the clear as TLS
/// allows before a handshake, when the server has no slot for it: a TLS
/// client cannot read an HTTP answer before a handshake, and the accept
/// thread must not do one. A client that sees it should try again later.
pub const BUSY_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80];

/// Why a handshake failed, as an operator reading the log can act on it,
/// with rustls's own words after it.
pub fn refusal(e: &io::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    let plain = match e.get_ref().and_then(|inner| inner.downcast_ref::<E>()) {
        Some(E::NoCertificatesPresented) => {
            "the client showed no certificate (the CLI needs --identity, a PEM from `lvs-agent pki`)"
        }
        Some(E::InvalidCertificate(C::UnknownIssuer | C::BadSignature)) => {
            "the client's certificate is not signed by this appliance's CA (ca.pem in the pki folder)"
        }
        Some(E::InvalidCertificate(C::Expired | C::ExpiredContext { .. })) => {
            "the client's certificate has expired: issue a new one with `lvs-agent pki client`"
        }
        Some(E::InvalidCertificate(C::Revoked)) => "the client's certificate is revoked (crl.pem in the pki folder)",
        Some(E::PeerIncompatible(_)) => "the client does not speak TLS 1.3",
        Some(E::InvalidMessage(_)) => "the client does not speak TLS (plain HTTP to the HTTPS port?)",
        _ => return e.to_string(),
    };
    format!("{plain} ({e})")
}

/// The connection as rustls sees it: reads by `by` (and the connection's
/// deadline), writes by the connection's deadline.
struct Wire<'c> {
    conn: &'c mut Connection,
    by: Deadline,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.read_by(buf, self.by)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.conn.flush()
    }
}

/// One TLS session, handshake done.
pub struct Session<'c> {
    tls: ServerConnection,
    conn: &'c mut Connection,
}

impl<'c> Session<'c> {
    /// Completes the handshake by `by`. A client that fails it (no
    /// certificate, one the CA did not sign, an expired one) is sent the
    /// alert rustls chose and nothing else.
    pub fn handshake(config: Arc<ServerConfig>, conn: &'c mut Connection, by: Deadline) -> io::Result<Session<'c>> {
        let mut tls = ServerConnection::new(config).map_err(io::Error::other)?;
        let mut wire = Wire { conn, by };
        while tls.is_handshaking() {
            tls.complete_io(&mut wire)?;
        }
        Ok(Session { tls, conn: wire.conn })
    }

    /// The common name of the client's certificate, for the log.
    pub fn peer_name(&self) -> String {
        match self.tls.peer_certificates().and_then(|certs| certs.first()) {
            Some(cert) => crate::pki::peer_name(cert),
            None => "-".into(),
        }
    }

    /// Reads plaintext by `by`: 0 when the client ended the session.
    pub fn read_by(&mut self, buf: &mut [u8], by: Deadline) -> io::Result<usize> {
        let mut wire = Wire { conn: &mut *self.conn, by };
        Stream::new(&mut self.tls, &mut wire).read(buf)
    }

    /// Writes all of `bytes`, by the connection's deadline.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut wire = Wire { conn: &mut *self.conn, by: Deadline::NEVER };
        let mut stream = Stream::new(&mut self.tls, &mut wire);
        stream.write_all(bytes)?;
        stream.flush()
    }

    /// Whether the client sent something (or closed) within `within`.
    pub fn readable_within(&self, within: std::time::Duration) -> bool {
        self.conn.readable_within(within)
    }

    /// Longer (or shorter) than the server's connections.
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.conn.set_deadline(deadline);
    }

    /// Ends the session as TLS says (close_notify); the connection closes it afterwards.
    pub fn close(mut self) {
        self.tls.send_close_notify();
        let mut wire = Wire { conn: &mut *self.conn, by: Deadline::NEVER };
        while self.tls.wants_write() {
            if self.tls.write_tls(&mut wire).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use rustls::{CertificateError, Error};
    use std::io;

    fn wrapped(e: Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn a_refused_handshake_is_told_plainly_with_rustls_words_after() {
        let other_ca = refusal(&wrapped(Error::InvalidCertificate(CertificateError::UnknownIssuer)));
        assert!(other_ca.starts_with("the client's certificate is not signed by this appliance's CA"), "{other_ca}");
        assert!(other_ca.ends_with("(invalid peer certificate: UnknownIssuer)"), "{other_ca}");
        let none = refusal(&wrapped(Error::NoCertificatesPresented));
        assert!(none.starts_with("the client showed no certificate") && none.contains("peer sent no certificates"));
        let revoked = refusal(&wrapped(Error::InvalidCertificate(CertificateError::Revoked)));
        assert!(revoked.contains("revoked (crl.pem") && revoked.contains("Revoked"), "{revoked}");
        // What it has no plainer words for goes as rustls says it.
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(refusal(&reset), reset.to_string());
    }
}
