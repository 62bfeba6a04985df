//! The configuration file (DESIGN §2.2): every key has a default, unknown keys are errors, and a
//! bad value is reported in one line that names its key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

/// The commented TOML that `ztel config default` prints. A test parses it and compares it with
/// `Config::default()`, so the two cannot drift apart.
pub const DEFAULT_TOML: &str = include_str!("config_default.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Executors to run, one per core; 0 means one per online core.
    pub shards: usize,
    /// Where the registry, dead letters and histogram logs live; relative output paths resolve here.
    pub data_dir: PathBuf,
    /// Zone of NSS timestamps that carry none (ctime and "YYYY-MM-DD hh:mm:ss").
    pub feed_timezone: String,
    pub input: Inputs,
    pub limits: Limits,
    pub output: Output,
    pub admin: Admin,
    pub histograms: Histograms,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inputs {
    pub tcp: PlainInput,
    pub udp: PlainInput,
    pub tls: TlsInput,
    pub http: HttpInput,
}

/// A plain TCP or UDP syslog listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlainInput {
    /// "" disables the input.
    pub address: String,
    /// The seeds' "Log Input Allowed IPs": peers outside these are refused and counted.
    pub allowed_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsInput {
    pub address: String,
    pub cert: String,
    pub key: String,
    pub client_ca: String,
    pub allowed_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpInput {
    pub address: String,
    pub cert: String,
    pub key: String,
    pub header: String,
    pub keys: Vec<String>,
    pub allowed_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub idle_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// "-" writes records to stdout.
    pub records: String,
    pub devices: String,
    pub rotate_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Admin {
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Histograms {
    pub interval_secs: u64,
    pub log: String,
}

fn loopback() -> Vec<String> {
    vec!["127.0.0.0/8".into(), "::1/128".into()]
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shards: 0,
            data_dir: PathBuf::from("ztel-data"),
            feed_timezone: "UTC".into(),
            input: Inputs::default(),
            limits: Limits::default(),
            output: Output::default(),
            admin: Admin::default(),
            histograms: Histograms::default(),
        }
    }
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            tcp: PlainInput {
                address: "0.0.0.0:1514".into(),
                allowed_ips: loopback(),
            },
            udp: PlainInput {
                address: "0.0.0.0:1514".into(),
                allowed_ips: loopback(),
            },
            tls: TlsInput::default(),
            http: HttpInput::default(),
        }
    }
}

impl Default for PlainInput {
    fn default() -> Self {
        PlainInput {
            address: String::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for TlsInput {
    fn default() -> Self {
        TlsInput {
            address: "0.0.0.0:6514".into(),
            cert: String::new(),
            key: String::new(),
            client_ca: String::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for HttpInput {
    fn default() -> Self {
        HttpInput {
            address: String::new(),
            cert: String::new(),
            key: String::new(),
            header: "X-Ztel-Key".into(),
            keys: Vec::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 262_144,
            max_connections: 4096,
            idle_timeout_secs: 300,
        }
    }
}

impl Default for Output {
    fn default() -> Self {
        Output {
            records: "connections.jsonl".into(),
            devices: "devices.jsonl".into(),
            rotate_bytes: 1 << 30,
        }
    }
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            address: "127.0.0.1:9514".into(),
        }
    }
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            interval_secs: 10,
            log: "latency.hlog".into(),
        }
    }
}

/// Why a configuration was refused. Every variant names the key, so the one-line message is
/// enough to find the mistake.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: path.to_owned(),
                message,
            },
            other => other,
        })?;
        Ok(config)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: PathBuf::new(),
            message: one_line_toml_error(text, &e),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value that serde's types cannot: addresses, networks, zones, limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.shards > 1024 {
            return Err(invalid("shards", "at most 1024"));
        }
        crate::parse::time::parse_zone(&self.feed_timezone)
            .map_err(|m| invalid("feed_timezone", m))?;
        let inputs = [
            (
                "input.tcp",
                &self.input.tcp.address,
                &self.input.tcp.allowed_ips,
            ),
            (
                "input.udp",
                &self.input.udp.address,
                &self.input.udp.allowed_ips,
            ),
            (
                "input.tls",
                &self.input.tls.address,
                &self.input.tls.allowed_ips,
            ),
            (
                "input.http",
                &self.input.http.address,
                &self.input.http.allowed_ips,
            ),
        ];
        for (section, address, allowed) in inputs {
            parse_address(&format!("{section}.address"), address)?;
            parse_allow_list(&format!("{section}.allowed_ips"), allowed)?;
        }
        let tls = &self.input.tls;
        if tls.cert.is_empty() != tls.key.is_empty() {
            return Err(invalid(
                "input.tls.cert",
                "cert and key must be set together",
            ));
        }
        if !tls.client_ca.is_empty() && tls.cert.is_empty() {
            return Err(invalid("input.tls.client_ca", "needs cert and key"));
        }
        self.validate_http()?;
        if !(1024..=64 << 20).contains(&self.limits.max_frame_bytes) {
            return Err(invalid(
                "limits.max_frame_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if self.limits.max_connections == 0 {
            return Err(invalid("limits.max_connections", "must be at least 1"));
        }
        if self.limits.idle_timeout_secs == 0 {
            return Err(invalid("limits.idle_timeout_secs", "must be at least 1"));
        }
        if self.output.records.is_empty() {
            return Err(invalid("output.records", "must be a path or \"-\""));
        }
        if self.output.devices.is_empty() {
            return Err(invalid("output.devices", "must be a path"));
        }
        if self.output.rotate_bytes < 1 << 20 {
            return Err(invalid("output.rotate_bytes", "must be at least 1048576"));
        }
        parse_address("admin.address", &self.admin.address)?;
        if self.histograms.interval_secs == 0 {
            return Err(invalid("histograms.interval_secs", "must be at least 1"));
        }
        Ok(())
    }

    /// `[input.http]`: certificate pair, key header, keys, and an address that no other stream
    /// input shares (SO_REUSEPORT would let two inputs split one port's connections).
    fn validate_http(&self) -> Result<(), ConfigError> {
        let http = &self.input.http;
        if http.cert.is_empty() != http.key.is_empty() {
            return Err(invalid(
                "input.http.cert",
                "cert and key must be set together",
            ));
        }
        if http.header.is_empty() || !http.header.bytes().all(is_token_byte) {
            return Err(invalid(
                "input.http.header",
                format!("{:?} is not an HTTP header name", http.header),
            ));
        }
        for key in &http.keys {
            if key.is_empty() {
                return Err(invalid("input.http.keys", "a key cannot be empty"));
            }
            // Header values are visible ASCII; a peer's spaces around the value are not part of it.
            if !key.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) || key.trim() != key {
                return Err(invalid(
                    "input.http.keys",
                    "a key is visible ASCII, without spaces at either end",
                ));
            }
        }
        let Some(addr) = parse_address("input.http.address", &http.address)? else {
            return Ok(());
        };
        let mut others = vec![("input.tcp.address", &self.input.tcp.address)];
        if !self.input.tls.cert.is_empty() {
            others.push(("input.tls.address", &self.input.tls.address));
        }
        for (key, other) in others {
            let Some(other) = parse_address(key, other)? else {
                continue;
            };
            let overlap = addr.ip() == other.ip()
                || addr.ip().is_unspecified()
                || other.ip().is_unspecified();
            if addr.port() != 0 && addr.port() == other.port() && overlap {
                return Err(invalid(
                    "input.http.address",
                    format!("{addr} is the port of {key} ({other})"),
                ));
            }
        }
        Ok(())
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

/// A character of an HTTP token (RFC 9110 §5.6.2), as a header name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// An input's address: `None` when disabled ("").
pub fn parse_address(key: &str, address: &str) -> Result<Option<SocketAddr>, ConfigError> {
    if address.is_empty() {
        return Ok(None);
    }
    address.parse().map(Some).map_err(|_| {
        invalid(
            key,
            format!("{address:?} is not IP:PORT (\"[::1]:1514\" for IPv6)"),
        )
    })
}

/// The allow-list of one input: IPs and CIDRs, v4 and v6.
pub fn parse_allow_list(key: &str, entries: &[String]) -> Result<AllowList, ConfigError> {
    let mut nets = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = entry.trim();
        let net = match entry.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => match entry.parse::<IpAddr>() {
                Ok(ip) => IpNet::from(ip),
                Err(_) => return Err(invalid(key, format!("{entry:?} is not an IP or CIDR"))),
            },
        };
        nets.push(net);
    }
    Ok(AllowList { nets })
}

/// Peers an input admits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl AllowList {
    pub fn admits(&self, ip: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; the list is written in IPv4.
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

/// toml's errors span several lines with a source excerpt; the CLI promises one line.
fn one_line_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_is_the_default_config() {
        let parsed = Config::from_toml(DEFAULT_TOML).expect("default config parses");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn empty_file_is_the_default_config() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Config::from_toml("shards = 1\n[limits]\nmax_frame = 5\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("max_frame"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[input.tcp]\naddress = \"nope\"", "input.tcp.address"),
            (
                "[input.udp]\nallowed_ips = [\"10.0.0.0/33\"]",
                "input.udp.allowed_ips",
            ),
            ("feed_timezone = \"Mars/Olympus\"", "feed_timezone"),
            ("[limits]\nmax_frame_bytes = 10", "limits.max_frame_bytes"),
            ("[input.tls]\ncert = \"a.pem\"", "input.tls.cert"),
            ("[admin]\naddress = \"localhost\"", "admin.address"),
            ("[input.http]\ncert = \"a.pem\"", "input.http.cert"),
            ("[input.http]\nheader = \"X Key\"", "input.http.header"),
            ("[input.http]\nheader = \"\"", "input.http.header"),
            ("[input.http]\nkeys = [\"\"]", "input.http.keys"),
            ("[input.http]\nkeys = [\" k1\"]", "input.http.keys"),
            ("[input.http]\nkeys = [\"k\\u0001\"]", "input.http.keys"),
            (
                "[input.http]\naddress = \"127.0.0.1:1514\"",
                "input.http.address",
            ),
        ];
        for (text, key) in cases {
            let msg = Config::from_toml(text).unwrap_err().to_string();
            assert!(msg.starts_with(key), "{text:?} gave {msg}");
        }
    }

    #[test]
    fn wrong_type_is_a_syntax_error_with_line() {
        let msg = Config::from_toml("\n\nshards = \"two\"")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn allow_list_takes_ips_and_cidrs_and_mapped_v4() {
        let list = parse_allow_list(
            "k",
            &["10.1.2.3".into(), "192.168.0.0/16".into(), "::1/128".into()],
        )
        .unwrap();
        assert!(list.admits("10.1.2.3".parse().unwrap()));
        assert!(!list.admits("10.1.2.4".parse().unwrap()));
        assert!(list.admits("192.168.7.9".parse().unwrap()));
        assert!(list.admits("::ffff:192.168.7.9".parse().unwrap()));
        assert!(list.admits("::1".parse().unwrap()));
        assert!(!list.admits("::2".parse().unwrap()));
    }

    #[test]
    fn relative_outputs_live_in_data_dir() {
        let c = Config::default();
        assert_eq!(
            c.output_path("connections.jsonl"),
            Path::new("ztel-data/connections.jsonl")
        );
        assert_eq!(c.output_path("/var/log/x"), Path::new("/var/log/x"));
    }
}
