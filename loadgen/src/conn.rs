//! Connections to the collector: the transport prepared (TLS roots, HTTP request heads), each
//! connection opened before the clock starts, and how each sends a batch of whole records and
//! waits for the collector to take it. `send` paces the batches.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, StreamOwned};

use crate::args::Proto;
use crate::http::{Answers, Body, Requests};
use crate::identity::{await_verdict, refusal, Presenter};
use crate::plan::{HttpPlan, Plan};

/// Bytes per write on a stream connection: large enough that syscalls cost little at full
/// speed, small enough that a paced run's lateness is measured finely.
const STREAM_BATCH: usize = 256 << 10;
/// Bytes per UDP datagram: several records, under the usual 9000-byte jumbo MTU and far under
/// the 64 KiB limit, so a datagram is not fragmented more than it must be.
const DATAGRAM_BATCH: usize = 8 << 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a TLS handshake, and the wait for the collector's goodbye, may take.
const TLS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the collector may take to answer an HTTP request. It answers once the batch was
/// taken, so backpressure makes it slow; a collector silent for this long is stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach the collector, prepared before any connection is made.
pub enum Transport {
    Tcp,
    Udp,
    Tls(TlsClient),
    Http {
        /// HTTPS when set.
        tls: Option<TlsClient>,
        plan: HttpPlan,
    },
}

/// What a TLS connection to the collector needs: the CA's roots, the name to check and the
/// client certificate to present.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    /// --cert, to name it in a refusal; `None` when loadgen has no client certificate.
    cert: Option<PathBuf>,
    /// Whether the collector's verdict on the client certificate is known (see
    /// `identity::await_verdict`).
    judged: Arc<AtomicBool>,
}

/// Reads what the transport needs (the CA for TLS and HTTPS). Errors are configuration errors.
pub fn prepare(plan: &Plan) -> Result<Transport> {
    Ok(match plan.proto {
        Proto::Tcp => Transport::Tcp,
        Proto::Udp => Transport::Udp,
        Proto::Tls => {
            let Some(ca) = &plan.ca else {
                bail!("--proto tls needs --ca FILE");
            };
            Transport::Tls(tls_client(ca, plan)?)
        }
        Proto::Http => {
            let Some(http) = &plan.http else {
                bail!("--proto http needs --http-key KEY");
            };
            Transport::Http {
                tls: plan
                    .ca
                    .as_deref()
                    .map(|ca| tls_client(ca, plan))
                    .transpose()?,
                plan: http.clone(),
            }
        }
    })
}

fn tls_client(ca: &Path, plan: &Plan) -> Result<TlsClient> {
    let server_name = plan.server_name.as_str();
    let pem = std::fs::read(ca).with_context(|| format!("cannot read --ca {}", ca.display()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.with_context(|| format!("--ca {}: bad PEM", ca.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("--ca {}: bad certificate", ca.display()))?;
    }
    if roots.is_empty() {
        bail!("--ca {}: no certificate in it", ca.display());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let files = plan
        .identity
        .as_ref()
        .map(|(c, k)| (c.as_path(), k.as_path()));
    let presenter = Presenter::new(files, &provider)?;
    let cert = presenter.cert().map(Path::to_path_buf);
    // The presenter is asked even when it has no certificate, so that a collector's refusal of
    // a client without one can be said in words.
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(presenter));
    let name = ServerName::try_from(server_name.to_string())
        .with_context(|| format!("{server_name:?} is not a TLS server name"))?;
    Ok(TlsClient {
        config: Arc::new(config),
        name,
        cert,
        judged: Arc::default(),
    })
}

/// One open connection (or connected UDP socket).
pub enum Conn {
    /// tcp and tls: framed records, written as they are.
    Stream(Wire),
    Udp(UdpSocket),
    /// http: requests and answers over a stream.
    Http(Box<HttpConn>),
}

/// A byte stream to the collector: a TCP connection, or TLS over one.
pub enum Wire {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// Opens every connection (TLS handshakes included) before the clock starts, so that setup
/// is not counted as lateness.
pub fn connect(plan: &Plan, transport: &Transport) -> Result<Vec<Conn>> {
    (0..plan.connections)
        .map(|c| {
            open(plan.target, transport)
                .with_context(|| format!("connection {}: {}", c + 1, plan.target))
        })
        .collect()
}

fn open(target: SocketAddr, transport: &Transport) -> Result<Conn> {
    Ok(match transport {
        Transport::Tcp => Conn::Stream(Wire::open(target, None)?),
        Transport::Udp => {
            let local: SocketAddr = if target.is_ipv4() {
                "0.0.0.0:0".parse()?
            } else {
                "[::]:0".parse()?
            };
            let sock = UdpSocket::bind(local).context("bind")?;
            sock.connect(target).context("connect")?;
            Conn::Udp(sock)
        }
        Transport::Tls(tls) => Conn::Stream(Wire::open(target, Some(tls))?),
        Transport::Http { tls, plan } => Conn::Http(Box::new(HttpConn {
            wire: Some(HttpConn::connect(target, tls.as_ref())?),
            target,
            tls: tls.clone(),
            requests: Requests::new(plan),
            answers: Answers::default(),
            batch: plan.batch,
            // An array's brackets take the place of one comma: records with their commas may
            // fill the body but one byte. Lines are the body as they are.
            batch_bytes: plan.batch_bytes - usize::from(plan.array),
        })),
    })
}

impl Wire {
    /// Connects, and for TLS completes the handshake.
    fn open(target: SocketAddr, tls: Option<&TlsClient>) -> Result<Wire> {
        let mut sock = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).context("connect")?;
        // Records go out when they are due, not when Nagle's algorithm decides.
        sock.set_nodelay(true)?;
        let Some(client) = tls else {
            return Ok(Wire::Tcp(sock));
        };
        sock.set_read_timeout(Some(TLS_TIMEOUT))?;
        let mut tls = ClientConnection::new(client.config.clone(), client.name.clone())?;
        Presenter::start_handshake();
        while tls.is_handshaking() {
            if let Err(e) = tls.complete_io(&mut sock) {
                // The read timeout surfaces as "Resource temporarily unavailable", which says
                // nothing of a port that is no TLS port, or of a server that never answers.
                let timed_out = matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
                if timed_out {
                    bail!(
                        "TLS handshake: no answer within {} s (is {target} a TLS port?)",
                        TLS_TIMEOUT.as_secs()
                    );
                }
                return Err(refusal(client.cert.as_deref(), e));
            }
        }
        // Every connection presents the same certificate and gets the same verdict: the first
        // one waits for it, the others need not pay the wait again.
        if Presenter::asked()
            && tls.protocol_version() == Some(ProtocolVersion::TLSv1_3)
            && !client.judged.load(Ordering::Relaxed)
        {
            await_verdict(&mut tls, &mut sock, client.cert.as_deref())?;
            client.judged.store(true, Ordering::Relaxed);
        }
        sock.set_read_timeout(None)?;
        Ok(Wire::Tls(Box::new(StreamOwned::new(tls, sock))))
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Wire::Tcp(s) => s,
            Wire::Tls(s) => &s.sock,
        }
    }

    /// Ends the connection cleanly: FIN for TCP; for TLS a close_notify, then reading until
    /// the collector closes, because closing a socket with unread data (TLS 1.3 session
    /// tickets) sends a reset, which may cost the collector bytes it has not read yet.
    fn finish(&mut self) -> io::Result<()> {
        match self {
            Wire::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Wire::Tls(s) => {
                s.conn.send_close_notify();
                s.flush()?;
                s.sock.shutdown(std::net::Shutdown::Write)?;
                s.sock.set_read_timeout(Some(TLS_TIMEOUT))?;
                // Everything was written before close_notify: an error or timeout while
                // waiting for the goodbye loses nothing.
                let mut buf = [0u8; 4096];
                while matches!(s.sock.read(&mut buf), Ok(n) if n > 0) {}
                Ok(())
            }
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(s) => s.read(buf),
            Wire::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(s) => s.write(buf),
            Wire::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Wire::Tcp(s) => s.flush(),
            Wire::Tls(s) => s.flush(),
        }
    }
}

/// An HTTP connection: the stream under it, and what builds its requests and reads its answers.
pub struct HttpConn {
    /// `None` after an answer that closed the connection: the next request opens a new one.
    wire: Option<Wire>,
    target: SocketAddr,
    tls: Option<TlsClient>,
    requests: Requests,
    answers: Answers,
    /// Most events per request.
    batch: usize,
    /// Most bytes of records (each with its comma) per request.
    batch_bytes: usize,
}

impl HttpConn {
    fn connect(target: SocketAddr, tls: Option<&TlsClient>) -> Result<Wire> {
        let wire = Wire::open(target, tls)?;
        wire.socket().set_read_timeout(Some(ANSWER_TIMEOUT))?;
        Ok(wire)
    }

    /// Writes the request that carries `elements`; returns the size of its body.
    fn post(&mut self, elements: &[u8]) -> Result<Body> {
        let wire = match &mut self.wire {
            Some(wire) => wire,
            None => {
                let wire = HttpConn::connect(self.target, self.tls.as_ref())
                    .context("reconnect after the collector closed the connection")?;
                self.answers.clear();
                self.wire.insert(wire)
            }
        };
        let (request, body) = self.requests.build(elements).context("gzip")?;
        if let Err(e) = wire.write_all(request).and_then(|()| wire.flush()) {
            // A collector that refuses a request may answer and close before it has read the
            // whole body: its answer says more than the broken pipe does.
            if let Ok(answer) = self.answers.read(wire) {
                answer.check()?;
            }
            return Err(e).context("send");
        }
        Ok(body)
    }

    /// Reads the answer to the request just written: an error unless it is 200.
    fn confirm(&mut self) -> Result<()> {
        let Some(wire) = &mut self.wire else {
            bail!("no request to answer");
        };
        let answer = self.answers.read(wire)?;
        answer.check()?;
        if answer.close {
            if let Some(mut wire) = self.wire.take() {
                // Everything sent was answered: how the goodbye goes loses nothing.
                let _ = wire.finish();
            }
        }
        Ok(())
    }
}

impl Conn {
    pub(crate) fn max_batch(&self) -> usize {
        match self {
            Conn::Udp(_) => DATAGRAM_BATCH,
            Conn::Stream(_) => STREAM_BATCH,
            Conn::Http(h) => h.batch_bytes,
        }
    }

    /// Most events one send may carry.
    pub(crate) fn max_events(&self) -> u64 {
        match self {
            Conn::Http(h) => h.batch as u64,
            _ => u64::MAX,
        }
    }

    /// Hands `bytes` (whole records) to the kernel: for UDP as one datagram, for HTTP as the
    /// body of one request. Returns the bytes sent of records and their framing (for HTTP, of
    /// the request's body).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<Body> {
        match self {
            Conn::Stream(s) => s.write_all(bytes).context("send")?,
            Conn::Udp(s) => {
                let n = s.send(bytes).context("send")?;
                if n != bytes.len() {
                    bail!(
                        "send: datagram cut short: {n} of {} bytes sent",
                        bytes.len()
                    );
                }
            }
            Conn::Http(h) => return h.post(bytes),
        }
        Ok(Body {
            sent: bytes.len(),
            before_gzip: None,
        })
    }

    /// Waits for the collector to take what was just sent: HTTP reads the answer; the other
    /// transports have nothing to wait for.
    pub(crate) fn confirm(&mut self) -> Result<()> {
        match self {
            Conn::Http(h) => h.confirm(),
            Conn::Stream(_) | Conn::Udp(_) => Ok(()),
        }
    }

    /// Ends the connection cleanly (see `Wire::finish`).
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        match self {
            Conn::Stream(w) => w.finish(),
            Conn::Udp(_) => Ok(()),
            Conn::Http(h) => h.wire.as_mut().map_or(Ok(()), Wire::finish),
        }
    }
}
