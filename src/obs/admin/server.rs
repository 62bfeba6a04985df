//! The admin endpoint's HTTP server: hyper's HTTP/1 on a current-thread tokio runtime of its own
//! (thread `admin`), off the data path. Handlers run on at most [`HANDLERS`] blocking threads, so
//! one slow answer (a NATS lookup waits up to 2 s) does not stall the next request.
//!
//! The endpoint may face a hostile network (`admin.address` need not be loopback), so what a
//! client can hold is bounded: at most [`MAX_CONNECTIONS`] at once (a new one ends the oldest), a
//! request head within [`HEAD_TIMEOUT`] and [`MAX_HEAD`] bytes (an idle keep-alive connection
//! is closed at the same timeout), and a request body is never read: its declared length costs
//! nothing. At stop, connections still open are cut, so a client cannot hold a shutdown.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Reply;

/// Threads that answer requests.
const HANDLERS: usize = 2;
/// Connections served at once; each holds at most a head's buffer.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client has to send a request's head, and an idle connection waits for the next.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head (hyper's smallest buffer limit).
const MAX_HEAD: usize = 8192;
/// Answers waiting for a handler thread or being made, at most: a connection ended as the
/// oldest leaves its request's answer to be made all the same, so a flood of connections that
/// each sent a request and were ended queued answers without bound (found by review: 272,143
/// connections in 40 s took 70 MB, and `/healthz` waited 2 min 14 s behind them). Past it a
/// request is answered 503 at once. An answer takes milliseconds (a NATS lookup up to 2 s):
/// dozens waiting is a flood already.
const MAX_JOBS: usize = 64;
/// How long a stop waits for answers being made.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// What answers a request: method, path, query.
pub type Handler = dyn Fn(&hyper::Method, &str, &str) -> Reply + Send + Sync;

/// The running server; [`Server::stop`] (or drop) shuts it down.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds (port 0 allowed: `addr` is the real one) and serves until stopped.
    pub fn start(addr: SocketAddr, handler: Arc<Handler>) -> io::Result<Server> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .max_blocking_threads(HANDLERS)
            .thread_name("admin-work")
            .build()?;
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("admin".into())
            .spawn(move || {
                runtime.block_on(accept(listener, handler, stopped));
                // Connections still open are cut; answers being made get a moment.
                runtime.shutdown_timeout(STOP_WAIT);
            })?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the admin thread panicked");
            }
        }
    }
}

/// Accepts until `stopped`, each connection a task, at most [`MAX_CONNECTIONS`] at once: a new
/// one past that ends the oldest. Refusing the new one instead would let a client that holds
/// the slots (reopening them as they time out) keep every probe of `/healthz` out; the oldest
/// connections are the ones such a client holds, and a probe is answered within its own turn.
async fn accept(listener: TcpListener, handler: Arc<Handler>, mut stopped: oneshot::Receiver<()>) {
    let mut open: VecDeque<JoinHandle<()>> = VecDeque::with_capacity(MAX_CONNECTIONS + 1);
    let jobs = Arc::new(AtomicUsize::new(0));
    // Failed accepts since the last line about them, and when that went out: said once a
    // minute, not ten times a second.
    let (mut failed, mut said) = (0u64, None::<std::time::Instant>);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait a moment rather than spin.
                    failed += 1;
                    if said.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                        tracing::warn!(
                            error = %e,
                            "admin endpoint: accept failed ({failed} since the last line)"
                        );
                        (failed, said) = (0, Some(std::time::Instant::now()));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        open.retain(|connection| !connection.is_finished());
        if open.len() >= MAX_CONNECTIONS {
            if let Some(oldest) = open.pop_front() {
                tracing::debug!(%peer, "admin endpoint: too many connections, the oldest ended");
                oldest.abort();
            }
        }
        let (handler, jobs) = (Arc::clone(&handler), Arc::clone(&jobs));
        open.push_back(tokio::spawn(async move {
            let service =
                service_fn(move |request| answer(Arc::clone(&handler), Arc::clone(&jobs), request));
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "admin connection ended");
            }
        }));
    }
}

/// One request, answered on a handler thread, or 503 when [`MAX_JOBS`] wait. Its body is left
/// unread.
fn answer(
    handler: Arc<Handler>,
    jobs: Arc<AtomicUsize>,
    request: Request<Incoming>,
) -> impl Future<Output = Result<Response<Full<Bytes>>, io::Error>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    async move {
        let (status, content_type, body) = match Job::take(jobs) {
            Some(job) => {
                let reply = tokio::task::spawn_blocking(move || {
                    let _job = job;
                    handler(&method, &path, &query)
                });
                let reply = reply.await;
                reply.unwrap_or_else(|_| (500, super::TEXT, "internal error\n".into()))
            }
            None => (503, super::TEXT, "busy: too many requests waiting\n".into()),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if status == 405 {
            // Every route is GET (and HEAD) only.
            headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        Ok(response)
    }
}

/// A place among the answers waiting or being made, given back when the answer is made (or
/// dropped unmade at a stop).
struct Job(Arc<AtomicUsize>);

impl Job {
    fn take(jobs: Arc<AtomicUsize>) -> Option<Job> {
        let taken = jobs.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_JOBS).then_some(n + 1)
        });
        taken.ok().map(|_| Job(jobs))
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::mpsc;
    use std::sync::Mutex;

    use super::*;

    /// Past the answers that may wait, a request is answered 503 at once; once they are made,
    /// requests are answered again.
    #[test]
    fn answers_waiting_are_bounded() {
        let (release, released) = mpsc::channel::<()>();
        let released = Mutex::new(released);
        let handler: Arc<Handler> = Arc::new(move |_: &hyper::Method, path: &str, _: &str| {
            if path == "/slow" {
                // Held until the test drops its sender: the handler threads stay busy.
                let _ = released.lock().map(|r| r.recv());
            }
            (200, super::super::TEXT, "ok\n".into())
        });
        let server = Server::start("127.0.0.1:0".parse().unwrap(), handler).unwrap();
        let get = |path: &str| {
            let mut c = std::net::TcpStream::connect(server.addr).unwrap();
            write!(
                c,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            c
        };
        // The answer, or "" when none came in `within`.
        let answer = |mut c: std::net::TcpStream, within: u64| {
            c.set_read_timeout(Some(Duration::from_millis(within)))
                .unwrap();
            let mut text = String::new();
            let _ = c.read_to_string(&mut text);
            text
        };
        let waiting: Vec<_> = (0..MAX_JOBS).map(|_| get("/slow")).collect();
        // A request that finds a place waits behind them (and takes the place): the next tries.
        let refused = (0..MAX_JOBS * 2).find(|_| answer(get("/fast"), 200).contains(" 503 "));
        assert!(
            refused.is_some(),
            "no request was refused past {MAX_JOBS} waiting"
        );
        drop(release);
        for c in waiting {
            assert!(answer(c, 10_000).contains(" 200 "));
        }
        let again = (0..50).find(|_| answer(get("/fast"), 200).contains(" 200 "));
        assert!(again.is_some(), "not answered once the others were");
        server.stop();
    }
}
