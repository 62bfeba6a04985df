//! The command line (DESIGN §7), and the checked `Plan` the rest of loadgen follows.
//!
//! Parsing (clap) and checking are separate: clap knows the flags' syntax, `Plan::new` knows
//! which combinations make sense and resolves the target, so every later step can trust it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{ArgGroup, Parser, ValueEnum};
use wire::synth::{Cardinality, Dialect};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Replays Zscaler NSS (ZIA web) and LSS (ZPA user activity) traffic against a collector",
    long_about = "Replays Zscaler NSS (ZIA web) and LSS (ZPA user activity) traffic against a \
                  collector and reports what it sent, how late it sent it, and (with --admin) \
                  what the collector received.\n\n\
                  Every event is generated (or read) into memory before the first one is sent, so \
                  generation never limits the rate (it takes about 1.5 s per million synthetic \
                  events). The pool holds at most 2,000,000 events and 2 GiB; a longer run, \
                  or a --rate max --duration run, loops over it, so a collector that \
                  de-duplicates may see the repeats as duplicates.\n\n\
                  The rate is open loop: event i is due at start + i/rate, whatever the collector \
                  does. When the collector pushes back, events go out late and the lateness is \
                  recorded for every one of them, so a slow collector cannot hide its latency.\n\n\
                  With --proto http, each connection POSTs its due events as a JSON array \
                  (Cloud NSS's \"JSON Array Notation\"), at most --batch events per request, and \
                  reads the answer before the next request; an answer other than 200 fails the \
                  connection (503: the collector is draining).\n\n\
                  Exit status: 0 on success; 1 when events were lost or a connection failed; 2 \
                  for a usage or configuration error.",
    group(ArgGroup::new("stop").required(true).args(["duration", "count"]))
)]
pub struct Args {
    /// The collector, as HOST:PORT (a name or an IP; IPv6 as [::1]:1514).
    #[arg(long, value_name = "HOST:PORT")]
    pub target: String,

    /// Transport: tcp and tls carry framed records on long-lived connections (as NSS and LSS
    /// do); udp packs several LF-separated records into each datagram (up to 8 KiB, a record is
    /// never split); http POSTs JSON arrays of records on keep-alive HTTP/1.1 connections, as
    /// Cloud NSS does (HTTPS with --ca; needs --http-key).
    #[arg(long, value_enum, default_value_t = Proto::Tcp)]
    pub proto: Proto,

    /// What to send: "nss" (synthetic ZIA web records, 0.8 to 1.2 KB each), "lss" (synthetic ZPA
    /// User Activity in LSS's default JSON template, about 2 KB each), or a FILE replayed line
    /// by line, looping over it when it has fewer lines than the run needs (a trailing CR is
    /// dropped, blank lines skipped; write ./nss for a file named nss).
    #[arg(long, value_name = "nss|lss|FILE", default_value = "nss")]
    pub source: String,

    /// Connections (tcp, tls, http) or sockets (udp), each sent from its own thread; events are
    /// dealt out round-robin.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub connections: u64,

    /// Events per second over all connections, or "max" to send as fast as the collector takes
    /// them (then lateness is not measured). Lateness includes loadgen's own wake-up delay,
    /// tens of microseconds on an idle machine.
    #[arg(long, value_name = "EPS|max", default_value = "max", value_parser = parse_rate)]
    pub rate: Rate,

    /// Send for this many seconds (rate × duration events; with --rate max, until the time is
    /// up). Fractions allowed.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Send exactly this many events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Framing on tcp and tls: lf (one record per line, as NSS and LSS send) or octet
    /// (RFC 6587 octet counting, "LEN SP record"). Does not apply to udp (LF-separated records)
    /// nor to http (JSON arrays).
    #[arg(long, value_enum, default_value_t = Framing::Lf)]
    pub framing: Framing,

    /// Distinct devices (hostnames, client IPs) in synthetic records.
    #[arg(long, value_name = "N", default_value_t = Cardinality::default().devices,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub devices: u64,

    /// Distinct users in synthetic records (with lss, each device belongs to one user).
    #[arg(long, value_name = "N", default_value_t = Cardinality::default().users,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub users: u64,

    /// Distinct servers in synthetic records.
    #[arg(long, value_name = "N", default_value_t = Cardinality::default().servers,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub servers: u64,

    /// NSS feed template of --source nss (default ztel): ztel (ztel's recommended feed format), elastic
    /// (Elastic's template), sekoia (the Splunk/Sekoia template behind an RFC 3164 header).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,

    /// Seed of the synthetic sources: the same seed sends the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// PEM file of the CA that signed the collector's certificate (required by --proto tls;
    /// with --proto http it turns on HTTPS). The certificate must be valid for the host of
    /// --target, or for "localhost" when --target is an IP address.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// The key the collector expects in --http-header (one of ztel's input.http.keys); required
    /// by --proto http.
    #[arg(long, value_name = "KEY")]
    pub http_key: Option<String>,

    /// The request header that carries --http-key [default: X-Ztel-Key].
    #[arg(long, value_name = "NAME")]
    pub http_header: Option<String>,

    /// The path the requests are POSTed to [default: /].
    #[arg(long, value_name = "PATH")]
    pub http_path: Option<String>,

    /// With --proto http: at most this many events per request [default: 100]. A request
    /// carries fewer when fewer are due (paced runs) and stays under 4 MiB.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: Option<u64>,

    /// The collector's admin endpoint (http://HOST:PORT): /metrics is read before and after the
    /// run to report received and lost events and the collector's own latency.
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,

    /// Write the send lateness as an HdrHistogram interval log (one interval per second, tag
    /// send_lateness, values in microseconds) to FILE.
    #[arg(long, value_name = "FILE")]
    pub hist: Option<PathBuf>,

    /// No progress lines on stderr (the final report still goes to stdout).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Proto {
    Tcp,
    Udp,
    Tls,
    Http,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framing {
    Lf,
    Octet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Ztel,
    Elastic,
    Sekoia,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Max,
    PerSecond(f64),
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    match s.parse::<f64>() {
        Ok(eps) if eps.is_finite() && eps > 0.0 => Ok(Rate::PerSecond(eps)),
        _ => Err(format!(
            "{s:?} is not a rate: give events per second (> 0) or max"
        )),
    }
}

/// What to send.
#[derive(Debug, Clone)]
pub enum Source {
    Nss(Dialect),
    Lss,
    File(PathBuf),
}

/// When the run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    Count(u64),
    Duration(Duration),
}

/// Default of --http-header: the header ztel's HTTP input reads by default.
pub const HTTP_HEADER: &str = "X-Ztel-Key";
/// Default of --batch.
pub const HTTP_BATCH: usize = 100;

/// How --proto http posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPlan {
    /// The Host header: --target as given.
    pub host: String,
    pub path: String,
    pub header: String,
    pub key: String,
    /// Most events per request.
    pub batch: usize,
}

/// A run's settings, checked: the target resolved, no flag that does not apply.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: SocketAddr,
    /// The name the TLS certificate must be valid for.
    pub server_name: String,
    pub proto: Proto,
    pub source: Source,
    pub connections: u64,
    /// Events per second; `None` for as fast as possible.
    pub rate: Option<f64>,
    pub stop: Stop,
    pub framing: Framing,
    pub cardinality: Cardinality,
    pub seed: u64,
    pub ca: Option<PathBuf>,
    /// `Some` exactly for --proto http.
    pub http: Option<HttpPlan>,
    pub admin: Option<String>,
    pub hist: Option<PathBuf>,
    pub quiet: bool,
}

impl Plan {
    /// Checks the arguments; an error here is a usage error (exit status 2).
    pub fn new(args: Args) -> Result<Plan> {
        let source = match args.source.as_str() {
            "nss" => Source::Nss(match args.dialect.unwrap_or(DialectArg::Ztel) {
                DialectArg::Ztel => Dialect::Ztel,
                DialectArg::Elastic => Dialect::Elastic,
                DialectArg::Sekoia => Dialect::Sekoia,
            }),
            _ if args.dialect.is_some() => bail!("--dialect applies to --source nss only"),
            "lss" => Source::Lss,
            "" => bail!("--source is empty: give nss, lss or a file"),
            path => Source::File(PathBuf::from(path)),
        };
        if args.framing == Framing::Octet && args.proto == Proto::Udp {
            bail!(
                "--framing octet applies to tcp and tls: a UDP datagram holds LF-separated records"
            );
        }
        if args.framing == Framing::Octet && args.proto == Proto::Http {
            bail!("--framing octet applies to tcp and tls: --proto http sends JSON arrays");
        }
        match (args.proto, &args.ca) {
            (Proto::Tls, None) => {
                bail!("--proto tls needs --ca FILE (the CA of the collector's certificate)")
            }
            (Proto::Tcp | Proto::Udp, Some(_)) => {
                bail!("--ca applies to --proto tls and http (HTTPS) only")
            }
            _ => {}
        }
        let http = http_plan(&args, &source)?;
        if args.hist.is_some() && args.rate == Rate::Max {
            bail!(
                "--hist records send lateness, which --rate max does not measure: give --rate EPS"
            );
        }
        let stop = match (args.count, args.duration) {
            (Some(n), _) => Stop::Count(n),
            (None, Some(secs)) if secs.is_finite() && secs > 0.0 && secs < 1e9 => {
                Stop::Duration(Duration::from_secs_f64(secs))
            }
            (None, Some(secs)) => bail!("--duration {secs} is not a number of seconds > 0"),
            (None, None) => bail!("give --count N or --duration SECS"),
        };
        let target = resolve(&args.target)?;
        let host = host_of(&args.target);
        let server_name = if host.parse::<std::net::IpAddr>().is_ok() {
            "localhost".to_string()
        } else {
            host.to_string()
        };
        Ok(Plan {
            target,
            server_name,
            proto: args.proto,
            source,
            connections: args.connections,
            rate: match args.rate {
                Rate::Max => None,
                Rate::PerSecond(eps) => Some(eps),
            },
            stop,
            framing: args.framing,
            cardinality: Cardinality {
                devices: args.devices,
                users: args.users,
                servers: args.servers,
            },
            seed: args.seed,
            ca: args.ca,
            http,
            admin: args.admin,
            hist: args.hist,
            quiet: args.quiet,
        })
    }

    /// How many events the run sends, when that is known before it starts (not for --rate max
    /// with --duration, which sends until the time is up).
    pub fn events(&self) -> Option<u64> {
        match (self.stop, self.rate) {
            (Stop::Count(n), _) => Some(n),
            (Stop::Duration(d), Some(eps)) => Some((d.as_secs_f64() * eps).ceil() as u64),
            (Stop::Duration(_), None) => None,
        }
    }

    /// How long a --rate max run lasts, if it is bounded by time.
    pub fn deadline(&self) -> Option<Duration> {
        match (self.stop, self.rate) {
            (Stop::Duration(d), None) => Some(d),
            _ => None,
        }
    }

    /// A one-line summary for the report's first line.
    pub fn describe(&self) -> String {
        let source = match &self.source {
            Source::Nss(d) => format!("nss ({})", format!("{d:?}").to_lowercase()),
            Source::Lss => "lss".to_string(),
            Source::File(p) => p.display().to_string(),
        };
        let rate = self
            .rate
            .map_or("max".to_string(), |eps| format!("{eps} events/s"));
        let proto = match (self.proto, &self.ca) {
            (Proto::Http, Some(_)) => "https".to_string(),
            (proto, _) => format!("{proto:?}").to_lowercase(),
        };
        let framing = match (&self.http, self.proto, self.framing) {
            (Some(h), _, _) => format!("JSON arrays of up to {} events to {}", h.batch, h.path),
            (None, Proto::Udp, _) => "datagrams of LF-separated records".to_string(),
            (None, _, Framing::Lf) => "lf framing".to_string(),
            (None, _, Framing::Octet) => "octet framing".to_string(),
        };
        format!(
            "{proto} to {}, {} connection(s), source {source}, rate {rate}, {framing}",
            self.target, self.connections
        )
    }
}

/// The --http-* flags and --batch: required, defaulted and checked for --proto http, refused
/// for the other transports.
fn http_plan(args: &Args, source: &Source) -> Result<Option<HttpPlan>> {
    if args.proto != Proto::Http {
        let given = [
            ("--http-key", args.http_key.is_some()),
            ("--http-header", args.http_header.is_some()),
            ("--http-path", args.http_path.is_some()),
            ("--batch", args.batch.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
            bail!("{flag} applies to --proto http only");
        }
        return Ok(None);
    }
    if matches!(source, Source::Nss(Dialect::Sekoia)) {
        bail!(
            "--dialect sekoia puts an RFC 3164 header before each record, which a JSON array \
             cannot carry: use ztel or elastic with --proto http"
        );
    }
    let Some(key) = args.http_key.clone() else {
        bail!("--proto http needs --http-key KEY (one of the collector's input.http.keys)");
    };
    if key.is_empty() || !key.bytes().all(is_value_char) {
        bail!("--http-key must be printable ASCII, not empty");
    }
    if key.trim() != key {
        bail!("--http-key must not start or end with a space (HTTP strips them)");
    }
    let header = args
        .http_header
        .clone()
        .unwrap_or_else(|| HTTP_HEADER.to_string());
    if header.is_empty() || !header.bytes().all(is_token_char) {
        bail!("--http-header {header:?} is not an HTTP header name");
    }
    let path = args.http_path.clone().unwrap_or_else(|| "/".to_string());
    if !path.starts_with('/') || !path.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        bail!("--http-path {path:?} must start with / and hold no spaces or control characters");
    }
    Ok(Some(HttpPlan {
        host: args.target.clone(),
        path,
        header,
        key,
        batch: args
            .batch
            .map_or(HTTP_BATCH, |n| usize::try_from(n).unwrap_or(usize::MAX)),
    }))
}

/// A character a header field's value may hold (visible ASCII, space, tab): no line break can
/// end the field early.
fn is_value_char(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b)
}

/// A character of an HTTP token (RFC 9110 §5.6.2), which header names are.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn resolve(target: &str) -> Result<SocketAddr> {
    let mut addrs = target
        .to_socket_addrs()
        .with_context(|| format!("bad --target {target:?} (expected HOST:PORT)"))?;
    addrs
        .next()
        .ok_or_else(|| anyhow!("bad --target {target:?}: the name has no address"))
}

/// "host" of "host:port", "::1" of "[::1]:port".
fn host_of(target: &str) -> &str {
    let host = target.rsplit_once(':').map_or(target, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra: &[&str]) -> Result<Plan> {
        let mut argv = vec!["loadgen", "--target", "127.0.0.1:1514", "--count", "10"];
        argv.extend_from_slice(extra);
        Plan::new(Args::try_parse_from(argv)?)
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("max"), Ok(Rate::Max));
        assert_eq!(parse_rate("2500"), Ok(Rate::PerSecond(2500.0)));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("collector.example:1514"), "collector.example");
        assert_eq!(host_of("[::1]:6514"), "::1");
        assert_eq!(host_of("127.0.0.1:1514"), "127.0.0.1");
    }

    #[test]
    fn tls_name_is_localhost_for_an_ip() {
        let dir = std::env::temp_dir();
        let ca = dir.join("loadgen-args-ca.pem");
        let p = plan(&["--proto", "tls", "--ca", ca.to_str().unwrap()]).unwrap();
        assert_eq!(p.server_name, "localhost");
    }

    #[test]
    fn combinations_that_make_no_sense_are_refused() {
        assert!(plan(&["--proto", "udp", "--framing", "octet"]).is_err());
        assert!(plan(&["--proto", "tls"]).is_err());
        assert!(plan(&["--ca", "x.pem"]).is_err());
        assert!(plan(&["--source", "lss", "--dialect", "elastic"]).is_err());
        assert!(plan(&["--http-key", "k"]).is_err());
        assert!(plan(&["--proto", "tls", "--ca", "x.pem", "--batch", "10"]).is_err());
    }

    #[test]
    fn http_needs_a_key_and_takes_defaults() {
        let e = plan(&["--proto", "http"]).unwrap_err().to_string();
        assert!(e.contains("--http-key"), "{e}");
        assert_eq!(e.lines().count(), 1);
        let p = plan(&["--proto", "http", "--http-key", "k1"]).unwrap();
        assert_eq!(
            p.http,
            Some(HttpPlan {
                host: "127.0.0.1:1514".to_string(),
                path: "/".to_string(),
                header: "X-Ztel-Key".to_string(),
                key: "k1".to_string(),
                batch: 100,
            })
        );
        assert!(
            p.describe().starts_with("http to 127.0.0.1:1514"),
            "{}",
            p.describe()
        );
        let p = plan(&[
            "--proto",
            "http",
            "--http-key",
            "k1",
            "--http-header",
            "Authorization-Key",
            "--http-path",
            "/nss/web?feed=1",
            "--batch",
            "7",
            "--ca",
            "ca.pem",
        ])
        .unwrap();
        let h = p.http.as_ref().unwrap();
        assert_eq!(
            (h.header.as_str(), h.path.as_str(), h.batch),
            ("Authorization-Key", "/nss/web?feed=1", 7)
        );
        assert!(p.describe().starts_with("https to"), "{}", p.describe());
    }

    #[test]
    fn http_refuses_what_it_cannot_send() {
        let http = |extra: &[&str]| {
            let mut argv = vec!["--proto", "http", "--http-key", "k1"];
            argv.extend_from_slice(extra);
            plan(&argv).map(|_| ()).map_err(|e| e.to_string())
        };
        assert!(http(&["--framing", "octet"])
            .unwrap_err()
            .contains("JSON arrays"));
        assert!(http(&["--framing", "lf"]).is_ok());
        assert!(http(&["--dialect", "sekoia"])
            .unwrap_err()
            .contains("sekoia"));
        assert!(http(&["--dialect", "elastic"]).is_ok());
        assert!(http(&["--source", "lss"]).is_ok());
        assert!(http(&["--http-header", "X Key"]).is_err());
        assert!(http(&["--http-header", "X-Key:"]).is_err());
        assert!(http(&["--http-path", "nss"]).is_err());
        assert!(http(&["--http-path", "/a b"]).is_err());
        assert!(http(&["--batch", "0"]).is_err());
        assert!(plan(&["--proto", "http", "--http-key", ""]).is_err());
        assert!(plan(&["--proto", "http", "--http-key", "k\r\nX-Evil: 1"]).is_err());
        assert!(plan(&["--proto", "http", "--http-key", " k"]).is_err());
    }

    #[test]
    fn events_of_a_timed_run() {
        let p = Plan::new(
            Args::try_parse_from([
                "loadgen",
                "--target",
                "127.0.0.1:1",
                "--rate",
                "1000",
                "--duration",
                "2.5",
            ])
            .unwrap(),
        )
        .unwrap();
        assert_eq!(p.events(), Some(2500));
        assert_eq!(p.deadline(), None);
        let p = Plan::new(
            Args::try_parse_from(["loadgen", "--target", "127.0.0.1:1", "--duration", "3"])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(p.events(), None);
        assert_eq!(p.deadline(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn count_or_duration_is_required() {
        assert!(Args::try_parse_from(["loadgen", "--target", "127.0.0.1:1"]).is_err());
    }
}
