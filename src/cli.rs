//! The command line (DESIGN §2.1).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "ztel",
    version,
    about = "A thread-per-core collector for Zscaler ZIA (NSS) and ZPA (LSS) telemetry",
    long_about = "ztel receives ZIA web logs from NSS and ZPA user activity from LSS, keeps a \
                  registry of devices by hostname and writes connection records as JSON Lines."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector in the foreground until SIGTERM or SIGINT, then drain and exit.
    Serve(ServeArgs),
    /// Print or check configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the feed template to paste into the Zscaler admin portal.
    FeedFormat {
        #[arg(value_enum)]
        feed: Feed,
    },
    /// Print the percentiles of a latency histogram log (.hlog), or plot them as SVG.
    Hist {
        /// HdrHistogram interval log, as written by ztel or loadgen --hist.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Only this tag (read_to_sink, channel_wait, parse_batch, send_lateness, ...).
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
        /// Also draw the percentile plot (log scale of 1/(1-p)) to this SVG file.
        #[arg(long, value_name = "OUT.svg")]
        plot: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// TOML config file; without it every default applies.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Plain TCP syslog address (NSS, LSS); "" disables it.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<String>,
    /// Plain UDP syslog address (LSS); "" disables it.
    #[arg(long, value_name = "ADDR")]
    udp: Option<String>,
    /// TLS syslog address (LSS); "" disables it.
    #[arg(long, value_name = "ADDR")]
    tls: Option<String>,
    /// HTTPS address for Cloud NSS batches; "" disables it.
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// Admin HTTP address; "" disables it.
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,
    /// Folder for the registry, records, dead letters and histograms.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where connection records go: a path (relative to the data dir) or "-" for stdout.
    #[arg(long, value_name = "PATH|-")]
    records: Option<String>,
    /// Executors to run, one per core; 0 = one per online core.
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the full default configuration as commented TOML.
    Default,
    /// Validate a configuration file.
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Feed {
    /// NSS Feed Output Format for a ZIA Web Log feed.
    ZiaWeb,
    /// LSS Log Stream Content for a ZPA User Activity log receiver.
    ZpaUserActivity,
}

impl ServeArgs {
    fn config(&self) -> Result<Config, crate::config::ConfigError> {
        let args = self.clone();
        let mut c = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let overrides = [
            (args.tcp, &mut c.input.tcp.address),
            (args.udp, &mut c.input.udp.address),
            (args.tls, &mut c.input.tls.address),
            (args.http, &mut c.input.http.address),
            (args.admin, &mut c.admin.address),
            (args.records, &mut c.output.records),
        ];
        for (flag, slot) in overrides {
            if let Some(v) = flag {
                *slot = v;
            }
        }
        if let Some(d) = args.data_dir {
            c.data_dir = d;
        }
        if let Some(n) = args.shards {
            c.shards = n;
        }
        c.validate()?;
        Ok(c)
    }
}

/// Parses the command line and runs it; errors are one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logging();
            let config = match args.config() {
                Ok(c) => c,
                Err(e) => return fail(&format!("bad config: {e}")),
            };
            let reloader = Box::new(move || args.config());
            match crate::run::run(config, reloader) {
                Ok(summary) => {
                    eprintln!(
                        "ztel: drained: {} devices={}{}",
                        summary.totals.summary(),
                        summary.devices,
                        if summary.sink_errors > 0 {
                            format!(" sink_errors={}", summary.sink_errors)
                        } else {
                            String::new()
                        }
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("{e:#}")),
            }
        }
        Command::Config(ConfigCommand::Default) => {
            print!("{}", crate::config::DEFAULT_TOML);
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCommand::Check { file }) => match Config::load(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Command::FeedFormat { feed: Feed::ZiaWeb } => {
            print!("{}", crate::feed_format::zia_web_help());
            ExitCode::SUCCESS
        }
        Command::FeedFormat {
            feed: Feed::ZpaUserActivity,
        } => {
            print!("{}", crate::feed_format::zpa_user_activity_help());
            ExitCode::SUCCESS
        }
        Command::Hist { file, tag, plot } => {
            match crate::hist::command(&file, tag.as_deref(), plot.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ztel: error: {message}");
    ExitCode::FAILURE
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ZTEL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
