//! The client certificate of mutual TLS (--cert, --key): read and checked before the run,
//! presented to a collector that asks for one, and the collector's refusal of it (or of a client
//! without one) told apart from other handshake failures and said in words. Whether the
//! collector asked is kept for the handshake's thread.

use std::cell::Cell;
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::{ClientConnection, SignatureScheme};

/// How long the first TLS 1.3 connection that was asked for a client certificate waits for
/// the collector to refuse it. A refusal comes as soon as the collector has checked the certificate
/// (milliseconds); an acceptance is silence, so this is paid once per run.
const VERDICT_WAIT: Duration = Duration::from_secs(1);
thread_local! {
    /// Whether the collector asked for a client certificate in the handshake this thread is
    /// doing (rustls asks the resolver on the thread that drives the connection).
    static ASKED: Cell<bool> = const { Cell::new(false) };
}

/// What the collector is shown when it asks for a client certificate: the one of --cert and
/// --key, or none.
#[derive(Debug)]
pub struct Presenter {
    key: Option<Arc<CertifiedKey>>,
    /// --cert, to name it when the collector refuses it.
    cert: Option<PathBuf>,
}

impl Presenter {
    /// Reads --cert and --key when given (`files`); errors are configuration errors.
    pub fn new(files: Option<(&Path, &Path)>, provider: &CryptoProvider) -> Result<Presenter> {
        let Some((cert, key)) = files else {
            return Ok(Presenter {
                key: None,
                cert: None,
            });
        };
        Ok(Presenter {
            key: Some(Arc::new(certified_key(cert, key, provider)?)),
            cert: Some(cert.to_path_buf()),
        })
    }

    /// --cert, when one was given.
    pub fn cert(&self) -> Option<&Path> {
        self.cert.as_deref()
    }

    /// Forgets whether a collector asked, before this thread's next handshake.
    pub fn start_handshake() {
        ASKED.set(false);
    }

    /// Whether the collector asked for a client certificate in this thread's last handshake.
    pub fn asked() -> bool {
        ASKED.get()
    }
}

impl ResolvesClientCert for Presenter {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        ASKED.set(true);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// A failed handshake's error, said as the collector's refusal of the client certificate
/// (`cert`, or none) when the collector asked for one and then sent an alert.
pub fn refusal(cert: Option<&Path>, e: io::Error) -> anyhow::Error {
    let alert = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|inner| matches!(inner, rustls::Error::AlertReceived(_)));
    if alert && Presenter::asked() {
        refused(cert, e.into())
    } else {
        anyhow::Error::new(e).context("TLS handshake")
    }
}

/// `e`, said as the collector's refusal of the client certificate `cert` (or of none).
fn refused(cert: Option<&Path>, e: anyhow::Error) -> anyhow::Error {
    let why = match cert {
        Some(cert) => format!(
            "the collector refused the client certificate of --cert {}",
            cert.display()
        ),
        None => "the collector requires a client certificate: give --cert FILE and --key FILE \
                 (mutual TLS)"
            .to_string(),
    };
    e.context(why).context("TLS handshake")
}

/// After a TLS 1.3 handshake in which the collector asked for a client certificate (`cert`, or
/// none), waits for its verdict. TLS 1.3 ends the client's handshake before the collector has
/// checked the certificate: a collector that refuses it sends an alert and closes only then,
/// after every event of a short run may have gone into the socket's buffers (and the run
/// seemed to pass, or failed on a broken pipe). Silence for [`VERDICT_WAIT`], or anything that
/// is not an alert (session tickets), is acceptance.
pub fn await_verdict(
    tls: &mut ClientConnection,
    sock: &mut TcpStream,
    cert: Option<&Path>,
) -> Result<()> {
    sock.set_read_timeout(Some(VERDICT_WAIT))?;
    let verdict = match tls.read_tls(sock) {
        Ok(0) => Err(anyhow::anyhow!("the collector closed the connection")),
        Ok(_) => tls.process_new_packets().map(|_| ()).map_err(Into::into),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    };
    verdict.map_err(|e| refused(cert, e))
}

/// The chain of `cert` with the private key of `key`, which must be the certificate's.
fn certified_key(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey> {
    let pem =
        std::fs::read(cert).with_context(|| format!("cannot read --cert {}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--cert {}: bad PEM", cert.display()))?;
    if chain.is_empty() {
        bail!("--cert {}: no certificate in it", cert.display());
    }
    let pem = std::fs::read(key).with_context(|| format!("cannot read --key {}", key.display()))?;
    let der = match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(der) => der,
        Err(pem::Error::NoItemsFound) => bail!("--key {}: no private key in it", key.display()),
        Err(e) => bail!("--key {}: bad PEM: {e}", key.display()),
    };
    CertifiedKey::from_der(chain, der, provider).map_err(|e| match e {
        // rustls says "keys may not be consistent: KeyMismatch", which names neither file.
        rustls::Error::InconsistentKeys(_) => anyhow::anyhow!(
            "--key {} is not the key of the certificate in --cert {}",
            key.display(),
            cert.display()
        ),
        e => anyhow::anyhow!("--key {}: {e}", key.display()),
    })
}
