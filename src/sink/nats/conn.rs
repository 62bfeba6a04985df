//! The publishing connection: one TCP (or TLS) connection speaking the NATS client protocol
//! itself ([`super::proto`]), made for the hot path. async-nats, which the control side keeps
//! (stream, registry bucket), spends most of a publish on per-message futures, header maps and
//! its own flush machinery; here a round of records is one buffer of HPUB frames and one write,
//! and the acknowledgements come back on one wildcard subscription, matched by a counter.
//!
//! The handshake: the server's INFO, TLS when the URL, `tls_ca` or the server asks for it,
//! CONNECT with the credentials (the user JWT and the nonce signed with the nkey seed of
//! `creds`, or user and password from the URL), SUB to the inbox, and a PING whose PONG says
//! the server took all of it (a refusal comes as `-ERR` instead).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use crate::config::pem::pem_message;

use super::proto::{self, Op, ParseError};
use crate::config;
use crate::config::nats_url::{endpoints, Auth, Endpoint};

/// How long connecting and the handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// What the connection needs of the config, read once: a file that is wrong is said at start
/// (async-nats reads the same files there first and refuses them).
pub struct Setup {
    pub endpoints: Vec<Endpoint>,
    creds: Option<(String, nkeys::KeyPair)>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// TLS whatever the server says (a CA was given).
    tls_always: bool,
    name: String,
}

impl Setup {
    pub fn of(cfg: &config::Nats) -> Result<Setup, String> {
        let endpoints = endpoints(&cfg.url).map_err(|e| format!("output.nats.url: {e}"))?;
        let creds = if cfg.creds.is_empty() {
            None
        } else {
            let text = std::fs::read_to_string(&cfg.creds)
                .map_err(|e| format!("output.nats.creds: {}: {e}", cfg.creds))?;
            Some(credentials(&text).ok_or_else(|| {
                format!("output.nats.creds: {} is not a credentials file", cfg.creds)
            })?)
        };
        let tls = tls_config(&cfg.tls_ca)?;
        Ok(Setup {
            endpoints,
            creds,
            tls: Some(tls),
            tls_always: !cfg.tls_ca.is_empty(),
            name: format!("ztel {} publisher", env!("CARGO_PKG_VERSION")),
        })
    }
}

/// The user JWT and the nkey of a credentials file as `nsc` writes it: each on the first
/// non-empty line after its BEGIN line.
fn credentials(text: &str) -> Option<(String, nkeys::KeyPair)> {
    let after = |marker: &str| {
        let at = text.find(marker)?;
        let rest = &text[at..];
        let rest = &rest[rest.find('\n')? + 1..];
        rest.lines().map(str::trim).find(|l| !l.is_empty())
    };
    let jwt = after("BEGIN NATS USER JWT")?;
    let seed = after("BEGIN USER NKEY SEED")?;
    let key = nkeys::KeyPair::from_seed(seed).ok()?;
    Some((jwt.to_owned(), key))
}

/// The roots a server's certificate is checked against: the CA of `tls_ca`, or the system's
/// (as async-nats does).
fn tls_config(ca: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    if ca.is_empty() {
        let native = rustls_native_certs::load_native_certs().unwrap_or_default();
        roots.add_parsable_certificates(native);
    } else {
        let certs = CertificateDer::pem_file_iter(Path::new(ca))
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("output.nats.tls_ca: {ca}: {}", pem_message(e)))?;
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("output.nats.tls_ca: {ca}: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("output.nats: TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The parts of INFO that matter here.
#[derive(Debug, Default, serde::Deserialize)]
struct Info {
    #[serde(default)]
    max_payload: usize,
    #[serde(default)]
    headers: bool,
    #[serde(default)]
    tls_required: bool,
    #[serde(default)]
    nonce: Option<String>,
}

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connection made: the server took CONNECT and the inbox subscription. Its halves are
/// apart so that one task can write a round while it reads acknowledgements.
pub struct Conn {
    pub reader: Reader,
    pub writer: WriteHalf<Box<dyn Stream>>,
    /// `_INBOX.<nuid>`: acknowledgements come on `<inbox>.<token>`.
    pub inbox: Vec<u8>,
    /// The largest message (headers and payload) the server takes.
    pub max_payload: usize,
    pub endpoint: Endpoint,
}

/// The read half, with what was read and not parsed yet (from `start`).
pub struct Reader {
    half: ReadHalf<Box<dyn Stream>>,
    input: Vec<u8>,
    start: usize,
}

/// Why a connection attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Protocol(String),
}

/// One attempt at `ep`.
pub async fn open(setup: &Setup, ep: &Endpoint) -> Result<Conn, ConnError> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(setup, ep)).await {
        Ok(result) => result,
        // The caller names the endpoint.
        Err(_) => Err(ConnError::Protocol(format!(
            "no answer in {HANDSHAKE_TIMEOUT:?}"
        ))),
    }
}

async fn handshake(setup: &Setup, ep: &Endpoint) -> Result<Conn, ConnError> {
    let mut tcp = TcpStream::connect((ep.host.as_str(), ep.port)).await?;
    tcp.set_nodelay(true)?;
    // INFO comes first, in the clear.
    let mut input = Vec::with_capacity(4096);
    let info = loop {
        if let Some((info, used)) = first_info(&input)? {
            input.drain(..used);
            break info;
        }
        if tcp.read_buf(&mut input).await? == 0 {
            return Err(ConnError::Protocol(format!("{ep}: closed before INFO")));
        }
    };
    if !info.headers {
        return Err(ConnError::Refused(format!(
            "{ep}: the server does not take headers (Nats-Msg-Id)"
        )));
    }
    let tls = ep.tls || setup.tls_always || info.tls_required;
    let stream: Box<dyn Stream> = match (&setup.tls, tls) {
        (Some(config), true) => {
            let name = ServerName::try_from(ep.host.clone())
                .map_err(|e| ConnError::Refused(format!("{ep}: {e}")))?;
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| ConnError::Refused(format!("{ep}: TLS: {e}")))?;
            Box::new(tls)
        }
        _ => Box::new(tcp),
    };
    let (reader, mut writer) = tokio::io::split(stream);
    let inbox = format!("_INBOX.{}", nuid::next()).into_bytes();
    let mut hello = connect_line(setup, ep, &info, tls)?;
    hello.extend_from_slice(b"SUB ");
    hello.extend_from_slice(&inbox);
    hello.extend_from_slice(b".* 1\r\nPING\r\n");
    writer.write_all(&hello).await?;
    writer.flush().await?;
    let mut conn = Conn {
        reader: Reader {
            half: reader,
            input,
            start: 0,
        },
        writer,
        inbox,
        max_payload: if info.max_payload == 0 {
            1 << 20
        } else {
            info.max_payload
        },
        endpoint: ep.clone(),
    };
    // The PONG to our PING: everything before it was taken.
    loop {
        while let Some(op) = conn.reader.next_op()? {
            match op {
                Op::Pong => return Ok(conn),
                Op::Err(why) => {
                    return Err(ConnError::Refused(format!(
                        "{ep}: {}",
                        String::from_utf8_lossy(why)
                    )))
                }
                _ => {}
            }
        }
        if conn.reader.read().await? == 0 {
            return Err(ConnError::Protocol(format!(
                "{ep}: closed during the handshake"
            )));
        }
    }
}

/// The INFO at the start of `input`, once it is whole.
fn first_info(input: &[u8]) -> Result<Option<(Info, usize)>, ConnError> {
    match proto::parse(input) {
        Ok((Op::Info(json), used)) => serde_json::from_slice(json)
            .map(|info| Some((info, used)))
            .map_err(|e| ConnError::Protocol(format!("INFO: {e}"))),
        Ok(_) => Err(ConnError::Protocol(
            "the server did not start with INFO".into(),
        )),
        Err(ParseError::Incomplete) => Ok(None),
        Err(e) => Err(ConnError::Protocol(e.to_string())),
    }
}

fn connect_line(
    setup: &Setup,
    ep: &Endpoint,
    info: &Info,
    tls: bool,
) -> Result<Vec<u8>, ConnError> {
    let mut connect = serde_json::json!({
        "verbose": false,
        "pedantic": false,
        "lang": "rust",
        "version": env!("CARGO_PKG_VERSION"),
        "name": setup.name,
        "protocol": 1,
        "headers": true,
        "no_responders": true,
        "echo": false,
        "tls_required": tls,
    });
    if let Some((jwt, key)) = &setup.creds {
        let nonce = info.nonce.as_deref().unwrap_or_default();
        let sig = key
            .sign(nonce.as_bytes())
            .map_err(|e| ConnError::Refused(format!("cannot sign the server's nonce: {e}")))?;
        connect["jwt"] = jwt.as_str().into();
        connect["sig"] = URL_SAFE_NO_PAD.encode(sig).into();
    }
    match &ep.auth {
        Some(Auth::User { user, pass }) => {
            connect["user"] = user.as_str().into();
            connect["pass"] = pass.as_str().into();
        }
        Some(Auth::Token(token)) => connect["auth_token"] = token.as_str().into(),
        None => {}
    }
    let mut line = b"CONNECT ".to_vec();
    serde_json::to_writer(&mut line, &connect).map_err(|e| ConnError::Protocol(e.to_string()))?;
    line.extend_from_slice(b"\r\n");
    Ok(line)
}

impl Reader {
    /// A reader of `stream`, with nothing read yet (tests of what is done with what it reads).
    #[cfg(test)]
    pub fn over(stream: Box<dyn Stream>) -> Reader {
        Reader {
            half: tokio::io::split(stream).0,
            input: Vec::new(),
            start: 0,
        }
    }

    /// Reads what the server sent; 0 when it closed the connection.
    pub async fn read(&mut self) -> std::io::Result<usize> {
        if self.start > 0
            && (self.start == self.input.len() || self.start > self.input.capacity() / 2)
        {
            self.input.drain(..self.start);
            self.start = 0;
        }
        if self.input.capacity() - self.input.len() < 16 << 10 {
            self.input.reserve(64 << 10);
        }
        self.half.read_buf(&mut self.input).await
    }

    /// The next whole operation read, if any.
    pub fn next_op(&mut self) -> Result<Option<Op<'_>>, ConnError> {
        match proto::parse(&self.input[self.start..]) {
            Ok((op, used)) => {
                self.start += used;
                Ok(Some(op))
            }
            Err(ParseError::Incomplete) => Ok(None),
            Err(e) => Err(ConnError::Protocol(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credentials_file_gives_its_jwt_and_key() {
        let key = nkeys::KeyPair::new_user();
        let seed = key.seed().unwrap();
        let text = format!(
            "-----BEGIN NATS USER JWT-----\nabc.def.ghi\n------END NATS USER JWT------\n\n\
             *** IMPORTANT ***\n\n-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        let (jwt, got) = credentials(&text).unwrap();
        assert_eq!(jwt, "abc.def.ghi");
        assert_eq!(got.public_key(), key.public_key());
        assert!(credentials("not credentials").is_none());
    }
}
