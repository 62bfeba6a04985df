//! The command line (DESIGN §7): the flags' syntax and their help. Which combinations make
//! sense is `plan`'s business.

use std::path::PathBuf;

use clap::{ArgGroup, Parser, ValueEnum};
use wire::synth::Cardinality;

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Replays Zscaler NSS (ZIA web, firewall, DNS) and LSS (ZPA user activity) traffic \
             against a collector",
    long_about = "Replays Zscaler NSS (ZIA web, firewall and DNS logs) and LSS (ZPA user \
                  activity) traffic against a collector and reports what it sent, how late it sent it, and (with --admin) \
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
                  (Cloud NSS's \"JSON Array Notation\"; one per line with --http-array \
                  false, and in the formats other than json), at most --batch events and --batch-bytes per request, and reads the \
                  answer before the next request; an answer other than 200 fails the \
                  connection (503: the collector is draining). With --gzip each body is \
                  gzip-compressed (Content-Encoding: gzip).\n\n\
                  Exit status: 0 on success; 1 when events were lost or a connection failed; 2 \
                  for a usage or configuration error. With --admin, lost means sent and never \
                  read by the collector; events it read that became dead letters (kept in its \
                  dead-letter file with the reason) or that repeated records it already had \
                  (duplicates, not written again) are not lost: the report counts them apart \
                  from the records written, and says so in a line on stderr. A collector whose \
                  /healthz says its outputs are stalled (a full disk) has not read the rest \
                  yet: stderr says so, not lost, and the status is 1.",
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

    /// What to send: "nss" (synthetic ZIA web records, 0.8 to 1.2 KB each, in --format),
    /// "fw" (synthetic ZIA firewall records, NSS for Firewall, about 850 bytes: the client's
    /// real source port, the NAT addresses, TCP, UDP and ICMP sessions), "dns" (synthetic ZIA
    /// DNS records, about 700 bytes: query, query type, answer or response code, resolver),
    /// "lss" (synthetic ZPA User Activity in LSS's default JSON template, about 2 KB each), or
    /// a FILE replayed line by line, as it is, looping over it when it has fewer lines than the
    /// run needs, event g of the run being line g mod the lines (a trailing CR is dropped, lines
    /// blank or of spaces and tabs skipped; write ./nss for a file named nss; only its first
    /// 2,000,000 lines or 2 GiB are sent, and a file near that over several connections loops
    /// less evenly). fw and dns are JSON in ztel's feed format for those log types (the
    /// zscalernss-fw / zscalernss-dns envelope, Zscaler's variable names). The synthetic NSS
    /// sources share their devices: the same --devices hostnames and IPs, the same users.
    #[arg(long, value_name = "nss|fw|dns|lss|FILE", default_value = "nss")]
    pub source: String,

    /// Feed Output Type of --source nss: json (the template is --dialect's), leef (Zscaler's
    /// QRadar LEEF preset behind a syslog header), cef (Zscaler's ArcSight / Sentinel CEF
    /// preset), kv (Zscaler's Splunk CIM key=value preset) or csv (the NSS default output:
    /// positional, every field quoted, Zscaler's default field order). Only json applies to
    /// the other sources. Over --proto http the others go as lines, one record a line, as a
    /// Cloud NSS feed sends an output type other than JSON.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,

    /// Connections (tcp, tls, http) or sockets (udp), each sent from its own thread; events are
    /// dealt out round-robin.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub connections: u64,

    /// Events per second over all connections, or "max" to send as fast as the collector takes
    /// them (then lateness is not measured). A connection sleeps at least 50 µs between writes
    /// and then writes every event that fell due meanwhile at once, so lateness includes up to
    /// 50 µs of that, plus loadgen's own wake-up delay (tens of microseconds on an idle machine).
    #[arg(long, value_name = "EPS|max", default_value = "max", value_parser = parse_rate)]
    pub rate: Rate,

    /// Send for this many seconds (rate × duration events; with --rate max, until the time is
    /// up). Fractions allowed; less than 1e9.
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

    /// Every N of its records, a device in synthetic records takes a new user or a new IP, in
    /// turn, as shared machines and DHCP do (so each changes every 2N records). Without it every
    /// device keeps one IP and its owner. A user who signs in on an LSS device starts a new
    /// session; an LSS connection keeps the user and IP it opened with.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub churn: Option<u64>,

    /// NSS feed template of --source nss with --format json (default ztel): ztel (ztel's
    /// recommended feed format), elastic (Elastic's template), sekoia (the Splunk/Sekoia template
    /// behind an RFC 3164 header without PRI, unless --header says otherwise).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,

    /// The syslog header before each synthetic record: none (the bare record, as NSS and LSS
    /// send it over TCP), 3164 (`<134>Nov 22 10:15:01 zscaler-nss nss: RECORD`, RFC 3164 with
    /// PRI and tag) or 5424 (`<134>1 2025-11-22T10:15:01Z zscaler-nss nss - - - RECORD`, RFC 5424
    /// without structured data). Its time is the record's feed time; host and tag are
    /// zscaler-nss and nss (zpa-lss and lss for --source lss). Without --header each source
    /// keeps its own: --dialect sekoia, --format leef and --format cef have the header their
    /// templates write (`Nov 22 10:15:01 zscaler-nss {…}`, `… zscaler-nss: LEEF:…`,
    /// `… zscaler-nss CEF:…`), which --header replaces (none removes it); the others have
    /// none. With --proto http only in lines (--http-array false: a JSON array holds bare
    /// objects); not with a FILE (sent as it is).
    #[arg(long, value_enum, value_name = "none|3164|5424")]
    pub header: Option<HeaderArg>,

    /// Seed of the synthetic sources: the same seed sends the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// PEM file of the CA that signed the collector's certificate (required by --proto tls;
    /// with --proto http it turns on HTTPS). The certificate must be valid for the host of
    /// --target, or for "localhost" when --target is an IP address.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// PEM file of loadgen's client certificate (its chain, the client's own first), for a
    /// collector that requires one: mutual TLS, as ztel's input.tls.client_ca asks and as LSS
    /// supports. With --key; applies to --proto tls and to https (--proto http with --ca).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// PEM file of the private key of --cert.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

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

    /// With --proto http: gzip each request body and send it with Content-Encoding: gzip, as
    /// Cloud NSS does for a feed set up for compressed bodies. "bytes sent" then counts the
    /// compressed bodies (what crosses the wire), and the report adds the bytes before
    /// compression. Bodies are compressed as they are sent (what a request carries depends on
    /// what is due), at the fastest level: about 200 MB/s of records per connection (200,000
    /// to 300,000 events/s), so at --rate max more --connections may be needed for loadgen not
    /// to be what limits the rate.
    #[arg(long)]
    pub gzip: bool,

    /// With --proto http: `true` posts each batch as a JSON array (Cloud NSS's "JSON Array
    /// Notation", its default); `false` posts one record per line [default: true for --format
    /// json, false for the others, which only go as lines].
    #[arg(long, value_name = "BOOL", value_parser = clap::value_parser!(bool))]
    pub http_array: Option<bool>,

    /// With --proto http: at most this many events per request [default: 100]. A request
    /// carries fewer when fewer are due (paced runs) or when --batch-bytes is reached.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: Option<u64>,

    /// With --proto http: a request's body stays within this many bytes (before --gzip); a
    /// single larger record still goes, alone [default: 524288, Cloud NSS's 512 KB].
    #[arg(long, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1024..=(64 << 20)))]
    pub batch_bytes: Option<u64>,

    /// The collector's admin endpoint (http://HOST:PORT): /metrics is read before and after the
    /// run to report, for this run, the events received (frames read) and lost, the records
    /// written, dead letters and duplicates among them, the UDP datagrams that ztel and the
    /// kernel dropped, and the collector's own latency.
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,

    /// Write the send lateness as an HdrHistogram interval log (one interval per second, tag
    /// send_lateness, values in microseconds) to FILE. Needs a --rate EPS: with --rate max (the
    /// default) no event has a due time to be late for.
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
pub enum Format {
    Json,
    Leef,
    Cef,
    Kv,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Ztel,
    Elastic,
    Sekoia,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeaderArg {
    None,
    #[value(name = "3164")]
    Rfc3164,
    #[value(name = "5424")]
    Rfc5424,
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
        Ok(eps) if eps.is_finite() && eps > 0.0 && eps <= MAX_RATE => Ok(Rate::PerSecond(eps)),
        // Past it the schedule's event count overflowed and no event was ever due: a hang.
        Ok(eps) if eps > MAX_RATE => Err(format!(
            "{s:?} is more than any sender sends ({MAX_RATE:e} events a second): give max"
        )),
        _ => Err(format!(
            "{s:?} is not a rate: give events per second (> 0) or max"
        )),
    }
}

/// The largest `--rate`: a billion events a second, a thousand times what one host sends.
const MAX_RATE: f64 = 1e9;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("max"), Ok(Rate::Max));
        assert_eq!(parse_rate("2500"), Ok(Rate::PerSecond(2500.0)));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("fast").is_err());
        // A rate this high hung the run: no event was ever due.
        assert_eq!(parse_rate("1e9"), Ok(Rate::PerSecond(1e9)));
        let e = parse_rate("1e25").unwrap_err();
        assert!(e.contains("give max"), "{e}");
    }

    #[test]
    fn count_or_duration_is_required() {
        let e = Args::try_parse_from(["loadgen", "--target", "127.0.0.1:1"]).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::MissingRequiredArgument,
            "{e}"
        );
        assert!(e.to_string().contains("--count"), "{e}");
    }

    #[test]
    fn formats_are_named_as_the_design_names_them() {
        let format = |f: &str| {
            Args::try_parse_from(["loadgen", "--target", "x:1", "--count", "1", "--format", f])
                .map(|a| a.format)
        };
        assert_eq!(format("json").unwrap(), Format::Json);
        assert_eq!(format("leef").unwrap(), Format::Leef);
        assert_eq!(format("cef").unwrap(), Format::Cef);
        assert_eq!(format("kv").unwrap(), Format::Kv);
        assert_eq!(format("csv").unwrap(), Format::Csv);
        assert!(format("xml").is_err());
    }
}
