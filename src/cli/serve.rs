//! `ztel serve`: the collector in the foreground. Flags override the config file; SIGTERM or
//! SIGINT drains and exits 0, SIGHUP reloads certificates, allow-lists and HTTP keys. Under
//! systemd (`Type=notify`) it says when it is ready and when it stops.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing::Level;

use crate::config::{waiting_for_restart, Address, Config, ConfigError};
use crate::logging::{self, LogFormat};
use crate::run::{self, Control};
use crate::systemd;

#[derive(clap::Args, Clone)]
pub struct ServeArgs {
    /// TOML config file; without it every default applies (`ztel config default` prints them).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Plain TCP syslog address (NSS, LSS); "" disables it. [default: 0.0.0.0:1514]
    #[arg(long, value_name = "ADDR")]
    tcp: Option<Address>,
    /// Plain UDP syslog address (LSS); "" disables it. [default: 0.0.0.0:1514]
    #[arg(long, value_name = "ADDR")]
    udp: Option<Address>,
    /// TLS syslog address (LSS); needs input.tls.cert and key in the config file. [default:
    /// 0.0.0.0:6514, on when the config has a certificate]
    #[arg(long, value_name = "ADDR")]
    tls: Option<Address>,
    /// HTTPS address for Cloud NSS batches; "" disables it. Needs input.http.cert and key in
    /// the config file, or input.http.plain = true for plain HTTP (behind a TLS proxy), and
    /// input.http.keys. [default: "", off]
    #[arg(long, value_name = "ADDR")]
    http: Option<Address>,
    /// Admin HTTP address; "" disables it. [default: 127.0.0.1:9514]
    #[arg(long, value_name = "ADDR")]
    admin: Option<Address>,
    /// Folder for the registry, records, dead letters and histograms. [default: ztel-data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where connection records go: a path (relative to the data dir) or "-" for stdout.
    /// [default: connections.jsonl]
    #[arg(long, value_name = "PATH|-")]
    records: Option<String>,
    /// Executors to run, one per core; 0 = one per online core. [default: 0]
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// How stderr lines are written: text, or one JSON object per line for log shippers.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

impl ServeArgs {
    fn config(&self) -> Result<Config, ConfigError> {
        let args = self.clone();
        let mut c = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let addresses = [
            (args.tcp, &mut c.input.tcp.address),
            (args.udp, &mut c.input.udp.address),
            (args.tls, &mut c.input.tls.address),
            (args.http, &mut c.input.http.address),
            (args.admin, &mut c.admin.address),
        ];
        for (flag, slot) in addresses {
            if let Some(v) = flag {
                *slot = v;
            }
        }
        if let Some(r) = args.records {
            c.output.records = r;
        }
        if let Some(d) = args.data_dir {
            c.data_dir = d;
        }
        if let Some(n) = args.shards {
            c.shards = n;
        }
        // The config file's TLS input is off without a certificate; asked for by flag, it is a
        // mistake to report, not a listener to leave out in silence.
        let tls_asked = args.tls.is_some_and(|a| a.get().is_some());
        if tls_asked && c.input.tls.cert.is_empty() {
            return Err(ConfigError::Invalid {
                key: "--tls".into(),
                message: "needs input.tls.cert and input.tls.key in the --config file".into(),
            });
        }
        c.validate()?;
        Ok(c)
    }
}

/// The configuration that `ztel serve ARGS…` runs with: the file its `--config` names with its
/// flags on top. For running the collector in-process with the same command line.
pub fn config_from_args(args: &[String]) -> Result<Config, String> {
    #[derive(clap::Parser)]
    #[command(name = "ztel serve")]
    struct Line {
        #[command(flatten)]
        serve: ServeArgs,
    }
    let argv = std::iter::once("serve".to_owned()).chain(args.iter().cloned());
    let line = <Line as clap::Parser>::try_parse_from(argv).map_err(|e| e.to_string())?;
    line.serve.config().map_err(|e| e.to_string())
}

/// Runs the collector until a signal drains it.
pub fn main(args: ServeArgs) -> ExitCode {
    // First: caught before the start, and acted on once it is done (below).
    let signals = Signals::new([SIGTERM, SIGINT, SIGHUP]);
    logging::init(args.log_format);
    // A thread that panicked leaves the others waiting on it (the shards on the aggregator, which
    // gives their buffers back): end the process, as release builds do (`panic = "abort"`), in
    // every build, so that a supervisor starts it again rather than it accepting and not reading.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => return fail(format_args!("bad config: {e}")),
    };
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let started = config.clone();
    // Whether the TLS input is off for want of a certificate (said once the others listen).
    let tls_off = !config.input.tls.listens() && config.input.tls.address.get().is_some();
    let tls_address = config.input.tls.address.to_string();
    // Caught before the start, and acted on once it is done: the start opens the device store,
    // and a process a signal ended there (a `systemctl restart` while a large registry loads)
    // left the store's marker behind, which the next start reads as a crash and sets the saved
    // devices aside for.
    let signals = match signals {
        Ok(s) => s,
        Err(e) => return fail(format_args!("cannot watch signals: {e}")),
    };
    let running = match run::start(config) {
        Ok(r) => r,
        Err(e) => return fail(format_args!("{e:#}")),
    };
    let reloader = Box::new(move || args.config());
    if let Err(e) = watch_signals(signals, running.control(), started, reloader) {
        let _ = running.stop();
        return fail(format_args!("cannot watch signals: {e}"));
    }
    // Scripts and tests read these lines to learn the ports when they asked for port 0; TCP
    // comes last, when everything else is up.
    let b = &running.bound;
    let mut inputs = Vec::new();
    for (kind, addr) in [
        ("udp", b.udp),
        ("tls", b.tls),
        ("http", b.http),
        ("admin", running.admin),
        ("tcp", b.tcp),
    ] {
        if let Some(addr) = addr {
            listening(kind, addr, running.shards);
            inputs.push(format!("{kind} {addr}"));
        }
    }
    // The default TLS address without a certificate is the input off (DESIGN §2.2): said, or an
    // LSS receiver pointed at 6514 finds it closed with no word why.
    if tls_off {
        tracing::info!(
            "input.tls: not listening on {tls_address}: no input.tls.cert and key in the config"
        );
    }
    // Only now: systemd starts what is ordered after ztel, and senders may connect.
    systemd::ready(&format!("listening on {}", inputs.join(", ")));
    tracing::info!(
        "serving; SIGTERM or SIGINT drains and exits, SIGHUP reloads certificates, keys and allow-lists"
    );
    match running.wait() {
        Ok(summary) => {
            logging::say(Level::INFO, format_args!("drained: {}", summary.describe()));
            if summary.lost_bytes > 0 {
                // Not a clean drain: a script or systemd must not read it as one.
                return fail(format_args!(
                    "{} bytes of output could be neither written nor spilled, and are lost \
                     (see the lines above)",
                    summary.lost_bytes
                ));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("{e:#}")),
    }
}

/// `ztel: listening KIND ADDR (N shards)`, or in JSON the same message with the input, the
/// address and the shards as fields of their own. The admin endpoint is no input of the shards:
/// its line names no shards.
fn listening(kind: &str, addr: SocketAddr, shards: usize) {
    let spread = match kind {
        "admin" => String::new(),
        _ => format!(" ({})", crate::logging::shards_text(shards)),
    };
    if logging::json() {
        tracing::info!(
            input = kind,
            address = %addr,
            shards,
            "listening {kind} {addr}{spread}"
        );
    } else {
        eprintln!("ztel: listening {kind} {addr}{spread}");
    }
}

/// Like [`super::fail`], in JSON when the lines are JSON.
fn fail(message: fmt::Arguments) -> ExitCode {
    if logging::json() {
        tracing::error!("{message}");
        ExitCode::FAILURE
    } else {
        super::fail(&message.to_string())
    }
}

/// Re-reads the configuration on SIGHUP (the file and the command-line flags on top of it).
type Reloader = Box<dyn Fn() -> Result<Config, ConfigError> + Send>;

/// SIGTERM/SIGINT start the drain (a second SIGINT exits at once; repeated SIGTERMs do not,
/// since supervisors and `timeout` often send more than one). SIGHUP reloads certificates, keys and
/// allow-lists, names the changed keys that wait for a restart, and logs the warnings of the
/// config it read, as the start does. Signals that came during the start are acted on once it is
/// done, a signal sent twice then as once (signal-hook merges what has not been read yet): two
/// Ctrl-Cs during the start drain, they do not exit.
fn watch_signals(
    mut signals: Signals,
    control: Control,
    started: Config,
    reloader: Reloader,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    // Certificates, HTTP keys and allow-lists only: addresses need a restart.
                    match reloader()
                        .map_err(anyhow::Error::from)
                        .and_then(|c| Ok(control.reload(&c).map(|()| c)?))
                    {
                        Ok(read) => {
                            control.reloaded(true);
                            let waiting = waiting_for_restart(&started, &read);
                            if waiting.is_empty() {
                                logging::say(
                                    Level::INFO,
                                    format_args!("reloaded certificates, keys and allow-lists"),
                                );
                            } else {
                                logging::say(
                                    Level::WARN,
                                    format_args!(
                                        "reloaded certificates, keys and allow-lists; changed, and \
                                         applied only at the next start: {}",
                                        waiting.join(", ")
                                    ),
                                );
                            }
                            // As at the start: a reload that applies an empty allow-list refuses
                            // every peer from now on, which must not pass without a word.
                            for warning in read.warnings() {
                                tracing::warn!("{warning}");
                            }
                        }
                        Err(e) => {
                            control.reloaded(false);
                            logging::say(
                                Level::WARN,
                                format_args!("reload failed, keeping the current settings: {e}"),
                            )
                        }
                    }
                    continue;
                }
                if control.is_draining() && signal == SIGINT {
                    logging::say(
                        Level::WARN,
                        format_args!("second signal, exiting without finishing the drain"),
                    );
                    std::process::exit(128 + signal);
                }
                if !control.is_draining() {
                    tracing::info!("signal {signal}: draining");
                    systemd::stopping();
                    control.drain();
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[derive(clap::Parser)]
    struct Line {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// The defaults `--help` shows are written by hand; this keeps them the config's.
    #[test]
    fn help_shows_the_config_defaults() {
        let help = Line::command().render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let c = Config::default();
        let shown = |key: &str, value: String| {
            assert!(
                help.contains(&format!("[default: {value}")),
                "{key} = {value:?} is not in --help:\n{help}"
            );
        };
        shown("input.tcp.address", c.input.tcp.address.to_string());
        shown("input.udp.address", c.input.udp.address.to_string());
        shown("input.tls.address", c.input.tls.address.to_string());
        shown(
            "input.http.address",
            format!("{:?}", c.input.http.address.to_string()),
        );
        shown("admin.address", c.admin.address.to_string());
        shown("data_dir", c.data_dir.display().to_string());
        shown("output.records", c.output.records.clone());
        shown("shards", c.shards.to_string());
    }
}
