//! `ztel serve`: start the aggregator and the shards, wait for a signal, drain, report.

use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::aggregate::{Aggregator, Sinks, Summary};
use crate::config::{parse_address, parse_allow_list, Config};
use crate::parse::time::parse_zone;
use crate::shard::{self, Bound, InputSpec, ShardLimits, ShardSpec, Shutdown};
use crate::sink::Sink;

/// Batches that may wait in the channel per shard before shards stop reading.
const BATCHES_PER_SHARD: usize = 16;

/// Runs the collector until SIGTERM or SIGINT, then drains and returns what it counted.
pub fn run(config: Config) -> anyhow::Result<Summary> {
    let zone = parse_zone(&config.feed_timezone).map_err(anyhow::Error::msg)?;
    let tcp = parse_address("input.tcp.address", &config.input.tcp.address)?;
    let tcp_allow = parse_allow_list("input.tcp.allowed_ips", &config.input.tcp.allowed_ips)?;
    let udp = parse_address("input.udp.address", &config.input.udp.address)?;
    let udp_allow = parse_allow_list("input.udp.allowed_ips", &config.input.udp.allowed_ips)?;
    if !config.input.http.address.is_empty() {
        tracing::warn!(
            "input.http is not implemented in this version; {} is not listened on",
            config.input.http.address
        );
    }
    if !config.input.tls.cert.is_empty() {
        tracing::warn!("input.tls is not implemented in this version; it is not listened on");
    }
    if let Some(addr) = tcp {
        check_port_free("input.tcp.address", addr)?;
    }
    if let Some(addr) = udp {
        check_udp_port_free("input.udp.address", addr)?;
    }

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let open = |path: &str| {
        let path = config.output_path(path);
        Sink::open(&path).with_context(|| format!("cannot open {}", path.display()))
    };
    let sinks = Sinks {
        records: if config.output.records == "-" {
            Sink::open("-".as_ref())?
        } else {
            open(&config.output.records)?
        },
        devices: open(&config.output.devices)?,
        dead_letters: open("dead-letter.jsonl")?,
    };

    let shards = config.shard_count();
    let (tx, rx) = crossbeam_channel::bounded(shards * BATCHES_PER_SHARD);
    let aggregator = Aggregator::new(rx, sinks);
    let aggregator = std::thread::Builder::new()
        .name("aggregator".into())
        .spawn(move || aggregator.run())?;

    let shutdown = Arc::new(Shutdown::default());
    watch_signals(shutdown.clone())?;
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
    let (mut tcp_bound, mut udp_bound) = (tcp, udp);
    let mut failure = None;
    for index in 0..shards {
        let (ready_tx, ready_rx) = mpsc::channel();
        let spec = ShardSpec {
            index,
            cpu: (!cpus.is_empty()).then(|| cpus[index % cpus.len()]),
            tcp: tcp_bound.map(|address| InputSpec {
                address,
                allow: tcp_allow.clone(),
            }),
            udp: udp_bound.map(|address| InputSpec {
                address,
                allow: udp_allow.clone(),
            }),
            limits,
            zone: zone.clone(),
            tx: tx.clone(),
            shutdown: shutdown.clone(),
        };
        handles.push(shard::spawn(spec, ready_tx)?);
        match ready_rx.recv() {
            Ok(Ok(Bound { tcp, udp })) => {
                tcp_bound = tcp_bound.and(tcp);
                udp_bound = udp_bound.and(udp);
            }
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
    // Scripts and tests read these lines to learn the ports when they asked for port 0.
    if let Some(addr) = udp_bound {
        eprintln!("ztel: listening udp {addr} ({shards} shards)");
    }
    if let Some(addr) = tcp_bound {
        eprintln!("ztel: listening tcp {addr} ({shards} shards)");
    }
    tracing::info!(data_dir = %config.data_dir.display(), "serving; SIGTERM or SIGINT drains and exits");

    for h in handles {
        let _ = h.join();
    }
    let summary = aggregator
        .join()
        .map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))?;
    Ok(summary)
}

/// A port held by another program must be a clear error, not a silent share: SO_REUSEPORT
/// would let a second collector of the same user split the traffic.
fn check_port_free(key: &str, addr: SocketAddr) -> anyhow::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Ok(()),
        Err(e) => bail!("{key} {addr}: {e}"),
    }
}

fn check_udp_port_free(key: &str, addr: SocketAddr) -> anyhow::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    match std::net::UdpSocket::bind(addr) {
        Ok(_) => Ok(()),
        Err(e) => bail!("{key} {addr}: {e}"),
    }
}

/// The first SIGTERM/SIGINT starts the drain. A second SIGINT (Ctrl-C twice) exits at once;
/// repeated SIGTERMs do not, since supervisors and `timeout` often send more than one.
fn watch_signals(shutdown: Arc<Shutdown>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if shutdown.is_draining() && signal == SIGINT {
                    eprintln!("ztel: second signal, exiting without finishing the drain");
                    std::process::exit(128 + signal);
                }
                if !shutdown.is_draining() {
                    tracing::info!("signal {signal}: draining");
                    shutdown.begin();
                }
            }
        })?;
    Ok(())
}
