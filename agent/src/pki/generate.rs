//! Keys and certificates, in memory: a CA, the appliance's server
//! certificate, clients' certificates and the CA's revocation list. ECDSA
//! P-256 throughout (every TLS 1.3 peer speaks it; ring signs it).

use super::PkiError;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SanType,
    SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// When a certificate or revocation list is valid.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

const DAY: u64 = 24 * 60 * 60;

impl Validity {
    /// From a day ago (an appliance's clock may lag the operator's) for
    /// `years` years of 365 days.
    pub fn years(years: u64) -> Validity {
        let now = SystemTime::now();
        let back = Duration::from_secs(DAY);
        let ahead = Duration::from_secs(DAY.saturating_mul(365).saturating_mul(years));
        Validity { not_before: now.checked_sub(back).unwrap_or(now), not_after: now.checked_add(ahead).unwrap_or(now) }
    }
}

/// The CA lasts as long as an appliance might; identities are reissued from it.
pub const CA_YEARS: u64 = 10;
/// Server and client certificates.
pub const LEAF_YEARS: u64 = 5;

/// A certificate and its private key, PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    /// The identity file: the certificate, the CA's after it (the chain),
    /// then the key.
    pub fn identity_pem(&self, ca: &Ca) -> String {
        format!("{}{}{}", self.cert_pem, ca.cert_pem(), self.key_pem)
    }
}

/// A CA that can issue: its certificate and its signing key.
pub struct Ca {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A new CA named after the appliance it serves.
    pub fn generate(name: &str, validity: Validity, path: &Path) -> Result<Ca, PkiError> {
        let fail = generated(path);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let mut params = params(&format!("lvs appliance CA {name}"), validity)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).map_err(fail)?;
        Ok(Ca { cert_pem: cert.pem(), issuer: Issuer::new(params, key) })
    }

    /// A CA read back from its certificate and key (`ca.pem`, `ca.key`);
    /// `path` names them in errors.
    pub fn load(cert_pem: &str, key_pem: &str, path: &Path) -> Result<Ca, PkiError> {
        let fail = generated(path);
        let key = KeyPair::from_pem(key_pem).map_err(fail)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key).map_err(fail)?;
        Ok(Ca { cert_pem: cert_pem.to_string(), issuer })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// The appliance's certificate: NAME as DNS name and every address as IP
    /// address, for servers only.
    pub fn server(
        &self,
        name: &str,
        addresses: &[IpAddr],
        validity: Validity,
        path: &Path,
    ) -> Result<Issued, PkiError> {
        let mut params = params(name, validity)?;
        params.subject_alt_names.push(SanType::DnsName(name.try_into().map_err(generated(path))?));
        params.subject_alt_names.extend(addresses.iter().map(|ip| SanType::IpAddress(*ip)));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params, path)
    }

    /// A client's certificate, its common name NAME, for clients only.
    pub fn client(&self, name: &str, validity: Validity, path: &Path) -> Result<Issued, PkiError> {
        let mut params = params(name, validity)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params, path)
    }

    fn issue(&self, mut params: CertificateParams, path: &Path) -> Result<Issued, PkiError> {
        let fail = generated(path);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(generated(path))?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// A revocation list of `revoked`, numbered `number` (each new list a
    /// higher one), PEM.
    pub fn crl(
        &self,
        revoked: Vec<RevokedCertParams>,
        number: SerialNumber,
        validity: Validity,
        path: &Path,
    ) -> Result<String, PkiError> {
        let fail = generated(path);
        let params = CertificateRevocationListParams {
            this_update: validity.not_before.into(),
            next_update: validity.not_after.into(),
            crl_number: number,
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).map_err(fail)?.pem().map_err(generated(path))
    }
}

fn generated(path: &Path) -> impl Fn(rcgen::Error) -> PkiError + Copy + '_ {
    |source| PkiError::Generate { path: path.to_path_buf(), source }
}

/// What every certificate has: its common name, validity and a random serial.
fn params(common_name: &str, validity: Validity) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.not_before = validity.not_before.into();
    params.not_after = validity.not_after.into();
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

/// 16 random bytes, positive and with no leading zero, so that every
/// certificate of a CA has its own serial (RFC 5280 allows up to 20).
pub fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider().secure_random.fill(&mut bytes).map_err(|_| PkiError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}
