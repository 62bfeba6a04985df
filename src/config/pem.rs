//! What is wrong with a PEM file the config names (a certificate, a key, a CA), in words: the
//! parser's own errors print the missing end line as a list of byte values.

use rustls::pki_types::pem::Error;

pub fn pem_message(e: Error) -> String {
    let text = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .chars()
            .take(80)
            .collect::<String>()
    };
    match e {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM item of the expected kind".into(),
        Error::MissingSectionEnd { end_marker } => format!(
            "a PEM section has no end line (\"-----END {}-----\"): the file is cut short?",
            text(&end_marker)
        ),
        Error::IllegalSectionStart { line } => {
            format!("a malformed PEM begin line (\"{}\")", text(&line))
        }
        Error::Base64Decode(e) => format!("a PEM section is not base64: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{pem::PemObject, CertificateDer};

    #[test]
    fn a_certificate_cut_short_is_said_in_words() {
        let cut = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n";
        let e = CertificateDer::pem_slice_iter(cut)
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert_eq!(
            pem_message(e),
            "a PEM section has no end line (\"-----END CERTIFICATE-----\"): the file is cut short?"
        );
    }
}
