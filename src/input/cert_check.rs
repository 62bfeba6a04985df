//! What makes a certificate useless in its place, said before it is put there. An expired
//! server certificate, a CA's certificate as the server's, one not meant for servers, or a
//! client CA file holding no CA's certificate each made every client's handshake fail, while
//! the reload said it had succeeded (a reload audit); a start or a reload now refuses them.

use jiff::Timestamp;
use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

/// Why `cert` cannot be the server's certificate at `now`, if it cannot.
pub fn as_server(cert: &CertificateDer<'_>, now: Timestamp) -> Result<(), String> {
    // What cannot be parsed here rustls refuses with its own words.
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Ok(());
    };
    valid_at(&parsed, now)?;
    if is_ca(&parsed) {
        return Err(format!(
            "{} is a CA's certificate (basicConstraints CA), not a server's",
            parsed.subject()
        ));
    }
    if let Ok(Some(usage)) = parsed.extended_key_usage() {
        if !usage.value.server_auth && !usage.value.any {
            return Err(format!(
                "{} is not for servers (its extendedKeyUsage has no serverAuth)",
                parsed.subject()
            ));
        }
    }
    Ok(())
}

/// Why `cert`, from a client CA file, cannot verify clients at `now`, if it cannot.
pub fn as_client_ca(cert: &CertificateDer<'_>, now: Timestamp) -> Result<(), String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Ok(());
    };
    valid_at(&parsed, now)?;
    if !is_ca(&parsed) {
        return Err(format!(
            "{} is no CA's certificate (no basicConstraints CA): no client it signed can be \
             verified",
            parsed.subject()
        ));
    }
    Ok(())
}

/// When `cert` expires (Unix seconds), if it can be read.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<i64> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.validity().not_after.timestamp())
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

fn valid_at(cert: &X509Certificate<'_>, now: Timestamp) -> Result<(), String> {
    let validity = cert.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    let when = |t: i64| Timestamp::from_second(t).map_or(t.to_string(), |t| t.to_string());
    if now.as_second() > until {
        return Err(format!("{} expired at {}", cert.subject(), when(until)));
    }
    if now.as_second() < from {
        return Err(format!(
            "{} is not valid before {}",
            cert.subject(),
            when(from)
        ));
    }
    Ok(())
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

    #[test]
    fn a_server_certificate_that_no_client_takes_is_refused_in_words() {
        let now = Timestamp::now();
        assert_eq!(as_server(&der(params("good")), now), Ok(()));
        let mut expired = params("old");
        expired.not_before = rcgen::date_time_ymd(2020, 1, 1);
        expired.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let e = as_server(&der(expired), now).unwrap_err();
        assert_eq!(e, "CN=old expired at 2021-01-01T00:00:00Z");
        let mut early = params("early");
        early.not_before = rcgen::date_time_ymd(2999, 1, 1);
        early.not_after = rcgen::date_time_ymd(3000, 1, 1);
        assert!(as_server(&der(early), now)
            .unwrap_err()
            .contains("not valid before 2999"));
        let mut ca = params("ca");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        assert!(as_server(&der(ca), now)
            .unwrap_err()
            .contains("is a CA's certificate"));
        let mut client = params("client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        assert!(as_server(&der(client), now)
            .unwrap_err()
            .contains("no serverAuth"));
    }

    #[test]
    fn a_client_ca_file_must_hold_a_ca_in_date() {
        let now = Timestamp::now();
        let mut ca = params("ca");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        assert_eq!(as_client_ca(issuer.der(), now), Ok(()));
        let leaf = as_client_ca(&der(params("leaf")), now).unwrap_err();
        assert!(leaf.contains("CN=leaf is no CA's certificate"), "{leaf}");
    }
}
