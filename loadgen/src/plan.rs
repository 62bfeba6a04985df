//! The checked `Plan` the rest of loadgen follows: which combinations of flags make sense,
//! the target resolved, defaults filled in, so that every later step can trust it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use wire::synth::{Cardinality, Dialect};

use crate::args::{Args, DialectArg, Format, Framing, HeaderArg, Proto, Rate};

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Synthetic ZIA web records in this template: a JSON dialect, or another Feed Output Type.
    Nss(Dialect),
    /// Synthetic ZIA firewall records.
    Fw,
    /// Synthetic ZIA DNS records.
    Dns,
    /// Synthetic ZPA User Activity records.
    Lss,
    File(PathBuf),
}

/// When the run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    Count(u64),
    Duration(Duration),
}

/// --duration must be below this many seconds (about 31 years): longer is surely a typo.
const MAX_DURATION: f64 = 1e9;

/// Default of --http-header: the header ztel's HTTP input reads by default.
pub const HTTP_HEADER: &str = "X-Ztel-Key";
/// Default of --batch.
pub const HTTP_BATCH: usize = 100;
/// Default of --batch-bytes: Cloud NSS posts at most 512 KB per request.
pub const HTTP_BATCH_BYTES: usize = 512 << 10;

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
    /// Most bytes of a request's body before compression (one larger record goes alone).
    pub batch_bytes: usize,
    /// Bodies are JSON arrays (Cloud NSS's "JSON Array Notation"); else one record per line.
    pub array: bool,
    /// Bodies are gzip-compressed.
    pub gzip: bool,
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
    /// A device's user or IP changes every this many of its records; 0 for never.
    pub churn: u64,
    /// The syslog header --header asks for; `None` keeps each source's own.
    pub header: Option<HeaderArg>,
    pub seed: u64,
    pub ca: Option<PathBuf>,
    /// --cert and --key: the client certificate of mutual TLS and its key.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// `Some` exactly for --proto http.
    pub http: Option<HttpPlan>,
    pub admin: Option<String>,
    pub hist: Option<PathBuf>,
    pub quiet: bool,
}

impl Plan {
    /// Checks the arguments; an error here is a usage error (exit status 2).
    pub fn new(args: Args) -> Result<Plan> {
        let source = source(&args)?;
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
        let identity = identity(&args)?;
        if args.churn.is_some() && matches!(source, Source::File(_)) {
            bail!("--churn applies to the synthetic sources (nss, fw, dns, lss): a file is sent as it is");
        }
        if args.header.is_some() && matches!(source, Source::File(_)) {
            bail!("--header applies to the synthetic sources (nss, fw, dns, lss): a file is sent as it is");
        }
        // Taken without a word, they changed nothing. (Given at their defaults they cannot be
        // told from absent: they change nothing either.)
        let defaults = Cardinality::default();
        let synthetic_only = [
            ("--devices", args.devices != defaults.devices),
            ("--users", args.users != defaults.users),
            ("--servers", args.servers != defaults.servers),
            ("--seed", args.seed != 1),
        ];
        if let Some((flag, _)) = synthetic_only.iter().find(|(_, given)| *given) {
            if matches!(source, Source::File(_)) {
                bail!("{flag} applies to the synthetic sources (nss, fw, dns, lss): a file is sent as it is");
            }
        }
        let http = http_plan(&args, &source)?;
        if args.hist.is_some() && args.rate == Rate::Max {
            bail!(
                "--hist records send lateness, which --rate max does not measure: give --rate EPS"
            );
        }
        if let Some(path) = &args.hist {
            hist_path(path)?;
        }
        let stop = match (args.count, args.duration) {
            (Some(0), _) => bail!("--count 0 sends nothing: give 1 or more events"),
            (Some(n), _) => Stop::Count(n),
            (None, Some(secs)) if secs.is_finite() && secs > 0.0 && secs < MAX_DURATION => {
                Stop::Duration(Duration::from_secs_f64(secs))
            }
            (None, Some(secs)) => {
                bail!("--duration {secs}: give more than 0 and less than 1e9 seconds")
            }
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
            churn: args.churn.unwrap_or(0),
            header: args.header,
            seed: args.seed,
            ca: args.ca,
            identity,
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

    /// What --header asked for: none, 3164, 5424, or "template" (each source's own).
    fn header_name(&self) -> &'static str {
        match self.header {
            None => "template",
            Some(HeaderArg::None) => "none",
            Some(HeaderArg::Rfc3164) => "3164",
            Some(HeaderArg::Rfc5424) => "5424",
        }
    }

    /// tcp, udp, tls, http, or https (http with --ca).
    fn proto_name(&self) -> String {
        match (self.proto, &self.ca) {
            (Proto::Http, Some(_)) => "https".to_string(),
            (proto, _) => format!("{proto:?}").to_lowercase(),
        }
    }

    /// The run's parameters as `key=value` pairs for the `loadgen-result` line, so that a line
    /// kept on its own still says what was run: protocol, source, rate, connections, churn,
    /// seed, and when it started (Unix seconds).
    pub fn result_params(&self, started_unix: u64) -> String {
        let proto = self.proto_name();
        let (source, format) = match &self.source {
            Source::Nss(d) => ("nss", format_key(*d)),
            Source::Fw => ("fw", "json"),
            Source::Dns => ("dns", "json"),
            Source::Lss => ("lss", "json"),
            Source::File(_) => ("file", "file"),
        };
        // A file is sent as it is: its lines have whatever header they have.
        let header = match self.source {
            Source::File(_) => "file",
            _ => self.header_name(),
        };
        let rate = self.rate.map_or("max".to_string(), |eps| eps.to_string());
        format!(
            "proto={proto} source={source} format={format} header={header} rate={rate} \
             connections={} churn={} seed={} started_unix={started_unix}",
            self.connections, self.churn, self.seed
        )
    }

    /// A one-line summary for the report's first line.
    pub fn describe(&self) -> String {
        let (source, format) = match &self.source {
            Source::Nss(d) => ("nss".to_string(), format_of(*d)),
            Source::Fw => ("fw".to_string(), "json"),
            Source::Dns => ("dns".to_string(), "json"),
            Source::Lss => ("lss".to_string(), "json"),
            Source::File(p) => (p.display().to_string(), "as in the file"),
        };
        let source = match self.churn {
            0 => source,
            n => format!("{source} (churn every {n} records)"),
        };
        let source = match self.header {
            None => source,
            Some(_) => format!("{source}, syslog header {}", self.header_name()),
        };
        let rate = self
            .rate
            .map_or("max".to_string(), |eps| format!("{eps} events/s"));
        let proto = self.proto_name();
        let framing = match (&self.http, self.proto, self.framing) {
            (Some(h), _, _) => format!(
                "{}{} of up to {} events and {} bytes to {}",
                if h.gzip { "gzipped " } else { "" },
                match (h.array, &self.source) {
                    (true, _) => "JSON arrays",
                    // A file's lines are sent as they are, in whatever format they are.
                    (false, Source::File(_))
                    | (
                        false,
                        Source::Nss(Dialect::Leef | Dialect::Cef | Dialect::Kv | Dialect::Csv),
                    ) => "lines",
                    (false, _) => "lines of JSON",
                },
                h.batch,
                h.batch_bytes,
                h.path
            ),
            (None, Proto::Udp, _) => "datagrams of LF-separated records".to_string(),
            (None, _, Framing::Lf) => "lf framing".to_string(),
            (None, _, Framing::Octet) => "octet framing".to_string(),
        };
        format!(
            "{proto} to {}, {} connection(s), source {source}, format {format}, rate {rate}, \
             {framing}",
            self.target, self.connections
        )
    }
}

/// What --source, --format and --dialect ask for, together.
fn source(args: &Args) -> Result<Source> {
    let nss = args.source == "nss";
    if args.dialect.is_some() && !nss {
        bail!("--dialect applies to --source nss only");
    }
    if args.format != Format::Json {
        let format = format!("{:?}", args.format).to_lowercase();
        if !nss {
            bail!(
                "--format {format} applies to --source nss only: fw, dns and lss are sent as \
                 JSON, a file as it is"
            );
        }
        if args.dialect.is_some() {
            bail!("--dialect picks the template of --format json: it does not apply to --format {format}");
        }
    }
    Ok(match args.source.as_str() {
        "nss" => Source::Nss(
            match (args.format, args.dialect.unwrap_or(DialectArg::Ztel)) {
                (Format::Json, DialectArg::Ztel) => Dialect::Ztel,
                (Format::Json, DialectArg::Elastic) => Dialect::Elastic,
                (Format::Json, DialectArg::Sekoia) => Dialect::Sekoia,
                (Format::Leef, _) => Dialect::Leef,
                (Format::Cef, _) => Dialect::Cef,
                (Format::Kv, _) => Dialect::Kv,
                (Format::Csv, _) => Dialect::Csv,
            },
        ),
        "fw" => Source::Fw,
        "dns" => Source::Dns,
        "lss" => Source::Lss,
        "" => bail!("--source is empty: give nss, fw, dns, lss or a file"),
        path => Source::File(PathBuf::from(path)),
    })
}

/// --cert and --key, which go together, and only where there is TLS to present them in.
fn identity(args: &Args) -> Result<Option<(PathBuf, PathBuf)>> {
    let (cert, key) = match (&args.cert, &args.key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ => bail!("--cert and --key go together: give both (the client certificate and its key)"),
    };
    match (args.proto, &args.ca) {
        (Proto::Tcp | Proto::Udp, _) => {
            bail!("--cert and --key apply to --proto tls and http (HTTPS) only")
        }
        (Proto::Http, None) => bail!("--cert and --key need --ca FILE (HTTPS) with --proto http"),
        _ => Ok(Some((cert, key))),
    }
}

/// [`format_of`] as one token, for the `key=value` pairs of the result line, which scripts split
/// at spaces.
fn format_key(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ztel => "json-ztel",
        Dialect::Elastic => "json-elastic",
        Dialect::Sekoia => "json-sekoia",
        other => format_of(other),
    }
}

/// The --format (and for JSON, the template) of synthetic web records, for the summary.
fn format_of(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ztel => "json (ztel template)",
        Dialect::Elastic => "json (elastic template)",
        Dialect::Sekoia => "json (sekoia template)",
        Dialect::Leef => "leef",
        Dialect::Cef => "cef",
        Dialect::Kv => "kv",
        Dialect::Csv => "csv",
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
            ("--batch-bytes", args.batch_bytes.is_some()),
            ("--http-array", args.http_array.is_some()),
            ("--gzip", args.gzip),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
            bail!("{flag} applies to --proto http only");
        }
        return Ok(None);
    }
    // Lines may carry a header, as the collector reads them (a TCP template reused); an
    // array's elements may not. A Cloud NSS feed whose Feed Output Type is not JSON sends lines.
    let json = args.format == Format::Json;
    let array = args.http_array.unwrap_or(json);
    if array && !json {
        let format = format!("{:?}", args.format).to_lowercase();
        bail!(
            "--http-array true holds JSON records: --format {format} goes over --proto http as \
             lines, one record a line, as Cloud NSS sends a feed output type other than JSON"
        );
    }
    match args.header {
        Some(HeaderArg::Rfc3164 | HeaderArg::Rfc5424) if array => bail!(
            "--header puts a syslog header before each record, which a JSON array cannot carry: \
             give --header none (or no --header), or --http-array false, with --proto http"
        ),
        None if array && matches!(source, Source::Nss(Dialect::Sekoia)) => bail!(
            "--dialect sekoia puts an RFC 3164 header before each record, which a JSON array \
             cannot carry: add --header none or --http-array false, or use ztel or elastic \
             with --proto http"
        ),
        _ => {}
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
        batch_bytes: args.batch_bytes.map_or(HTTP_BATCH_BYTES, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
        array,
        gzip: args.gzip,
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

/// Checks that --hist names a file in a directory that exists, so that a run is not lost to a
/// typo found only when the log is written at its end.
fn hist_path(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "--hist {}: no such directory {}",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("--hist {} is a directory: give a file", path.display());
    }
    Ok(())
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
mod tests;
