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
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "admin endpoint: accept failed");
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
        let handler = Arc::clone(&handler);
        open.push_back(tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&handler), request));
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

/// One request, answered on a handler thread. Its body is left unread.
fn answer(
    handler: Arc<Handler>,
    request: Request<Incoming>,
) -> impl Future<Output = Result<Response<Full<Bytes>>, io::Error>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    async move {
        let reply = tokio::task::spawn_blocking(move || handler(&method, &path, &query)).await;
        let (status, content_type, body) =
            reply.unwrap_or_else(|_| (500, super::TEXT, "internal error\n".into()));
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
