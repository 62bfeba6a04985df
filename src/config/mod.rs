//! The configuration file (DESIGN §2.2): every key has a default, unknown keys are errors, and a
//! bad value is reported in one line that names its key. The doc comments of the fields below
//! are what `ztel config default` prints above each key ([`template`]), so the printed default
//! and the structs cannot drift apart.

mod defaults;
pub mod nats_url;
pub mod pem;
mod reload;
pub mod template;
pub mod types;
mod validate;

use std::path::{Path, PathBuf};

use documented::{Documented, DocumentedFields};
use serde::{Deserialize, Serialize};

pub use reload::waiting_for_restart;
pub use types::{Address, Cidr};
use wire::event::Kind;
use wire::format::csv::Columns;

use crate::batch::Source;
use jiff::tz::TimeZone;

/// The dead-letter file, in `data_dir`: not a setting, but a file no output may share.
pub const DEAD_LETTER_FILE: &str = "dead-letter.jsonl";

/// ztel's state in `data_dir`, which no output may be: the device registry, the duplicate
/// window (with its list of pending identities beside it, `dedup.pending`), the attribution
/// table saved at a clean stop (written as `attribution.table.tmp` first) and the NATS spool.
pub const STORE_FILE: &str = "devices.redb";
pub const WINDOW_FILE: &str = "dedup.window";
pub const ATTRIBUTION_FILE: &str = "attribution.table";
pub const SPOOL_DIR: &str = "nats-spool";

/// ztel configuration. Every key has a default: an empty file, or no file, runs these values.
/// Relative paths under [output] and [histograms] are inside data_dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Documented, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Executors to run, each pinned to a core. 0 = one per online core.
    pub shards: usize,
    /// Device registry, dead letters (dead-letter.jsonl), records and histogram logs.
    pub data_dir: PathBuf,
    /// Zone of NSS timestamps that carry none: an IANA name ("Europe/Paris") or a fixed offset
    /// ("+05:30"). Set it to the timezone of the NSS feed.
    pub feed_timezone: String,
    /// The inputs. An empty address disables an input. TCP, TLS and HTTP each need a port of
    /// their own (UDP may share TCP's).
    pub input: Inputs,
    /// Bounds on what a peer may make the collector hold.
    pub limits: Limits,
    /// Positional feeds (CSV or tab-separated, the NSS default output) name their fields by
    /// place: the NSS variable names of the feed's format, in order.
    pub formats: Formats,
    /// Where records and device events go.
    pub output: Output,
    /// The admin endpoint.
    pub admin: Admin,
    /// Latency histograms.
    pub histograms: Histograms,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Inputs {
    /// Plain TCP syslog: NSS web feeds and LSS log receivers.
    pub tcp: PlainInput,
    /// Plain UDP syslog: LSS log receivers. A datagram holds one or more LF-separated records.
    pub udp: PlainInput,
    /// TLS syslog: LSS log receivers with TLS. On only when cert and key are set.
    pub tls: TlsInput,
    /// Cloud NSS: HTTPS POST batches (a JSON array or newline-delimited JSON). HTTPS when cert
    /// and key are set. A body may be up to 64 x limits.max_frame_bytes (16 MiB by default).
    pub http: HttpInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct PlainInput {
    /// IP:PORT to listen on; "" turns the input off.
    pub address: Address,
    /// Zone of this input's NSS timestamps that carry none; "" = the global feed_timezone.
    pub feed_timezone: String,
    /// "Log Input Allowed IPs": IPs and CIDRs (v4, v6) allowed to send. Others are refused and
    /// counted.
    pub allowed_ips: Vec<Cidr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct TlsInput {
    /// IP:PORT to listen on; "" turns the input off.
    pub address: Address,
    /// Zone of this input's timestamps that carry none; "" = the global feed_timezone.
    pub feed_timezone: String,
    /// PEM certificate chain of this collector.
    pub cert: String,
    /// PEM private key of this collector.
    pub key: String,
    /// PEM CA; when set, clients must present a certificate it signed (mutual TLS).
    pub client_ca: String,
    /// "Log Input Allowed IPs": IPs and CIDRs (v4, v6) allowed to send.
    pub allowed_ips: Vec<Cidr>,
}

impl TlsInput {
    /// Whether the input listens: it has an address and a certificate (DESIGN §2.2).
    pub fn listens(&self) -> bool {
        self.address.get().is_some() && !self.cert.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct HttpInput {
    /// IP:PORT to listen on; "" turns the input off.
    pub address: Address,
    /// Zone of this input's timestamps that carry none; "" = the global feed_timezone. Cloud NSS
    /// feeds are usually set to GMT.
    pub feed_timezone: String,
    /// PEM certificate chain; with key, the input speaks HTTPS. Cloud NSS posts over HTTPS, so
    /// an input without one is an error unless plain is true.
    pub cert: String,
    /// PEM private key.
    pub key: String,
    /// true: serve plain HTTP on purpose (behind a proxy that ends TLS, or on a test bench);
    /// keys then cross the network in clear text.
    pub plain: bool,
    /// The request header that carries the key.
    pub header: String,
    /// The keys accepted in that header. With none, every request is refused.
    pub keys: Vec<String>,
    /// IPs and CIDRs allowed to post (Zscaler's cloud egress ranges). Others are answered 403
    /// and counted.
    pub allowed_ips: Vec<Cidr>,
}

impl HttpInput {
    /// Whether the input listens with TLS: it has an address and a certificate (plain with a
    /// certificate is refused by the config's checks).
    pub fn is_https(&self) -> bool {
        self.address.get().is_some() && !self.cert.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Formats {
    /// Web Log fields in order (`%s{login}` is "login"); [] = Zscaler's documented default.
    pub csv_web: Vec<String>,
    /// Firewall fields in order; [] = Zscaler's documented default.
    pub csv_firewall: Vec<String>,
    /// DNS fields in order; [] = Zscaler's documented default.
    pub csv_dns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest record accepted; a longer frame is skipped to its end and counted.
    pub max_frame_bytes: usize,
    /// Open connections per shard; one more waits for one to end, at most 250 ms after the
    /// shard first found itself full, then is refused and counted.
    pub max_connections: usize,
    /// A frame or an HTTP request must arrive within this long of its first byte, and a new
    /// connection must send its first byte within it. A TCP or TLS connection quiet between
    /// records stays open (NSS and LSS keep one for hours); an HTTP one is closed. 1 to
    /// 31536000 (a year).
    pub idle_timeout_secs: u64,
    /// Per shard: bytes that connections may hold beyond their first 64 KiB buffer (frames in
    /// progress, HTTP bodies); past it reads wait. At least max_frame_bytes x 64.
    pub buffer_budget_bytes: usize,
    /// Devices the registry holds at most (about 250 bytes of memory each, up to 16 KB for one
    /// with 32 IPs and 32 users of 256 bytes); past it a new hostname is not registered
    /// (ztel_devices_refused_total counts its changes), and its records are written all the same.
    pub max_devices: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// Connection records, JSON Lines. "-" writes them to stdout.
    pub records: String,
    /// Device events (created, tagged), JSON Lines. "-" writes them to stdout, unless the records
    /// go there.
    pub devices: String,
    /// Rotate an output file when it reaches this size.
    pub rotate_bytes: u64,
    /// NATS JetStream: many collectors, one stream, one device registry. Off while url is "".
    pub nats: Nats,
}

/// Debug by hand: `url` may hold a password, shown as `***`.
#[derive(Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Nats {
    /// Server URL ("nats://10.0.0.5:4222", "tls://…"); several comma-separated for a cluster.
    /// A server that wants a user and password: "nats://USER:PASSWORD@10.0.0.5:4222",
    /// percent-encoded as in any URL (never logged). "" = off: records and devices stay in
    /// local files only.
    pub url: String,
    /// NATS credentials file (JWT + nkey seed, as `nsc` writes it); "" = none.
    pub creds: String,
    /// PEM CA that signed the server's certificate; when set, TLS is required.
    pub tls_ca: String,
    /// JetStream stream, created if missing, with subjects "<subject_prefix>.>".
    pub stream: String,
    /// Records go to <prefix>.records.<kind>, device events to <prefix>.devices.
    pub subject_prefix: String,
    /// JetStream drops a message whose Nats-Msg-Id (the record's identity) it saw this recently:
    /// a replay that reached two collectors is stored once. 1 to 31536000 (a year).
    pub duplicate_window_secs: u64,
    /// JetStream KV bucket holding the device registry every collector shares (key = device_id).
    pub registry_bucket: String,
    /// Bytes of records not yet acknowledged by JetStream that data_dir/nats-spool may hold
    /// (records wait in memory while NATS takes them, here while it is unreachable or failing,
    /// and at shutdown). When full, the inputs are pushed back like a full channel.
    pub spool_bytes: u64,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats")
            .field("url", &nats_url::shown(&self.url))
            .field("creds", &self.creds)
            .field("tls_ca", &self.tls_ca)
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("duplicate_window_secs", &self.duplicate_window_secs)
            .field("registry_bucket", &self.registry_bucket)
            .field("spool_bytes", &self.spool_bytes)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Admin {
    /// HTTP: /metrics /healthz /devices /attribution /histograms. "" turns it off.
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DocumentedFields)]
#[serde(default, deny_unknown_fields)]
pub struct Histograms {
    /// How often shards' latency histograms are merged and logged.
    pub interval_secs: u64,
    /// HdrHistogram interval log.
    pub log: String,
}

/// Why a configuration was refused. Every variant names the key (or the file), so the one-line
/// message is enough to find the mistake.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // Not `source`: callers that print an error's chain (`{e:#}`) said the reason twice.
    #[error("cannot read {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: path.to_owned(),
            reason,
        })?;
        Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config = parse(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Number of shards to run: `shards`, or one per online core.
    pub fn shard_count(&self) -> usize {
        if self.shards > 0 {
            return self.shards;
        }
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }

    /// The zone of each input's feed times that carry none, by [`Source`]: its own
    /// `feed_timezone`, else the global one. An error names the key at fault.
    pub fn zones(&self) -> Result<[TimeZone; Source::COUNT], ConfigError> {
        let global = wire::time::parse_zone(&self.feed_timezone)
            .map_err(|m| validate::invalid("feed_timezone", m))?;
        let zone = |name: &str, key: &str| {
            if name.is_empty() {
                Ok(global.clone())
            } else {
                wire::time::parse_zone(name).map_err(|m| validate::invalid(key, m))
            }
        };
        let input = &self.input;
        let mut zones = [const { TimeZone::UTC }; Source::COUNT];
        for (source, name, key) in [
            (
                Source::Tcp,
                &input.tcp.feed_timezone,
                "input.tcp.feed_timezone",
            ),
            (
                Source::Udp,
                &input.udp.feed_timezone,
                "input.udp.feed_timezone",
            ),
            (
                Source::Tls,
                &input.tls.feed_timezone,
                "input.tls.feed_timezone",
            ),
            (
                Source::Http,
                &input.http.feed_timezone,
                "input.http.feed_timezone",
            ),
        ] {
            zones[source as usize] = zone(name, key)?;
        }
        Ok(zones)
    }

    /// The field orders of positional feeds: `[formats]` over Zscaler's defaults.
    pub fn columns(&self) -> Result<Columns, ConfigError> {
        let mut columns = Columns::default();
        for (kind, names, key) in [
            (Kind::ZiaWeb, &self.formats.csv_web, "formats.csv_web"),
            (
                Kind::ZiaFirewall,
                &self.formats.csv_firewall,
                "formats.csv_firewall",
            ),
            (Kind::ZiaDns, &self.formats.csv_dns, "formats.csv_dns"),
        ] {
            if !names.is_empty() {
                columns
                    .set(kind, names)
                    .map_err(|m| validate::invalid(key, m))?;
            }
        }
        Ok(columns)
    }

    /// An output path: "-" stays as is, relative paths resolve inside `data_dir`.
    pub fn output_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.data_dir.join(p)
        }
    }
}

/// Deserialises TOML text. A value of the wrong type or form is an error that names its key
/// (`input.udp.allowed_ips[0]: "10.0.0.0/33" is not an IP or CIDR`); broken TOML is one that
/// names its line.
fn parse(text: &str) -> Result<Config, ConfigError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let message = one_line_toml_error(text, &inner);
        if key.is_empty() || key == "." {
            ConfigError::Syntax {
                path: PathBuf::new(),
                message,
            }
        } else {
            ConfigError::Invalid { key, message }
        }
    })
}

/// toml's errors span several lines with a source excerpt; the CLI promises one line.
fn one_line_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut message = plain_expected(&e.message().trim().replace('\n', " "));
    // toml says nothing of a file that ends where a value should be (`address = `).
    if message.is_empty() {
        message = "the file ends where a value or a closing bracket or quote should be".into();
    }
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// serde names what it expected by Rust's types (`expected usize`, `expected struct
/// PlainInput`): said in the words of a config file instead.
fn plain_expected(message: &str) -> String {
    const WORDS: [(&str, &str); 10] = [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number of 0 or more"),
        ("usize", "a whole number of 0 or more"),
        ("i64", "a whole number"),
        ("f64", "a number"),
        ("a sequence", "a list ([...])"),
        ("a map", "a table"),
        ("a borrowed string", "a string"),
    ];
    let Some((before, expected)) = message.rsplit_once("expected ") else {
        return message.to_owned();
    };
    let words = match WORDS.iter().find(|(rust, _)| *rust == expected) {
        Some((_, words)) => (*words).to_owned(),
        None if expected.starts_with("struct ") => "a table".to_owned(),
        None => return message.to_owned(),
    };
    format!("{before}expected {words}")
}

/// A rotated name's stem and extension (`crate::sink::rotated` names the files): the file's
/// own, `jsonl` when it has none (so that a rotated file is always named as what it holds).
/// Here, where the sinks read it, because the check that two outputs' rotated files differ
/// needs the same rule.
pub fn rotated_parts(path: &Path) -> (&str, &str) {
    let stem = path.file_stem().and_then(|s| s.to_str());
    let ext = path.extension().and_then(|s| s.to_str());
    (stem.unwrap_or("output"), ext.unwrap_or("jsonl"))
}

#[cfg(test)]
mod tests;
