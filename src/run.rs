//! `ztel serve`: start the aggregator, the admin endpoint and the shards; wait for a signal;
//! drain; report.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::admin::{Admin, AdminState};
use crate::aggregate::{Aggregator, Sinks, Summary};
use crate::attribution::Attribution;
use crate::config::{parse_address, Config, ConfigError};
use crate::latency::IntervalLog;
use crate::live::Live;
use crate::parse::time::parse_zone;
use crate::shard::{self, Bound, ShardLimits, ShardSpec, Shutdown};
use crate::sink::Sink;
use crate::store::Store;

/// Batches that may wait in the channel per shard before shards stop reading.
const BATCHES_PER_SHARD: usize = 16;
/// ZPA connections the attribution table remembers.
const ATTRIBUTION_CAPACITY: usize = 1 << 20;
/// How long after its end a ZPA connection is still attributed: sensors see the last packets
/// and flow records of a connection a little after LSS reports it closed.
const ATTRIBUTION_GRACE: Duration = Duration::from_secs(300);

/// Re-reads the configuration on SIGHUP (the file and the command-line flags on top of it).
pub type Reloader = Box<dyn Fn() -> Result<Config, ConfigError> + Send>;

/// Runs the collector until SIGTERM or SIGINT, then drains and returns what it counted.
pub fn run(config: Config, reloader: Reloader) -> anyhow::Result<Summary> {
    let zone = parse_zone(&config.feed_timezone).map_err(anyhow::Error::msg)?;
    let tcp = parse_address("input.tcp.address", &config.input.tcp.address)?;
    let udp = parse_address("input.udp.address", &config.input.udp.address)?;
    let live = Arc::new(Live::load(&config)?);
    // TLS listens only with a certificate (DESIGN §2.2).
    let tls = if live.tls.load().is_some() {
        parse_address("input.tls.address", &config.input.tls.address)?
    } else {
        None
    };
    let admin_addr = parse_address("admin.address", &config.admin.address)?;
    let http = parse_address("input.http.address", &config.input.http.address)?;
    if let Some(addr) = http {
        warn_http(&config, addr, live.http_tls.load().is_some());
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

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let rotate = Some(config.output.rotate_bytes);
    let open = |path: &str| -> anyhow::Result<Sink> {
        if path == "-" {
            return Ok(Sink::stdout());
        }
        let path = config.output_path(path);
        let (sink, repair) =
            Sink::open(&path, rotate).with_context(|| format!("cannot open {}", path.display()))?;
        if let Some(r) = repair {
            eprintln!(
                "ztel: {} ended in a torn line (a crash?): cut {} bytes, kept in {}",
                r.path.display(),
                r.removed,
                r.kept_in.display()
            );
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
    let store = Store::open(&config.data_dir.join("devices.redb"))?;
    let saved = store.load()?;
    let known = saved.len();
    let sinks = Sinks {
        records: open(&config.output.records)?,
        devices: open(&config.output.devices)?,
        dead_letters: open("dead-letter.jsonl")?,
        latency,
        store,
    };

    let state = Arc::new(AdminState::new(Attribution::new(
        ATTRIBUTION_CAPACITY,
        ATTRIBUTION_GRACE,
    )));
    if let Ok(mut registry) = state.registry.lock() {
        for (id, device) in saved {
            registry.insert(id, device);
        }
    }
    if known > 0 {
        tracing::info!("{known} devices known from earlier runs");
    }
    let admin = match admin_addr {
        Some(addr) => Some(
            Admin::start(addr, state.clone()).with_context(|| format!("admin.address {addr}"))?,
        ),
        None => None,
    };

    let shards = config.shard_count();
    let (tx, rx) = crossbeam_channel::bounded(shards * BATCHES_PER_SHARD);
    let interval = Duration::from_secs(config.histograms.interval_secs);
    let aggregator = Aggregator::new(
        rx,
        sinks,
        state.clone(),
        shards,
        interval,
        config.data_dir.clone(),
    );
    let aggregator = std::thread::Builder::new()
        .name("aggregator".into())
        .spawn(move || aggregator.run())?;

    let shutdown = Arc::new(Shutdown::default());
    watch_signals(shutdown.clone(), state.clone(), live.clone(), reloader)?;
    let cpus: Vec<usize> = glommio::CpuSet::online()
        .map(|set| set.into_iter().map(|l| l.cpu).collect())
        .unwrap_or_default();
    let limits = ShardLimits {
        max_frame_bytes: config.limits.max_frame_bytes,
        max_connections: config.limits.max_connections,
        idle_timeout: Duration::from_secs(config.limits.idle_timeout_secs),
    };

    // Shard 0 binds first so that a port of 0 is resolved once and the others join that port.
    let mut handles = Vec::with_capacity(shards);
    let mut bound = Bound {
        tcp,
        udp,
        tls,
        http,
    };
    let mut failure = None;
    for index in 0..shards {
        let (ready_tx, ready_rx) = mpsc::channel();
        let spec = ShardSpec {
            index,
            cpu: (!cpus.is_empty()).then(|| cpus[index % cpus.len()]),
            tcp: bound.tcp,
            udp: bound.udp,
            tls: bound.tls,
            http: bound.http,
            live: live.clone(),
            limits,
            zone: zone.clone(),
            tx: tx.clone(),
            shutdown: shutdown.clone(),
        };
        handles.push(shard::spawn(spec, ready_tx)?);
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
    if let Some(message) = failure {
        shutdown.begin();
        for h in handles {
            let _ = h.join();
        }
        let _ = aggregator.join();
        bail!(message);
    }
    // Scripts and tests read these lines to learn the ports when they asked for port 0; TCP
    // comes last, when everything else is up.
    for (kind, addr) in [
        ("udp", bound.udp),
        ("tls", bound.tls),
        ("http", bound.http),
        ("admin", admin.as_ref().map(|a| a.addr)),
        ("tcp", bound.tcp),
    ] {
        if let Some(addr) = addr {
            eprintln!("ztel: listening {kind} {addr} ({shards} shards)");
        }
    }
    tracing::info!(data_dir = %config.data_dir.display(), "serving; SIGTERM or SIGINT drains and exits, SIGHUP reloads certificates and allow-lists");

    for h in handles {
        let _ = h.join();
    }
    let summary = aggregator
        .join()
        .map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))?;
    if let Some(admin) = admin {
        admin.stop();
    }
    Ok(summary)
}

/// What an operator should know about the HTTP input before the first request arrives.
fn warn_http(config: &Config, addr: SocketAddr, https: bool) {
    if !https && !addr.ip().is_loopback() {
        tracing::warn!(
            "input.http serves plain HTTP on {addr}: keys and records cross the network in \
             clear; set input.http.cert and key (Cloud NSS posts over HTTPS), or keep it behind \
             a TLS-terminating proxy on the same host"
        );
    }
    if config.input.http.keys.is_empty() {
        tracing::warn!("input.http.keys is empty: every request on {addr} is refused (403)");
    }
}

/// A port held by another program must be a clear error, not a silent share: SO_REUSEPORT
/// would let a second collector of the same user split the traffic.
fn check_port_free(key: &str, addr: SocketAddr, udp: bool) -> anyhow::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let result = if udp {
        std::net::UdpSocket::bind(addr).map(drop)
    } else {
        std::net::TcpListener::bind(addr).map(drop)
    };
    result.map_err(|e| anyhow::anyhow!("{key} {addr}: {e}"))
}

/// SIGTERM/SIGINT start the drain (a second SIGINT exits at once; repeated SIGTERMs do not,
/// since supervisors and `timeout` often send more than one). SIGHUP reloads certificates and
/// allow-lists.
fn watch_signals(
    shutdown: Arc<Shutdown>,
    state: Arc<AdminState>,
    live: Arc<Live>,
    reloader: Reloader,
) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    // Certificates and allow-lists only: addresses need a restart.
                    match reloader()
                        .map_err(anyhow::Error::from)
                        .and_then(|c| Ok(live.reload(&c)?))
                    {
                        Ok(()) => eprintln!("ztel: reloaded certificates and allow-lists"),
                        Err(e) => {
                            eprintln!("ztel: reload failed, keeping the current settings: {e}")
                        }
                    }
                    continue;
                }
                if shutdown.is_draining() && signal == SIGINT {
                    eprintln!("ztel: second signal, exiting without finishing the drain");
                    std::process::exit(128 + signal);
                }
                if !shutdown.is_draining() {
                    tracing::info!("signal {signal}: draining");
                    state.draining.store(true, Ordering::SeqCst);
                    shutdown.begin();
                }
            }
        })?;
    Ok(())
}
