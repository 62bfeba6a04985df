//! Connections, and the open-loop sender that runs on each of them in its own thread.
//!
//! Open loop: event i of the run is due at `start + i / rate`, whatever the collector does.
//! A sender wakes up, writes everything that is due (whole records, one contiguous slice per
//! syscall), and records for every event of that write how late it went out. When the
//! collector pushes back, writes block, events pile up, and their lateness grows: a slow
//! collector shows up in the numbers instead of slowing the clock (no coordinated omission).
//!
//! HTTP follows the same model: a request carries what is due (at most --batch events), its
//! events' lateness is taken when its write returns, and its answer is read before the next
//! request; a collector slow to answer delays the next request, so the events due meanwhile
//! go out late and say so.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::args::{HttpPlan, Plan, Proto};
use crate::http::{self, Answers, Requests};
use crate::source::Stream;

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

/// What a TLS connection to the collector needs: the CA's roots and the name to check.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
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
            Transport::Tls(tls_client(ca, &plan.server_name)?)
        }
        Proto::Http => {
            let Some(http) = &plan.http else {
                bail!("--proto http needs --http-key KEY");
            };
            Transport::Http {
                tls: plan
                    .ca
                    .as_deref()
                    .map(|ca| tls_client(ca, &plan.server_name))
                    .transpose()?,
                plan: http.clone(),
            }
        }
    })
}

fn tls_client(ca: &Path, server_name: &str) -> Result<TlsClient> {
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
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_string())
        .with_context(|| format!("{server_name:?} is not a TLS server name"))?;
    Ok(TlsClient {
        config: Arc::new(config),
        name,
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
        })),
    })
}

impl Wire {
    /// Connects, and for TLS completes the handshake.
    fn open(target: SocketAddr, tls: Option<&TlsClient>) -> Result<Wire> {
        let mut sock = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).context("connect")?;
        // Records go out when they are due, not when Nagle's algorithm decides.
        sock.set_nodelay(true)?;
        let Some(TlsClient { config, name }) = tls else {
            return Ok(Wire::Tcp(sock));
        };
        sock.set_read_timeout(Some(TLS_TIMEOUT))?;
        let mut tls = ClientConnection::new(config.clone(), name.clone())?;
        while tls.is_handshaking() {
            tls.complete_io(&mut sock).context("TLS handshake")?;
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
}

impl HttpConn {
    fn connect(target: SocketAddr, tls: Option<&TlsClient>) -> Result<Wire> {
        let wire = Wire::open(target, tls)?;
        wire.socket().set_read_timeout(Some(ANSWER_TIMEOUT))?;
        Ok(wire)
    }

    /// Writes the request that carries `elements`; returns the length of its body.
    fn post(&mut self, elements: &[u8]) -> Result<usize> {
        let wire = match &mut self.wire {
            Some(wire) => wire,
            None => {
                let wire = HttpConn::connect(self.target, self.tls.as_ref())
                    .context("reconnect after the collector closed the connection")?;
                self.answers.clear();
                self.wire.insert(wire)
            }
        };
        let (request, body) = self.requests.build(elements);
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
    fn max_batch(&self) -> usize {
        match self {
            Conn::Udp(_) => DATAGRAM_BATCH,
            Conn::Stream(_) => STREAM_BATCH,
            Conn::Http(_) => http::MAX_BATCH_BYTES,
        }
    }

    /// Most events one send may carry.
    fn max_events(&self) -> u64 {
        match self {
            Conn::Http(h) => h.batch as u64,
            _ => u64::MAX,
        }
    }

    /// Hands `bytes` (whole records) to the kernel: for UDP as one datagram, for HTTP as the
    /// body of one request. Returns the bytes sent of records and their framing (for HTTP, the
    /// request's body).
    fn send(&mut self, bytes: &[u8]) -> Result<usize> {
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
        Ok(bytes.len())
    }

    /// Waits for the collector to take what was just sent: HTTP reads the answer; the other
    /// transports have nothing to wait for.
    fn confirm(&mut self) -> Result<()> {
        match self {
            Conn::Http(h) => h.confirm(),
            Conn::Stream(_) | Conn::Udp(_) => Ok(()),
        }
    }

    /// Ends the connection cleanly (see `Wire::finish`).
    fn finish(&mut self) -> io::Result<()> {
        match self {
            Conn::Stream(w) => w.finish(),
            Conn::Udp(_) => Ok(()),
            Conn::Http(h) => h.wire.as_mut().map_or(Ok(()), Wire::finish),
        }
    }
}

/// When events are due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Events per second over all connections; `None` for as fast as possible.
    pub rate: Option<f64>,
    /// Events in the whole run, when known.
    pub total: Option<u64>,
    /// For an unpaced timed run: stop after this long.
    pub deadline: Option<Duration>,
    pub connections: u64,
}

impl Schedule {
    /// When event `i` of the run is due, in nanoseconds after the start.
    fn due_ns(&self, i: u64, rate: f64) -> u64 {
        (i as f64 * 1e9 / rate) as u64
    }

    /// How many of connection `c`'s events are among the run's first `global` events: the
    /// connection sends events c, c + N, c + 2N, …
    fn local(&self, global: u64, c: u64) -> u64 {
        if global > c {
            (global - c - 1) / self.connections + 1
        } else {
            0
        }
    }
}

/// Counters the progress line reads while the senders run.
#[derive(Debug, Default)]
pub struct Progress {
    pub events: AtomicU64,
    pub bytes: AtomicU64,
}

/// What one connection did.
pub struct Outcome {
    pub events: u64,
    pub bytes: u64,
    /// Send lateness of every event, in microseconds (empty for --rate max).
    pub lateness: Histogram<u64>,
    /// The same, one histogram per second of the run (kept only for --hist).
    pub intervals: Vec<Histogram<u64>>,
    /// When its last write returned, after the start.
    pub finished: Duration,
    /// Why it stopped early.
    pub error: Option<String>,
}

/// An empty lateness histogram: microseconds to three significant digits, growing as needed.
pub fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid precision")
}

/// Starts one sender thread per connection; they wait until `start`.
pub fn spawn(
    conns: Vec<Conn>,
    streams: Vec<Stream>,
    schedule: Schedule,
    keep_intervals: bool,
    progress: &Arc<Progress>,
    start: Instant,
) -> Result<Vec<JoinHandle<Outcome>>> {
    let mut handles = Vec::with_capacity(conns.len());
    for (c, (mut conn, stream)) in conns.into_iter().zip(streams).enumerate() {
        let sender = Sender {
            c: c as u64,
            schedule,
            keep_intervals,
            start,
            progress: Arc::clone(progress),
        };
        let handle = thread::Builder::new()
            .name(format!("loadgen-conn-{}", c + 1))
            .spawn(move || sender.run(&mut conn, &stream))
            .context("cannot start a sender thread")?;
        handles.push(handle);
    }
    Ok(handles)
}

/// One connection's sender: which events are its own, and where it reports.
struct Sender {
    /// Its index: it sends events c, c + N, c + 2N, … of the run.
    c: u64,
    schedule: Schedule,
    keep_intervals: bool,
    start: Instant,
    progress: Arc<Progress>,
}

impl Sender {
    fn run(&self, conn: &mut Conn, stream: &Stream) -> Outcome {
        let mut out = Outcome {
            events: 0,
            bytes: 0,
            lateness: histogram(),
            intervals: Vec::new(),
            finished: Duration::ZERO,
            error: None,
        };
        if let Some(wait) = self.start.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let sent = self.send_all(conn, stream, &mut out);
        out.finished = self.start.elapsed();
        if let Err(e) = sent.and_then(|()| conn.finish().context("close")) {
            out.error = Some(format!("connection {}: {e:#}", self.c + 1));
        }
        out
    }

    /// The loop: write what is due, measure how late it went, wait for the next due event.
    fn send_all(&self, conn: &mut Conn, stream: &Stream, out: &mut Outcome) -> Result<()> {
        if stream.is_empty() {
            return Ok(());
        }
        let schedule = &self.schedule;
        let limit = schedule.total.map(|t| schedule.local(t, self.c));
        let max_batch = conn.max_batch();
        let max_events = conn.max_events();
        let pool = stream.len() as u64;
        // Events this connection has sent; its k-th is event c + k·N of the run and pool
        // entry k mod pool.
        let mut k: u64 = 0;
        loop {
            if limit.is_some_and(|l| k >= l) {
                return Ok(());
            }
            let elapsed = self.start.elapsed();
            if schedule.deadline.is_some_and(|d| elapsed >= d) {
                return Ok(());
            }
            let wanted = match schedule.rate {
                None => limit.map_or(u64::MAX, |l| l - k),
                Some(rate) => {
                    let global_due = (elapsed.as_nanos() as f64 * rate / 1e9).floor() as u64 + 1;
                    let due = schedule
                        .local(global_due, self.c)
                        .min(limit.unwrap_or(u64::MAX));
                    if due <= k {
                        let next = schedule.due_ns(self.global(k), rate);
                        let wait = next.saturating_sub(elapsed.as_nanos() as u64);
                        thread::sleep(Duration::from_nanos(wait.max(1_000)));
                        continue;
                    }
                    due - k
                }
            };
            let wanted = wanted.min(max_events);
            let p = (k % pool) as usize;
            let batch = stream.batch(p, usize::try_from(wanted).unwrap_or(usize::MAX), max_batch);
            let sent = conn.send(stream.slice(p, batch))? as u64;
            if let Some(rate) = schedule.rate {
                self.record_lateness(out, k, batch as u64, rate);
            }
            k += batch as u64;
            out.events += batch as u64;
            out.bytes += sent;
            self.progress
                .events
                .fetch_add(batch as u64, Ordering::Relaxed);
            self.progress.bytes.fetch_add(sent, Ordering::Relaxed);
            conn.confirm()?;
        }
    }

    /// The run-wide index of this connection's k-th event.
    fn global(&self, k: u64) -> u64 {
        self.c + k * self.schedule.connections
    }

    /// Records, for each of the `n` events from this connection's k-th on, how long after its
    /// due time the write that carried it returned.
    fn record_lateness(&self, out: &mut Outcome, k: u64, n: u64, rate: f64) {
        let sent_ns = self.start.elapsed().as_nanos() as u64;
        let second = (sent_ns / 1_000_000_000) as usize;
        if self.keep_intervals && out.intervals.len() <= second {
            out.intervals.resize_with(second + 1, histogram);
        }
        for j in k..k + n {
            let due = self.schedule.due_ns(self.global(j), rate);
            let late_us = sent_ns.saturating_sub(due) / 1000;
            out.lateness.saturating_record(late_us);
            if self.keep_intervals {
                out.intervals[second].saturating_record(late_us);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_dealt_round_robin() {
        let s = Schedule {
            rate: None,
            total: Some(10),
            deadline: None,
            connections: 3,
        };
        // Connection 0 sends 0, 3, 6, 9; 1 sends 1, 4, 7; 2 sends 2, 5, 8.
        assert_eq!([s.local(10, 0), s.local(10, 1), s.local(10, 2)], [4, 3, 3]);
        assert_eq!([s.local(1, 0), s.local(1, 1)], [1, 0]);
        assert_eq!(s.local(0, 0), 0);
    }

    #[test]
    fn due_times() {
        let s = Schedule {
            rate: Some(1000.0),
            total: None,
            deadline: None,
            connections: 1,
        };
        assert_eq!(s.due_ns(0, 1000.0), 0);
        assert_eq!(s.due_ns(1500, 1000.0), 1_500_000_000);
    }
}
