//! A shard: one glommio executor pinned to one core, with its own listeners, parsing state and
//! counters. Nothing here is shared with another shard; what leaves a shard leaves as a
//! [`Batch`] on the aggregator's channel.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, TrySendError};
use glommio::{LocalExecutorBuilder, Placement};
use jiff::tz::TimeZone;

use crate::live::Live;
use crate::metrics::Counters;
use crate::pipeline::{Batch, Pipeline};

/// Set once by the signal handler; every shard watches it.
#[derive(Default)]
pub struct Shutdown {
    draining: AtomicBool,
}

impl Shutdown {
    pub fn begin(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Resolves once a drain has begun. Polling a flag keeps signals out of the executors; 50 ms
    /// is invisible next to a drain.
    pub async fn wait(&self) {
        while !self.is_draining() {
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Everything a shard is started with.
pub struct ShardSpec {
    pub index: usize,
    /// The core to pin to; `None` leaves the thread unpinned.
    pub cpu: Option<usize>,
    /// Addresses to bind (port 0 only for the first shard; the others join its ports).
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    /// Allow-lists, keys and certificates, replaced on SIGHUP.
    pub live: Arc<Live>,
    pub limits: ShardLimits,
    pub zone: TimeZone,
    pub tx: Sender<Batch>,
    pub shutdown: Arc<Shutdown>,
}

#[derive(Debug, Clone, Copy)]
pub struct ShardLimits {
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

/// What a shard reports once its listeners are bound (or why it could not start).
pub type Ready = Result<Bound, String>;

/// The addresses a shard actually listens on (port 0 resolved).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
}

/// What became of a batch offered without waiting.
pub enum SendOutcome {
    Sent,
    /// The channel is full: the batch comes back (boxed: it is the rare, large case).
    Full(Box<Batch>),
    /// The aggregator is gone.
    Closed,
}

/// A shard's state, shared by its tasks (all on one thread).
pub struct Shard {
    pub index: usize,
    pub limits: ShardLimits,
    pub pipeline: RefCell<Pipeline>,
    /// Counts made outside a connection's batch (accepts, refusals), sent with the next batch.
    pending: RefCell<Counters>,
    /// Open connections by id, so that a drain can shut their read side.
    connections: RefCell<HashMap<u64, RawFd>>,
    next_connection: Cell<u64>,
    tx: Sender<Batch>,
    pub shutdown: Arc<Shutdown>,
}

impl Shard {
    pub fn count(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.pending.borrow_mut());
    }

    pub fn open_connections(&self) -> usize {
        self.connections.borrow().len()
    }

    pub fn register(&self, fd: RawFd) -> u64 {
        let id = self.next_connection.get();
        self.next_connection.set(id + 1);
        self.connections.borrow_mut().insert(id, fd);
        id
    }

    pub fn unregister(&self, id: u64) {
        self.connections.borrow_mut().remove(&id);
    }

    /// Hands a batch to the aggregator. When the channel is full this waits, and the caller's
    /// socket is not read meanwhile: TCP pushes back on the sender instead of anything being
    /// dropped. Returns false only when the aggregator is gone.
    pub async fn send(&self, mut batch: Batch) -> bool {
        batch
            .counters
            .merge(&std::mem::take(&mut *self.pending.borrow_mut()));
        if batch.is_empty() {
            return true;
        }
        loop {
            batch.sent_at = Some(std::time::Instant::now());
            match self.tx.try_send(batch) {
                Ok(()) => return true,
                Err(TrySendError::Full(b)) => {
                    batch = b;
                    glommio::timer::sleep(Duration::from_micros(250)).await;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
    }

    /// Offers a batch without waiting (for inputs that cannot push back).
    pub fn try_send(&self, mut batch: Batch) -> SendOutcome {
        batch
            .counters
            .merge(&std::mem::take(&mut *self.pending.borrow_mut()));
        if batch.is_empty() {
            return SendOutcome::Sent;
        }
        batch.sent_at = Some(std::time::Instant::now());
        match self.tx.try_send(batch) {
            Ok(()) => SendOutcome::Sent,
            Err(TrySendError::Full(b)) => SendOutcome::Full(Box::new(b)),
            Err(TrySendError::Disconnected(_)) => SendOutcome::Closed,
        }
    }

    /// Stops every connection's reads: each then drains what the kernel holds and ends.
    fn shut_reads(&self) {
        for fd in self.connections.borrow().values() {
            // SAFETY: the fd belongs to a live connection task of this thread, which unregisters
            // it before the stream is dropped; shutdown(2) only changes socket state.
            unsafe {
                libc::shutdown(*fd, libc::SHUT_RD);
            }
        }
    }
}

/// Binds this shard's listeners and starts their loops.
fn bind_inputs(
    shard: &Rc<Shard>,
    live: &Live,
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    tls: Option<SocketAddr>,
    http: Option<SocketAddr>,
) -> Result<(Bound, Vec<glommio::Task<()>>), String> {
    use crate::listen;
    let mut bound = Bound {
        tcp: None,
        udp: None,
        tls: None,
        http: None,
    };
    let mut tasks = Vec::new();
    if let Some(address) = tcp {
        let listener =
            listen::tcp::bind(address).map_err(|e| format!("input.tcp.address {address}: {e}"))?;
        bound.tcp = listener.local_addr().ok();
        tasks.push(glommio::spawn_local(listen::tcp::accept_loop(
            shard.clone(),
            listener,
            live.tcp_allow.clone(),
        )));
    }
    if let Some(address) = udp {
        let socket =
            listen::udp::bind(address).map_err(|e| format!("input.udp.address {address}: {e}"))?;
        bound.udp = socket.local_addr().ok();
        tasks.push(glommio::spawn_local(listen::udp::receive_loop(
            shard.clone(),
            socket,
            live.udp_allow.clone(),
        )));
    }
    if let Some(address) = tls {
        let listener =
            listen::tcp::bind(address).map_err(|e| format!("input.tls.address {address}: {e}"))?;
        bound.tls = listener.local_addr().ok();
        tasks.push(glommio::spawn_local(listen::tls::accept_loop(
            shard.clone(),
            listener,
            live.tls_allow.clone(),
            live.tls.clone(),
        )));
    }
    if let Some(address) = http {
        let listener =
            listen::tcp::bind(address).map_err(|e| format!("input.http.address {address}: {e}"))?;
        bound.http = listener.local_addr().ok();
        // HTTPS exactly when a certificate was loaded at start.
        let https = live.http_tls.load().is_some();
        let input = listen::http::Input {
            allow: live.http_allow.clone(),
            auth: live.http_auth.clone(),
            tls: https.then(|| live.http_tls.clone()),
        };
        tasks.push(glommio::spawn_local(listen::http::accept_loop(
            shard.clone(),
            listener,
            input,
        )));
    }
    Ok((bound, tasks))
}

/// Starts a shard on its own thread. It reports on `ready` once bound, or why it failed.
pub fn spawn(spec: ShardSpec, ready: mpsc::Sender<Ready>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("shard-{:02}", spec.index))
        .spawn(move || run(spec, ready))
}

fn run(spec: ShardSpec, ready: mpsc::Sender<Ready>) {
    let placement = spec.cpu.map_or(Placement::Unbound, Placement::Fixed);
    let executor = match LocalExecutorBuilder::new(placement)
        .name(&format!("shard-{:02}", spec.index))
        .make()
    {
        Ok(ex) => ex,
        Err(e) => {
            let _ = ready.send(Err(format!(
                "io_uring unavailable ({e}): ztel needs Linux 5.8+ with io_uring allowed \
                 (kernel.io_uring_disabled=0, no seccomp filter) and RLIMIT_MEMLOCK of a few MiB"
            )));
            return;
        }
    };
    executor.run(async move {
        let shard = Rc::new(Shard {
            index: spec.index,
            limits: spec.limits,
            pipeline: RefCell::new(Pipeline::new(spec.zone)),
            pending: RefCell::new(Counters::default()),
            connections: RefCell::new(HashMap::new()),
            next_connection: Cell::new(0),
            tx: spec.tx,
            shutdown: spec.shutdown,
        });
        let tasks = match bind_inputs(&shard, &spec.live, spec.tcp, spec.udp, spec.tls, spec.http) {
            Ok((bound, tasks)) => {
                let _ = ready.send(Ok(bound));
                tasks
            }
            Err(message) => {
                let _ = ready.send(Err(message));
                return;
            }
        };
        shard.shutdown.wait().await;
        // Listeners close as their accept loops see the drain; then reads stop and connections
        // finish what the kernel already holds.
        for task in tasks {
            task.await;
        }
        while shard.open_connections() > 0 {
            shard.shut_reads();
            glommio::timer::sleep(Duration::from_millis(20)).await;
        }
        shard.send(Batch::new(shard.index)).await;
    });
}
