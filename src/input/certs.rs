//! TLS for the syslog input on 6514 and for HTTPS on input.http: the server configuration from
//! PEM files, with mutual TLS when a client CA is set (LSS log receivers support both).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::UnixTime;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::cert_check;
use crate::config::pem::pem_message;

/// Why a TLS configuration could not be built; each names the config section ("input.tls",
/// "input.http") and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{section}.cert {path}: {message}")]
    Cert {
        section: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("{section}.key {path}: {message}")]
    Key {
        section: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("{section}.client_ca {path}: {message}")]
    ClientCa {
        section: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("{section}: {source}")]
    Config {
        section: &'static str,
        source: rustls::Error,
    },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a certificate no client would take ([`cert_check`]) does to its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// A reload: refused, and what serves now stays.
    Refuse,
    /// A start: said, and the collector goes on (TCP and UDP need no certificate).
    Warn,
    /// An input that does not listen: nothing to say.
    Pass,
}

/// A TLS input's server configuration, with the verifier of client certificates it was built
/// with (rustls keeps its own private): a reload's new verifier is asked about the connections
/// the old one admitted ([`super::admission`]).
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
    /// `None` without mutual TLS.
    clients: Option<Arc<dyn ClientCertVerifier>>,
    /// When the server certificate expires, and the last CA of the client CA file (Unix
    /// seconds), as read to build this: for `/metrics`, which an alert watches.
    pub expires: Option<i64>,
    pub cas_expire: Option<i64>,
}

impl TlsServer {
    /// Whether this configuration admits, now, a client that showed `chain` at its handshake
    /// (its own certificate first; `None` if it showed none); if not, why, in words.
    pub fn admits(&self, chain: Option<&[CertificateDer<'_>]>) -> Result<(), String> {
        let Some(verifier) = &self.clients else {
            return Ok(());
        };
        let refused = match chain.and_then(|c| c.split_first()) {
            None if verifier.client_auth_mandatory() => rustls::Error::NoCertificatesPresented,
            None => return Ok(()),
            Some((own, intermediates)) => {
                match verifier.verify_client_cert(own, intermediates, UnixTime::now()) {
                    Ok(_) => return Ok(()),
                    Err(e) => e,
                }
            }
        };
        Err(match words(&refused) {
            Some(words) => words.to_owned(),
            None => refused.to_string(),
        })
    }
}

/// Builds the server configuration of input.tls. `client_ca`, when given, makes a client
/// certificate signed by it mandatory.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    unusable: Unusable,
) -> Result<Arc<TlsServer>, TlsError> {
    input_server_config("input.tls", cert, key, client_ca, unusable)
}

/// Builds the server configuration of the input whose config section is `section` (errors name
/// its keys).
pub fn input_server_config(
    section: &'static str,
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    unusable: Unusable,
) -> Result<Arc<TlsServer>, TlsError> {
    let judge = |found: Result<(), String>, error: &dyn Fn(String) -> TlsError| match found {
        Err(message) if unusable == Unusable::Refuse => Err(error(message)),
        Err(message) if unusable == Unusable::Warn => {
            tracing::warn!("{}: no client will take it", error(message));
            Ok(())
        }
        _ => Ok(()),
    };
    let config_error = |source| TlsError::Config { section, source };
    let cert_error = |message| TlsError::Cert {
        section,
        path: cert.to_owned(),
        message,
    };
    let chain = read_certs(cert).map_err(cert_error)?;
    let expires = cert_check::not_after(&chain[0]);
    let now = jiff::Timestamp::now();
    judge(cert_check::as_server(&chain[0], now), &cert_error)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        section,
        path: key.to_owned(),
        message: pem_message(e),
    })?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?;
    let mut clients = None;
    // A bundle serves while one of its CAs does (an old one left in while connectors move over
    // must not raise the alert): the last to expire.
    let mut cas_expire = None;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let fail = |message: String| TlsError::ClientCa {
                section,
                path: ca.to_owned(),
                message,
            };
            let mut roots = RootCertStore::empty();
            let cas = read_certs(ca).map_err(fail)?;
            judge(cert_check::as_client_cas(&cas, now), &fail)?;
            cas_expire = cas.iter().filter_map(cert_check::not_after).max();
            for c in cas {
                // rustls says "invalid peer certificate": it is the CA's, in this file.
                roots.add(c).map_err(|e| match e {
                    rustls::Error::InvalidCertificate(why) => {
                        fail(format!("is not a certificate ({why:?})"))
                    }
                    e => fail(e.to_string()),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| fail(e.to_string()))?;
            clients = Some(verifier.clone());
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| match e {
            // rustls says "keys may not be consistent: KeyMismatch", which names neither file.
            rustls::Error::InconsistentKeys(_) => TlsError::Key {
                section,
                path: key.to_owned(),
                message: format!("is not the key of the certificate in {}", cert.display()),
            },
            // rustls says "invalid peer certificate: BadEncoding": it is ours, and in a file.
            rustls::Error::InvalidCertificate(why) => TlsError::Cert {
                section,
                path: cert.to_owned(),
                message: format!("is not a certificate ({why:?})"),
            },
            e => config_error(e),
        })?;
    // No TLS 1.3 session tickets, which rustls sends after every handshake by default: a
    // syslog sender only writes, and a socket closed with bytes unread in it is reset, not
    // ended, so the kernel here dropped the records ztel had not read yet (most of a
    // 3,000-record connection, counted as nothing but a read error). Senders reconnect
    // rarely, and Cloud NSS keeps its HTTPS connections alive: resumption saves either
    // nothing worth that.
    config.send_tls13_tickets = 0;
    Ok(Arc::new(TlsServer {
        config: Arc::new(config),
        clients,
        expires,
        cas_expire,
    }))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_message)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_message)?;
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

/// The subject of a peer's certificate, for the log ("CN=connector-1,O=Corp"). It is the
/// client's text: a control character in it (a newline, an escape) is written escaped, or it
/// would forge log lines of its own.
pub fn subject(cert: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(cert.as_ref()) {
        Ok((_, parsed)) => crate::logging::printable(&parsed.subject().to_string()),
        Err(_) => "(unparseable certificate)".into(),
    }
}

/// Why a TLS handshake failed, in words an operator can act on. rustls names an error's variant
/// only: a client certificate made by `openssl x509 -req` without an extension file (X.509 v1)
/// shows as `invalid peer certificate: Other(OtherError(UnsupportedCertVersion))`.
pub fn handshake_failure(e: &std::io::Error) -> String {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return e.to_string();
    };
    match words(tls) {
        Some(words) => format!("{words} ({tls})"),
        None => e.to_string(),
    }
}

/// What a client-certificate error means, in words, where rustls's own are a variant's name.
fn words(e: &rustls::Error) -> Option<&'static str> {
    use rustls::{CertificateError, Error};
    Some(match e {
        Error::NoCertificatesPresented => {
            "the client sent no certificate, and mutual TLS is on (input.tls.client_ca)"
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the client's certificate is not signed by input.tls.client_ca"
        }
        Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the client's certificate has expired",
        Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "the client's certificate is not valid yet (check both clocks)",
        Error::InvalidCertificate(CertificateError::Other(other))
            if other.0.downcast_ref::<webpki::Error>()
                == Some(&webpki::Error::UnsupportedCertVersion) =>
        {
            "the client's certificate is X.509 version 1, which TLS libraries refuse: it was \
             signed without extensions (`openssl x509 -req` without -extfile); sign it again \
             with an extension file holding `basicConstraints=CA:FALSE` and \
             `extendedKeyUsage=clientAuth`"
        }
        _ => return None,
    })
}
