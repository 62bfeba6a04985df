//! `ztel top`: a terminal view of a running collector, read from its admin endpoint's `/metrics`
//! every interval. What an operator opens first when a feed looks wrong: is anything arriving, on
//! which input and shard, what does it become, what is refused or dead-lettered.
//!
//! A thread scrapes (so that a slow or dead endpoint never delays a key press); the main thread
//! draws and reads keys. The screen is a pure function of the last model ([`view::draw`]).

mod fetch;
mod fit;
mod keys;
mod model;
mod scrape;
mod term;
mod view;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::config::Config;
use keys::{Input, Keys};
use model::{Model, Scrape};
use scrape::Page;
use term::Term;
use view::Screen;

/// What `ztel top --help` adds below the flags.
pub const AFTER_HELP: &str = "\
The screen, refreshed every interval:
  Collector  devices in the registry, read→sink latency p50/p99, channel depth/capacity
  Inputs     per input: events/s and events (frames read), bytes/s and bytes, open
             connections, refused peers (connections and datagrams not in allowed_ips),
             connections over limits.max_connections, failed TLS handshakes
  Shards     events/s, events, bytes/s, bytes per shard
  Records by kind, Dead letters by reason: totals and rates (only those not zero)
Rates are the difference between two scrapes over the time between them: the first screen shows
totals, and \"…\" for rates. If the endpoint cannot be read the screen says why, keeps the last
figures and retries every interval. What does not fit a small terminal is left out whole (columns
that matter least first), and each table's title says how much.
Keys: q, Esc or Ctrl-C quits. SIGTERM, SIGINT and SIGHUP end it too, and so does its terminal
going away.";

/// How often the screen is redrawn and keys are looked at, whatever the scrape interval: the
/// age of the figures stays current and `q` answers at once.
const TICK: Duration = Duration::from_millis(200);

#[derive(clap::Args, Debug)]
pub struct TopArgs {
    /// The collector's admin endpoint (its admin.address). [default: admin.address of --config,
    /// else 127.0.0.1:9514]
    #[arg(long, value_name = "ADDR", value_parser = parse_admin)]
    admin: Option<SocketAddr>,
    /// Take the admin address from this config file (the one `ztel serve --config` runs with).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Seconds between scrapes (fractions allowed, 0.1 at least).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_interval)]
    interval: Duration,
}

impl TopArgs {
    /// The address to connect to: `--admin`, else the config's, else the default config's.
    fn address(&self) -> anyhow::Result<SocketAddr> {
        if let Some(addr) = self.admin {
            return Ok(reachable(addr));
        }
        let (config, from) = match &self.config {
            Some(path) => (Config::load(path)?, path.display().to_string()),
            None => (Config::default(), "the default config".to_owned()),
        };
        match config.admin.address.get() {
            Some(addr) => Ok(reachable(addr)),
            None => bail!("admin.address is \"\" (off) in {from}: there is no /metrics to read"),
        }
    }
}

/// An address to connect to for one a server listens on: "all addresses" is reached on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// `IP:PORT`; a pasted `http://IP:PORT/metrics` is taken too.
fn parse_admin(text: &str) -> Result<SocketAddr, String> {
    let bare = text.strip_prefix("http://").unwrap_or(text);
    let bare = bare.strip_suffix('/').unwrap_or(bare);
    let bare = bare.strip_suffix("/metrics").unwrap_or(bare);
    bare.parse()
        .map_err(|_| format!("{text:?} is not IP:PORT (\"[::1]:9514\" for IPv6)"))
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.1..=3600.0).contains(&secs) {
        return Err(format!("{text}: between 0.1 and 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs the view until q, Esc, Ctrl-C, a signal, or the end of the terminal.
pub fn command(args: TopArgs) -> anyhow::Result<()> {
    let addr = args.address()?;
    let interval = args.interval;
    // SIGTERM, SIGHUP (the terminal went away) and a SIGINT sent from elsewhere end the view
    // through the same path as `q`, so that the terminal is put back. The wait for keys is cut
    // short by them, and by a terminal that hangs up (see keys.rs).
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, stop.clone()).context("cannot watch signals")?;
    }
    let scrapes = scraper(addr, interval)?;
    let mut term = Term::enter().context("cannot take over the terminal")?;
    let mut keys = Keys::open().context("cannot read the terminal's keys")?;
    let mut state = State::new(format!("http://{addr}/metrics"), interval);
    while !stop.load(Ordering::Relaxed) {
        while let Ok(outcome) = scrapes.try_recv() {
            state.take(outcome);
        }
        let screen = state.screen();
        term.terminal.draw(|frame| view::draw(frame, &screen))?;
        match keys.wait(TICK)? {
            Input::Nothing => {}
            // Nobody is left to tell why: a hung-up terminal ends the view as SIGHUP does.
            Input::Quit | Input::Gone => break,
        }
    }
    Ok(())
}

/// A scrape, or why there is none.
type Outcome = Result<Scrape, String>;

/// Starts the thread that scrapes every `interval`. It ends at its first send after the
/// receiver is gone.
fn scraper(addr: SocketAddr, interval: Duration) -> anyhow::Result<Receiver<Outcome>> {
    // Long enough for a busy collector, short enough that a dead one is said soon.
    let timeout = interval.clamp(Duration::from_secs(1), Duration::from_secs(5));
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("top-scrape".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                if tx.send(scrape_once(addr, timeout)).is_err() {
                    return;
                }
                // A fixed rate, but a slow scrape does not make the next ones bunch up.
                next = (next + interval).max(Instant::now());
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
        .context("cannot start the scrape thread")?;
    Ok(rx)
}

fn scrape_once(addr: SocketAddr, timeout: Duration) -> Outcome {
    let text = fetch::metrics(addr, timeout).map_err(|e| e.to_string())?;
    let at = Instant::now();
    let page = Page::parse(&text);
    if !page.samples.iter().any(|s| s.name.starts_with("ztel_")) {
        return Err("the page has no ztel_ series (is this ztel's admin address?)".into());
    }
    Ok(Scrape { page, at })
}

/// The main loop's memory: the last scrape that worked, its model, and the failures since.
struct State {
    url: String,
    interval: Duration,
    last: Option<Scrape>,
    model: Option<Model>,
    error: Option<String>,
    failures: u32,
}

impl State {
    fn new(url: String, interval: Duration) -> State {
        State {
            url,
            interval,
            last: None,
            model: None,
            error: None,
            failures: 0,
        }
    }

    fn take(&mut self, outcome: Outcome) {
        match outcome {
            Ok(scrape) => {
                // Across failed scrapes too: the rate is then the average over the gap.
                self.model = Some(Model::new(self.last.as_ref(), &scrape));
                self.last = Some(scrape);
                self.error = None;
                self.failures = 0;
            }
            Err(e) => {
                self.error = Some(e);
                self.failures = self.failures.saturating_add(1);
            }
        }
    }

    fn screen(&self) -> Screen {
        Screen {
            url: self.url.clone(),
            interval: self.interval,
            model: self.model.clone(),
            age: self.last.as_ref().map(|s| s.at.elapsed()),
            error: self.error.clone(),
            failures: self.failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_addresses_are_taken_as_pasted() {
        let want: SocketAddr = "127.0.0.1:9514".parse().unwrap();
        for text in [
            "127.0.0.1:9514",
            "http://127.0.0.1:9514",
            "http://127.0.0.1:9514/",
            "http://127.0.0.1:9514/metrics",
        ] {
            assert_eq!(parse_admin(text), Ok(want), "{text}");
        }
        assert!(parse_admin("localhost").is_err());
        assert_eq!(
            reachable("0.0.0.0:9514".parse().unwrap()),
            "127.0.0.1:9514".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            reachable("[::]:9514".parse().unwrap()),
            "[::1]:9514".parse::<SocketAddr>().unwrap()
        );
    }

    #[test]
    fn the_address_comes_from_the_flag_then_the_config_then_the_default() {
        let args = |admin: Option<&str>, config: Option<PathBuf>| TopArgs {
            admin: admin.map(|a| a.parse().unwrap()),
            config,
            interval: Duration::from_secs(1),
        };
        let default = Config::default().admin.address.get().unwrap();
        assert_eq!(args(None, None).address().unwrap(), default);
        let dir = std::env::temp_dir().join(format!("ztel-top-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ztel.toml");
        std::fs::write(&file, "[admin]\naddress = \"127.0.0.9:9999\"\n").unwrap();
        let from_file = args(None, Some(file.clone())).address().unwrap();
        assert_eq!(from_file, "127.0.0.9:9999".parse::<SocketAddr>().unwrap());
        let flag = args(Some("127.0.0.1:1"), Some(file.clone()))
            .address()
            .unwrap();
        assert_eq!(flag, "127.0.0.1:1".parse::<SocketAddr>().unwrap());
        std::fs::write(&file, "[admin]\naddress = \"\"\n").unwrap();
        let off = args(None, Some(file)).address().unwrap_err().to_string();
        assert!(off.contains("off"), "{off}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The default `--help` shows is written by hand; this keeps it the config's.
    #[test]
    fn help_shows_the_config_default() {
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            top: TopArgs,
        }
        let help = Line::command().render_long_help().to_string();
        let default = Config::default().admin.address.to_string();
        assert!(help.contains(&format!("else {default}]")), "{help}");
    }

    #[test]
    fn intervals_are_bounded() {
        assert_eq!(parse_interval("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("NaN").is_err());
    }

    #[test]
    fn a_failure_keeps_the_last_figures() {
        let mut state = State::new("http://x/metrics".into(), Duration::from_secs(1));
        let page = Page::parse("ztel_devices 3\n");
        state.take(Ok(Scrape {
            page,
            at: Instant::now(),
        }));
        state.take(Err("cannot connect".into()));
        state.take(Err("cannot connect".into()));
        let screen = state.screen();
        assert_eq!(screen.model.and_then(|m| m.devices), Some(3.0));
        assert_eq!(screen.failures, 2);
        assert_eq!(screen.error.as_deref(), Some("cannot connect"));
    }
}
