//! Running the collector: start the aggregator, the admin endpoint and the shards, and later drain
//! them. `ztel serve` drives it from signals; tests drive it in-process through [`Running`].

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::aggregate::attribution::Attribution;
use crate::aggregate::dedup::Window;
use crate::aggregate::latency::IntervalLog;
use crate::aggregate::registry::{merge_tail, Registry};
use crate::aggregate::saver::Saver;
use crate::aggregate::state::Shared;
use crate::aggregate::store::{Encoded, Store};
use crate::aggregate::{Aggregator, Sinks, Summary, DEDUP_WINDOW};
use crate::batch;
use crate::batch::Source;
use crate::config::Config;
use crate::executor::{self, Bound, ShardSpec};
use crate::input::live::{Live, LoadError};
use crate::logging;
use crate::obs::admin::Admin;
use crate::shard::shutdown::Shutdown;
use crate::shard::ShardLimits;
use crate::sink::{Place, Sink};

/// Batches that may wait in the channel per shard before shards stop reading.
const BATCHES_PER_SHARD: usize = 16;
/// ZPA connections the attribution table remembers.
const ATTRIBUTION_CAPACITY: usize = 1 << 20;
/// How long after its end a ZPA connection is still attributed: sensors see the last packets
/// and flow records of a connection a little after LSS reports it closed.
const ATTRIBUTION_GRACE: Duration = Duration::from_secs(300);
/// How long a ZPA connection stays in the table after that, for lookups of earlier times: a
/// sensor that enriches its flows some minutes late, or a feed's delayed records, still get an
/// answer. Bounded by the capacity, which drops these first.
const ATTRIBUTION_RETAIN: Duration = Duration::from_secs(3600);

/// A collector that is serving.
pub struct Running {
    /// Where each input listens (port 0 resolved).
    pub bound: Bound,
    /// Where the admin endpoint listens.
    pub admin: Option<SocketAddr>,
    pub shards: usize,
    control: Control,
    admin_server: Option<Admin>,
    executors: Vec<JoinHandle<()>>,
    aggregator: JoinHandle<Summary>,
    /// The NATS thread (`[output.nats]`): it ends after the aggregator's last batch.
    nats: Option<JoinHandle<()>>,
}

/// What may be done to a running collector from another thread (a signal handler, a test).
#[derive(Clone)]
pub struct Control {
    shutdown: Arc<Shutdown>,
    shared: Arc<Shared>,
    live: Arc<Live>,
}

impl Control {
    /// Begins the drain: stop accepting, read what was sent, flush, persist.
    pub fn drain(&self) {
        self.shared.draining.store(true, Ordering::SeqCst);
        self.shutdown.begin();
    }

    pub fn is_draining(&self) -> bool {
        self.shutdown.is_draining()
    }

    /// Swaps in the certificates, allow-lists and HTTP keys of `config`; connections stay up.
    pub fn reload(&self, config: &Config) -> Result<(), LoadError> {
        self.live.reload(config)?;
        self.live.note_expiry(&self.shared.cert_expiry, config);
        Ok(())
    }

    /// Counts a reload that applied (`ok`) or failed, for `/metrics`.
    pub fn reloaded(&self, ok: bool) {
        self.shared.reloads[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
        self.shared.reload_failed.store(!ok, Ordering::Relaxed);
    }
}

impl Running {
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Drains and waits for everything to stop; returns what was counted.
    pub fn stop(self) -> anyhow::Result<Summary> {
        self.control.drain();
        self.wait()
    }

    /// Waits until a drain (begun through [`Control::drain`]) has finished.
    pub fn wait(self) -> anyhow::Result<Summary> {
        for h in self.executors {
            let _ = h.join();
        }
        let summary = self
            .aggregator
            .join()
            .map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))?;
        if let Some(nats) = self.nats {
            let _ = nats.join();
        }
        if let Some(admin) = self.admin_server {
            admin.stop();
        }
        Ok(summary)
    }
}

/// Starts the collector. Errors are one line that names the key at fault (a port in use, a file
/// that cannot be opened, io_uring missing).
pub fn start(config: Config) -> anyhow::Result<Running> {
    // Before anything starts: without enough of it no shard can.
    crate::memlock::check(config.shard_count())?;
    let connections = config.shard_count() as u64 * config.limits.max_connections as u64;
    crate::nofile::check(connections);
    let zones = crate::pipeline::Zones(config.zones()?);
    let columns = config.columns()?;
    let tcp = config.input.tcp.address.get();
    let udp = config.input.udp.address.get();
    let live = Arc::new(Live::load(&config)?);
    // TLS listens only with a certificate (DESIGN §2.2).
    let tls = if live.tls.load().is_some() {
        config.input.tls.address.get()
    } else {
        None
    };
    let admin_addr = config.admin.address.get();
    let http = config.input.http.address.get();
    if let Some(addr) = http {
        warn_http(addr, live.http_tls.load().is_some());
    }
    for (key, addr) in [
        ("input.tcp.address", tcp),
        ("input.tls.address", tls),
        ("input.http.address", http),
    ] {
        if let Some(addr) = addr {
            check_port_free(key, addr, false)?;
        }
    }
    if let Some(addr) = udp {
        check_port_free("input.udp.address", addr, true)?;
    }

    crate::data_dir::prepare(&config.data_dir)?;
    let (store, mut registry) =
        Store::open_and_load(&config.data_dir.join(crate::config::STORE_FILE))?;
    if !registry.is_empty() {
        tracing::info!("{} devices known from earlier runs", registry.len());
    }
    // Unknown, the devices file's tail is not merged: a device may be announced again.
    let through = store.devices_through().unwrap_or_else(|e| {
        tracing::warn!("{e}: the devices file's last events are not merged");
        None
    });
    let mut sinks = open_sinks(&config, store, through)?;
    // The window first: it reads the list of identities written ahead of the records file's
    // last write, against the file as that write left it (rotated away, when torn).
    let window = config.data_dir.join(crate::config::WINDOW_FILE);
    let records = Some(config.output.records.as_str())
        .filter(|&r| r != "-")
        .map(|r| config.output_path(r));
    let mut recent = Window::open(&window, DEDUP_WINDOW, records.as_deref())
        .with_context(|| format!("cannot open {}", window.display()))?;
    // Before anything else is written, and before the devices file's tail is merged: a devices
    // spill's events are that tail.
    let spills = crate::aggregate::read_back_spills(&config.data_dir, &mut sinks, &mut recent);
    // NATS before anything listens: refused credentials stop the start here, in one line.
    let mut nats = if config.output.nats.url.trim().is_empty() {
        None
    } else {
        Some(crate::sink::nats::start(
            &config.output.nats,
            &config.data_dir,
        )?)
    };
    merge_devices_tail(
        &config,
        &mut registry,
        &sinks,
        through,
        nats.as_mut().map(|n| &mut n.outbox),
    );
    // Devices announced in the file are known whatever the bound: it stops new ones only.
    registry.bound(config.limits.max_devices);
    let listening = [
        (Source::Tcp, tcp),
        (Source::Udp, udp),
        (Source::Tls, tls),
        (Source::Http, http),
    ];
    // The table saved at the last clean stop is loaded by the aggregator, as it starts.
    let shared = Arc::new(
        Shared::new(
            Attribution::new(ATTRIBUTION_CAPACITY, ATTRIBUTION_GRACE).retaining(ATTRIBUTION_RETAIN),
            registry,
            listening
                .iter()
                .filter(|(_, a)| a.is_some())
                .map(|(s, _)| *s)
                .collect(),
        )
        .loading_attribution(),
    );
    live.note_expiry(&shared.cert_expiry, &config);
    let nats_thread = match nats {
        Some(n) => {
            let _ = shared.nats.set(n.link);
            sinks.nats = Some(n.outbox);
            Some(n.thread)
        }
        None => None,
    };
    let admin_server = match admin_addr {
        Some(addr) => Some(
            Admin::start(addr, shared.clone()).with_context(|| format!("admin.address {addr}"))?,
        ),
        None => None,
    };

    let shards = config.shard_count();
    let (tx, rx) = batch::channel::bounded(shards * BATCHES_PER_SHARD);
    // A shard can have at most the channel's batches in flight; a few more are on their way back.
    let (pools, returns) = batch::pool::per_shard(shards, shards * BATCHES_PER_SHARD + 4);
    let rx = rx.returning(returns);
    let (exchange, inboxes) = crate::shard::handoff::exchange(shards);
    let interval = Duration::from_secs(config.histograms.interval_secs);
    let aggregator = Aggregator::new(
        rx,
        sinks,
        shared.clone(),
        shards,
        interval,
        config.data_dir.clone(),
        recent,
    )
    .with_spills(spills);
    let aggregator = std::thread::Builder::new()
        .name("aggregator".into())
        .spawn(move || aggregator.run())?;

    let control = Control {
        shutdown: Arc::new(Shutdown::default()),
        shared,
        live: live.clone(),
    };
    let cpus: Vec<usize> = glommio::CpuSet::online()
        .map(|set| set.into_iter().map(|l| l.cpu).collect())
        .unwrap_or_default();
    let limits = ShardLimits {
        max_frame_bytes: config.limits.max_frame_bytes,
        max_connections: config.limits.max_connections,
        idle_timeout: Duration::from_secs(config.limits.idle_timeout_secs),
        buffer_budget: config.limits.buffer_budget_bytes,
    };

    // Shard 0 binds first so that a port of 0 is resolved once and the others join that port.
    let mut executors = Vec::with_capacity(shards);
    let mut bound = Bound {
        tcp,
        udp,
        tls,
        http,
    };
    let mut failure = None;
    for (index, (pool, (inbox, presence))) in pools.into_iter().zip(inboxes).enumerate() {
        let (ready_tx, ready_rx) = mpsc::channel();
        let spec = ShardSpec {
            index,
            cpu: (!cpus.is_empty()).then(|| cpus[index % cpus.len()]),
            addresses: bound,
            live: live.clone(),
            limits,
            zones: zones.clone(),
            columns: columns.clone(),
            tx: tx.clone(),
            pool,
            exchange: exchange.clone(),
            inbox,
            presence,
            shutdown: control.shutdown.clone(),
        };
        executors.push(executor::spawn(spec, ready_tx)?);
        match ready_rx.recv() {
            Ok(Ok(b)) => bound = b,
            Ok(Err(message)) => {
                failure = Some(message);
                break;
            }
            Err(_) => {
                failure = Some(format!("shard {index} stopped while starting"));
                break;
            }
        }
    }
    drop(tx);
    let running = Running {
        bound,
        admin: admin_server.as_ref().map(|a| a.addr),
        shards,
        control,
        admin_server,
        executors,
        aggregator,
        nats: nats_thread,
    };
    if let Some(message) = failure {
        let _ = running.stop();
        bail!(message);
    }
    running
        .control
        .shared
        .listening
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(running)
}

/// Merges into the registry the device events the devices file holds past what the saved
/// registry knows (`registry/tail.rs`): a crash came between their writes and its save.
fn merge_devices_tail(
    config: &Config,
    registry: &mut Registry,
    sinks: &Sinks,
    through: Option<crate::sink::Place>,
    nats: Option<&mut crate::sink::nats::outbox::Outbox>,
) {
    let path = config.output_path(&config.output.devices);
    let now = sinks.devices.place();
    // Not merged, they cost repeated events, not lost ones: no reason not to start.
    let merged = match merge_tail(registry, &path, now, through, nats) {
        Ok(merged) => merged,
        Err(e) => {
            tracing::warn!(
                "cannot read the last events of {}: {e}; a device announced in the last second \
                 before a crash may be announced again",
                path.display()
            );
            return;
        }
    };
    if merged.events > 0 || merged.unreadable > 0 {
        tracing::info!(
            "{}: {} device events written after the registry's last save (a crash?) merged \
             into it, {} devices changed{}",
            path.display(),
            merged.events,
            merged.devices,
            if merged.unreadable > 0 {
                format!(
                    "; {} lines that are no device event skipped",
                    merged.unreadable
                )
            } else {
                String::new()
            }
        );
    }
}

/// The dead-letter file rotates at this size (or `output.rotate_bytes` if smaller)...
const DEAD_LETTER_ROTATE: u64 = 64 << 20;
/// ...and this many rotated dead-letter files are kept.
const DEAD_LETTER_FILES: usize = 4;

/// The aggregator's outputs, in `data_dir` unless a path says otherwise.
/// `through`: the place in the devices file the saved registry holds every event before.
fn open_sinks(config: &Config, mut store: Store, through: Option<Place>) -> anyhow::Result<Sinks> {
    let rotate = config.output.rotate_bytes;
    let open = |path: &str, rotate: u64| -> anyhow::Result<Sink> {
        if path == "-" {
            return Ok(Sink::stdout());
        }
        let path = config.output_path(path);
        let (sink, repair) = Sink::open(&path, Some(rotate))
            .with_context(|| format!("cannot open {}", path.display()))?;
        if let Some(r) = repair {
            logging::say(tracing::Level::WARN, format_args!("{r}"));
        }
        Ok(sink)
    };
    let hlog = config.output_path(&config.histograms.log);
    let latency = match IntervalLog::create(&hlog) {
        Ok(log) => Some(log),
        Err(e) => {
            // Records matter more than their latency log: say so and go on.
            tracing::error!(
                "histograms.log {}: {e}; latency is not logged",
                hlog.display()
            );
            None
        }
    };
    let records = open(&config.output.records, rotate)?;
    let devices = open(&config.output.devices, rotate)?;
    // A store that never noted a place (new, set aside, or of an earlier version) holds every
    // event of the file as it is now, as far as anyone can tell: noted before anything is
    // written, a crash before the first save merges this run's events.
    if let (None, Some(place)) = (through, devices.place()) {
        let mut noted = Encoded::default();
        noted.through = Some(place);
        if let Err(e) = store.save(&noted) {
            tracing::warn!("{e}: the devices file's events of this run may be announced again");
        }
    }
    Ok(Sinks {
        records,
        devices,
        // Every dead letter is also counted, so the file is a sample that may be bounded: a
        // flood of bad input must not fill the disk the records need.
        dead_letters: open(
            crate::config::DEAD_LETTER_FILE,
            rotate.min(DEAD_LETTER_ROTATE),
        )?
        .keep_rotated(DEAD_LETTER_FILES),
        latency,
        saver: Saver::start(store).context("cannot start the registry's thread")?,
        nats: None,
    })
}

/// What an operator should know about the HTTP input before the first request arrives (an
/// empty `keys` is among the config's own warnings).
fn warn_http(addr: SocketAddr, https: bool) {
    if !https && !addr.ip().is_loopback() {
        tracing::warn!(
            "input.http serves plain HTTP on {addr}: keys and records cross the network in \
             clear; set input.http.cert and key (Cloud NSS posts over HTTPS), or keep it behind \
             a TLS-terminating proxy on the same host"
        );
    }
}

/// A port held by another program must be a clear error, not a silent share: SO_REUSEPORT
/// would let a second collector of the same user split the traffic. A port in use is tried
/// again for [`PORT_PATIENCE`]: the listeners of a collector that was killed (`kill -9`, a
/// crash) are closed by io_uring's teardown a moment after its process is gone, and a collector
/// restarted at once by its supervisor found its ports in use until then, often.
fn check_port_free(key: &str, addr: SocketAddr, udp: bool) -> anyhow::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let bind = || {
        if udp {
            std::net::UdpSocket::bind(addr).map(drop)
        } else {
            std::net::TcpListener::bind(addr).map(drop)
        }
    };
    let deadline = Instant::now() + PORT_PATIENCE;
    loop {
        match bind() {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(PORT_RETRY_EVERY);
            }
            result => return result.map_err(|e| anyhow::anyhow!("{key} {addr}: {e}")),
        }
    }
}

/// How long a port in use is tried again at start ([`check_port_free`]), and how often.
const PORT_PATIENCE: Duration = Duration::from_secs(2);
const PORT_RETRY_EVERY: Duration = Duration::from_millis(20);
