//! What makes a certificate useless in its place, said before it is put there. An expired
//! server certificate, one not meant for servers, or a client CA file holding no CA's
//! certificate in date each made every client's handshake fail, while a reload said it had
//! succeeded (a reload audit). A reload refuses them, keeping what serves; a start says so and
//! goes on, since TCP and UDP feeds need no certificate (`certs.rs`).
//!
//! Only what no client takes: a CA's certificate as the server's (what `openssl req -x509`
//! makes by default) works with clients that trust it directly, a certificate valid from a few
//! seconds ahead (a signing host's clock) soon works, and a client CA file may hold expired or
//! other extras beside its CA (a CA being rotated, a bundle), which rustls passes over.

use jiff::Timestamp;
use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

/// Why `cert` cannot be the server's certificate at `now`, if it cannot.
pub fn as_server(cert: &CertificateDer<'_>, now: Timestamp) -> Result<(), String> {
    // What cannot be parsed here rustls refuses with its own words.
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Ok(());
    };
    if let Some(until) = expired(&parsed, now) {
        return Err(format!("{} expired at {until}", name(&parsed)));
    }
    if let Ok(Some(usage)) = parsed.extended_key_usage() {
        if !usage.value.server_auth && !usage.value.any {
            return Err(format!(
                "{} is not for servers (its extendedKeyUsage has no serverAuth)",
                name(&parsed)
            ));
        }
    }
    Ok(())
}

/// Why the certificates of a client CA file cannot verify any client at `now`: none is a CA's
/// certificate in date.
pub fn as_client_cas(certs: &[CertificateDer<'_>], now: Timestamp) -> Result<(), String> {
    let parsed: Vec<X509Certificate<'_>> = certs
        .iter()
        .filter_map(|c| x509_parser::parse_x509_certificate(c.as_ref()).ok())
        .map(|(_, parsed)| parsed)
        .collect();
    // What cannot be parsed here rustls judges.
    if parsed.len() < certs.len() || parsed.iter().any(|c| is_ca(c) && expired(c, now).is_none()) {
        return Ok(());
    }
    let what: Vec<String> = parsed
        .iter()
        .map(|c| match expired(c, now) {
            Some(until) => format!("{} expired at {until}", name(c)),
            None => format!("{} is no CA's (no basicConstraints CA)", name(c)),
        })
        .collect();
    Err(format!(
        "holds no CA's certificate in date, so no client can be verified: {}",
        what.join("; ")
    ))
}

/// When `cert` expires (Unix seconds), if it can be read.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<i64> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.validity().not_after.timestamp())
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

/// When `cert` expired, if it has by `now`.
fn expired(cert: &X509Certificate<'_>, now: Timestamp) -> Option<String> {
    let until = cert.validity().not_after.timestamp();
    (now.as_second() > until)
        .then(|| Timestamp::from_second(until).map_or(until.to_string(), |t| t.to_string()))
}

/// The certificate's subject for a message, its control characters escaped (it is the
/// certificate's own text).
fn name(cert: &X509Certificate<'_>) -> String {
    let subject = crate::logging::printable(&cert.subject().to_string());
    if subject.is_empty() {
        "the certificate (no subject)".into()
    } else {
        subject
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair,
    };

    fn der(params: CertificateParams) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn params(cn: &str) -> CertificateParams {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
    }

    fn expired(mut params: CertificateParams) -> CertificateParams {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        params
    }

    fn ca(params: CertificateParams) -> CertificateParams {
        let mut params = params;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
    }

    #[test]
    fn a_server_certificate_that_no_client_takes_is_refused_in_words() {
        let now = Timestamp::now();
        assert_eq!(as_server(&der(params("good")), now), Ok(()));
        let e = as_server(&der(expired(params("old"))), now).unwrap_err();
        assert_eq!(e, "CN=old expired at 2021-01-01T00:00:00Z");
        let mut client = params("client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        assert!(as_server(&der(client), now)
            .unwrap_err()
            .contains("no serverAuth"));
        // Taken: a self-signed CA (openssl req -x509's default), one valid from a moment ahead,
        // one for any purpose.
        assert_eq!(as_server(&der(ca(params("self"))), now), Ok(()));
        let mut ahead = params("ahead");
        ahead.not_before = rcgen::date_time_ymd(2999, 1, 1);
        assert_eq!(as_server(&der(ahead), now), Ok(()));
        let mut any = params("any");
        any.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
        assert_eq!(as_server(&der(any), now), Ok(()));
    }

    #[test]
    fn a_client_ca_file_needs_one_ca_in_date() {
        let now = Timestamp::now();
        let issuer =
            CertifiedIssuer::self_signed(ca(params("ca")), KeyPair::generate().unwrap()).unwrap();
        let (old, leaf) = (der(ca(expired(params("old ca")))), der(params("leaf")));
        // Beside extras (a CA being rotated out, a client's own certificate): taken.
        assert_eq!(
            as_client_cas(&[old.clone(), issuer.der().clone(), leaf.clone()], now),
            Ok(())
        );
        let e = as_client_cas(&[old, leaf], now).unwrap_err();
        assert!(e.contains("CN=old ca expired at 2021-01-01"), "{e}");
        assert!(e.contains("CN=leaf is no CA's"), "{e}");
    }
}
