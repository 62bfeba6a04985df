//! The executors: one glommio `LocalExecutor` per shard, pinned to a core, each binding every
//! input with SO_REUSEPORT so that the kernel spreads peers over the cores. A drain closes the
//! listeners, waits for the shard's connections to read what was sent, and hands the last counts
//! to the aggregator.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};
use wire::format::csv::Columns;

use crate::batch::channel::BatchSender;
use crate::batch::pool::Pool;
use crate::input::{self, live::Live};
use crate::pipeline::{Pipeline, Zones};
use crate::shard::handoff::{Exchange, Inbox, Presence};
use crate::shard::shutdown::Shutdown;
use crate::shard::{Shard, ShardLimits};

/// Everything a shard is started with.
pub struct ShardSpec {
    pub index: usize,
    /// The core to pin to; `None` leaves the thread unpinned.
    pub cpu: Option<usize>,
    /// Addresses to bind (port 0 only for the first shard; the others join its ports).
    pub addresses: Bound,
    /// Allow-lists, keys and certificates, replaced on SIGHUP.
    pub live: Arc<Live>,
    pub limits: ShardLimits,
    /// Each input's feed zone.
    pub zones: Zones,
    /// Field orders of positional feeds.
    pub columns: Columns,
    pub tx: BatchSender,
    /// Where the aggregator returns this shard's batches.
    pub pool: Pool,
    /// The shards' inboxes for hot connections, and this shard's own.
    pub exchange: Arc<Exchange>,
    pub inbox: Inbox,
    /// Held until this shard's connections have ended, however it ends.
    pub presence: Presence,
    pub shutdown: Arc<Shutdown>,
}

/// What a shard reports once its listeners are bound (or why it could not start).
pub type Ready = Result<Bound, String>;

/// The addresses of the inputs: what to bind, then what is bound (port 0 resolved).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bound {
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
}

/// How often a shard sends the counts no batch carried: twice a second, so `/metrics` shows a
/// refused peer within a second whether or not records flow.
const COUNTS_EVERY: Duration = Duration::from_millis(500);

/// Starts a shard on its own thread. It reports on `ready` once bound, or why it failed.
pub fn spawn(spec: ShardSpec, ready: mpsc::Sender<Ready>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("shard-{:02}", spec.index))
        .spawn(move || run(spec, ready))
}

fn run(spec: ShardSpec, ready: mpsc::Sender<Ready>) {
    // However this shard ends, the others stop waiting for chunks from it.
    let mut presence = spec.presence;
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
        let shard = Rc::new(
            Shard::new(
                spec.index,
                spec.limits,
                Pipeline::with(spec.zones, spec.columns),
                spec.tx,
                spec.shutdown,
            )
            .with_pool(spec.pool)
            .with_exchange(spec.exchange),
        );
        let listeners = match bind_inputs(&shard, &spec.live, spec.addresses) {
            Ok((bound, tasks)) => {
                let _ = ready.send(Ok(bound));
                tasks
            }
            Err(message) => {
                let _ = ready.send(Err(message));
                return;
            }
        };
        let handoffs = glommio::spawn_local(input::handoff::serve(shard.clone(), spec.inbox));
        let counts = shard.clone();
        let ticker =
            glommio::spawn_local(async move { counts.send_counts_every(COUNTS_EVERY).await });
        // Each listener's loop ends when the drain begins; then every connection shuts its read
        // side, reads what the kernel already holds, and ends.
        for task in listeners {
            task.await;
        }
        shard.close_connections().await;
        // No connection of this shard hands anything off now; the others' may still, until
        // they drain too.
        presence.leave();
        handoffs.await;
        // The ticker holds the shard, and with it the channel's sender that the aggregator
        // waits to see dropped: it must end before the shard does.
        ticker.await;
        shard.send_pending().await;
    });
}

/// Binds this shard's listeners and starts their loops.
fn bind_inputs(
    shard: &Rc<Shard>,
    live: &Live,
    addresses: Bound,
) -> Result<(Bound, Vec<glommio::Task<()>>), String> {
    let mut bound = Bound::default();
    let mut tasks = Vec::new();
    if let Some(address) = addresses.tcp {
        let listener =
            input::tcp::bind(address).map_err(|e| format!("input.tcp.address {address}: {e}"))?;
        bound.tcp = listener.local_addr().ok();
        tasks.push(glommio::spawn_local(input::tcp::accept_loop(
            shard.clone(),
            listener,
            live.tcp_allow.clone(),
        )));
    }
    if let Some(address) = addresses.udp {
        let socket =
            input::udp::bind(address).map_err(|e| format!("input.udp.address {address}: {e}"))?;
        bound.udp = socket.local_addr().ok();
        tasks.push(glommio::spawn_local(input::udp::receive_loop(
            shard.clone(),
            socket,
            live.udp_allow.clone(),
        )));
    }
    if let Some(address) = addresses.tls {
        let listener =
            input::tcp::bind(address).map_err(|e| format!("input.tls.address {address}: {e}"))?;
        bound.tls = listener.local_addr().ok();
        tasks.push(glommio::spawn_local(input::tls::accept_loop(
            shard.clone(),
            listener,
            live.tls_allow.clone(),
            live.tls.clone(),
        )));
    }
    if let Some(address) = addresses.http {
        let listener =
            input::tcp::bind(address).map_err(|e| format!("input.http.address {address}: {e}"))?;
        bound.http = listener.local_addr().ok();
        // HTTPS exactly when a certificate was loaded at start.
        let https = live.http_tls.load().is_some();
        let http = input::http::Input {
            allow: live.http_allow.clone(),
            auth: live.http_auth.clone(),
            tls: https.then(|| live.http_tls.clone()),
        };
        tasks.push(glommio::spawn_local(input::http::accept_loop(
            shard.clone(),
            listener,
            http,
        )));
    }
    Ok((bound, tasks))
}
