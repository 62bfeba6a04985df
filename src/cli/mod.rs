//! The command line (DESIGN §2.1): one file per subcommand that does more than print.

pub mod feed_format;
pub mod hist;
mod serve;
mod top;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::input::live::{Live, LoadError};
use feed_format::LogType;
pub use serve::config_from_args;
use serve::ServeArgs;

#[derive(Parser)]
#[command(
    name = "ztel",
    version,
    propagate_version = true,
    about = "A thread-per-core collector for Zscaler ZIA (NSS) and ZPA (LSS) telemetry",
    long_about = "ztel receives Zscaler logs of every type: ZIA's (web, firewall, DNS, tunnel, \
                  admin audit, SaaS security) from NSS over TCP and Cloud NSS over HTTPS, ZPA's \
                  (user activity and status, browser access, App Connector status, audit, \
                  AppProtection) from \
                  LSS over TCP, UDP and TLS, in JSON, LEEF, CEF, key=value or CSV. It keeps a \
                  registry of devices by hostname and writes connection records as JSON Lines. \
                  `ztel feed-format` prints the feed template to set up in the Zscaler portal."
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
    /// Print the feed template to paste into the Zscaler admin portal, and the feed's settings.
    /// Without LOGTYPE, list the log types.
    FeedFormat {
        #[arg(value_enum, value_name = "LOGTYPE")]
        log_type: Option<LogType>,
        /// A ZIA Cloud NSS feed (HTTPS to input.http) instead of an NSS feed over TCP.
        #[arg(long)]
        cloud: bool,
        /// The collector's config file: the ports to give the portal are its inputs' (the
        /// defaults without it: 1514 for TCP, 6514 for TLS).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
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
    /// Watch a running collector: events, bytes, records, dead letters and refused peers per
    /// second, from its admin endpoint's /metrics.
    #[command(after_help = top::AFTER_HELP)]
    Top(top::TopArgs),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the full default configuration as commented TOML.
    Default,
    /// Validate a configuration file, its certificates as a reload would take them.
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Parses the command line and runs it; errors are one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::main(args),
        Command::Config(ConfigCommand::Default) => {
            print!("{}", crate::config::template::default_toml());
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCommand::Check { file }) => check(&file),
        Command::FeedFormat { log_type: None, .. } => {
            print!("{}", feed_format::list());
            ExitCode::SUCCESS
        }
        Command::FeedFormat {
            log_type: Some(log_type),
            cloud,
            config,
        } => {
            let config = match config.as_deref().map(Config::load).transpose() {
                Ok(config) => config.unwrap_or_default(),
                Err(e) => return fail(&e.to_string()),
            };
            let ports = feed_format::Ports::of(&config);
            let text = if cloud {
                feed_format::cloud_text(log_type, &ports)
            } else {
                Some(feed_format::text(log_type, &ports))
            };
            match text {
                Some(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                None => fail(&format!(
                    "{}: ZPA has no Cloud NSS; its logs come from an LSS log receiver (drop --cloud)",
                    log_type.name()
                )),
            }
        }
        Command::Hist { file, tag, plot } => {
            match hist::command(&file, tag.as_deref(), plot.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        Command::Top(args) => match top::command(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("{e:#}")),
        },
    }
}

/// `config check`: the file parses and validates, and every certificate, key and CA it names
/// opens and loads, as a reload would take them (a certificate expired, or not yet valid, or
/// not for a server, fails: a reload refuses it, where a start only says so); warnings go to
/// stderr and do not fail.
fn check(file: &std::path::Path) -> ExitCode {
    use crate::data_dir::Runs;
    let loaded = Config::load(file)
        .map_err(LoadError::from)
        .and_then(|config| Live::check(&config).map(|()| config));
    match loaded {
        Ok(config) => {
            // A data_dir that is there already, as `serve` would judge it (but for its owner:
            // the service's user is not known here).
            let data_dir = match crate::data_dir::judge(&config.data_dir, Runs::Elsewhere) {
                Ok(warning) => warning,
                Err(e) => return fail(&format!("{e:#}")),
            };
            for warning in config.warnings().into_iter().chain(data_dir) {
                eprintln!("ztel: warning: {warning}");
            }
            println!("{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// One line on stderr, and the failure status. Not `eprintln!`: that panics when stderr cannot
/// be written, as when `ztel top`'s terminal hung up (EIO) and the last draw failed.
fn fail(message: &str) -> ExitCode {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "ztel: error: {message}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ztel serve --version` was "unexpected argument": an operator asks the command they
    /// run, not the top level.
    #[test]
    fn every_command_says_its_version() {
        for argv in [
            &["ztel", "--version"][..],
            &["ztel", "serve", "--version"],
            &["ztel", "config", "check", "--version"],
        ] {
            let e = Cli::try_parse_from(argv)
                .err()
                .expect("--version ends the parse");
            assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion, "{argv:?}");
            assert!(e.to_string().contains(env!("CARGO_PKG_VERSION")), "{e}");
        }
    }
}
