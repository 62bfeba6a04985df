//! Checks of a whole configuration that its types cannot make: zones, ranges, keys that go
//! together, and inputs that would share a port.

use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

pub(super) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// Checks what the types alone cannot: zones, ranges, keys that go together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.shards > 1024 {
            return Err(invalid("shards", "at most 1024"));
        }
        self.zones()?;
        self.columns()?;
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
        // The default address without a certificate is the input off (DESIGN §2.2); an address
        // of the user's own says they meant it to listen.
        let default_tls = super::TlsInput::default().address;
        if tls.cert.is_empty() && tls.address.get().is_some() && tls.address != default_tls {
            return Err(invalid(
                "input.tls.address",
                "TLS needs input.tls.cert and input.tls.key (or set the address to \"\" to turn \
                 the input off)",
            ));
        }
        self.validate_http()?;
        self.validate_stream_ports()?;
        if !(1024..=64 << 20).contains(&self.limits.max_frame_bytes) {
            return Err(invalid(
                "limits.max_frame_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if self.limits.max_devices == 0 {
            return Err(invalid("limits.max_devices", "must be at least 1"));
        }
        if self.limits.max_connections == 0 {
            return Err(invalid("limits.max_connections", "must be at least 1"));
        }
        // The largest HTTP body must fit, or its request would wait for ever.
        if (self.limits.buffer_budget_bytes as u64) < self.limits.max_frame_bytes as u64 * 64 {
            return Err(invalid(
                "limits.buffer_budget_bytes",
                "must be at least limits.max_frame_bytes x 64 (the largest HTTP body)",
            ));
        }
        within_a_year("limits.idle_timeout_secs", self.limits.idle_timeout_secs)?;
        // Here, where `config check` sees it: at the start a directory stops the records and
        // the devices from opening, and the latency log goes without a file (an ERROR line).
        for (key, path) in [
            ("output.records", &self.output.records),
            ("output.devices", &self.output.devices),
        ] {
            if path != "-" && !names_a_file(path) {
                return Err(invalid(
                    key,
                    format!("{path:?} names no file: give a file's path, or \"-\" for stdout"),
                ));
            }
        }
        if !names_a_file(&self.histograms.log) {
            return Err(invalid(
                "histograms.log",
                format!(
                    "{:?} names no file: give a file's path",
                    self.histograms.log
                ),
            ));
        }
        // Two outputs in one file, or both on stdout, mix their lines, and the records file's
        // offsets, which the duplicate window keeps across a crash (aggregate/dedup.rs), would
        // be wrong. "-" is stdout (None) for the records and the devices only, as run.rs opens
        // them; elsewhere it is a file of that name.
        let place =
            |path: &str, stdout: bool| (!stdout || path != "-").then(|| self.output_path(path));
        let outputs = [
            ("output.records", place(&self.output.records, true)),
            ("output.devices", place(&self.output.devices, true)),
            ("histograms.log", place(&self.histograms.log, false)),
            (
                "the dead-letter file",
                place(super::DEAD_LETTER_FILE, false),
            ),
        ];
        for (key, place) in &outputs {
            // Found here rather than as "Is a directory" when `serve` opens it.
            if let Some(dir) = place.as_deref().filter(|p| p.is_dir()) {
                let message = format!("{} is a directory: give a file's path", dir.display());
                return Err(invalid(key, message));
            }
            if let Some(state) = place.as_deref().and_then(|p| self.state_named(p)) {
                return Err(invalid(
                    key,
                    format!(
                        "must not be ztel's own {state} in data_dir: its lines would destroy it"
                    ),
                ));
            }
        }
        for (at, (key, place)) in outputs.iter().enumerate() {
            for (other, other_place) in &outputs[at + 1..] {
                if place.as_deref().map(resolved) == other_place.as_deref().map(resolved) {
                    let message = match place {
                        None => {
                            format!("\"-\" (stdout) is also {other}: the lines of both would mix")
                        }
                        Some(_) => format!("must not be the file of {other}"),
                    };
                    return Err(invalid(key, message));
                }
                // `records = "dead-letter"` rotates to `dead-letter-<time>.jsonl`, as the
                // dead-letter file does: each one's removal of its oldest would take the other's.
                if let (Some(a), Some(b)) = (place, other_place) {
                    if rotated_family(a) == rotated_family(b) {
                        let message = format!(
                            "its rotated files would be named as those of {other} (and removed \
                             with them): give it another name"
                        );
                        return Err(invalid(key, message));
                    }
                }
            }
        }
        // What `serve` would fail to create, said where `config check` sees it.
        directory_or_none("data_dir", &self.data_dir)?;
        for (key, place) in &outputs {
            if let Some(parent) = place.as_deref().and_then(Path::parent) {
                directory_or_none(key, parent)?;
            }
        }
        if self.output.rotate_bytes < 1 << 20 {
            return Err(invalid("output.rotate_bytes", "must be at least 1048576"));
        }
        // Bounded as every other duration: past a year no interval is ever logged.
        within_a_year("histograms.interval_secs", self.histograms.interval_secs)?;
        self.validate_nats()
    }

    /// The name of ztel's state that `path` is or lies in, if any: the store, the duplicate
    /// window and its pending list, the store's opening marker, the saved attribution table and
    /// its temporary, the NATS spool, a spill file.
    fn state_named(&self, path: &Path) -> Option<String> {
        let store = Path::new(super::STORE_FILE);
        let window = Path::new(super::WINDOW_FILE);
        let attribution = Path::new(super::ATTRIBUTION_FILE);
        let files = [
            store.to_owned(),
            store.with_extension("redb.opening"),
            window.to_owned(),
            window.with_extension("pending"),
            attribution.to_owned(),
            attribution.with_extension("table.tmp"),
        ];
        if let Some(file) = files.iter().find(|f| path == self.data_dir.join(f)) {
            return Some(file.display().to_string());
        }
        if path.starts_with(self.data_dir.join(super::SPOOL_DIR)) {
            return Some(format!("{}/", super::SPOOL_DIR));
        }
        let spill = path.parent() == Some(self.data_dir.as_path())
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("spill-"));
        spill.then(|| "spill-*.jsonl".to_owned())
    }

    /// `[output.nats]`: its values always (a value out of range must not pass `config check`
    /// until the day NATS is turned on), its URL and files when it is on. Names are checked
    /// here, where the key can be named, rather than by the server later.
    fn validate_nats(&self) -> Result<(), ConfigError> {
        let nats = &self.output.nats;
        // JetStream stream names: no spaces, dots, wildcards or path separators.
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !name_ok(&nats.stream) {
            return Err(invalid(
                "output.nats.stream",
                "letters, digits, '-' and '_' only",
            ));
        }
        if !name_ok(&nats.registry_bucket) {
            return Err(invalid(
                "output.nats.registry_bucket",
                "letters, digits, '-' and '_' only",
            ));
        }
        // Dot-separated subject tokens, none empty and none a wildcard.
        let prefix_ok = nats.subject_prefix.split('.').all(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'>')
        });
        if !prefix_ok {
            return Err(invalid(
                "output.nats.subject_prefix",
                "dot-separated tokens without spaces, '*' or '>'",
            ));
        }
        within_a_year(
            "output.nats.duplicate_window_secs",
            nats.duplicate_window_secs,
        )?;
        if nats.spool_bytes < 1 << 20 {
            return Err(invalid(
                "output.nats.spool_bytes",
                "must be at least 1048576",
            ));
        }
        if nats.url.trim().is_empty() {
            return Ok(());
        }
        // Here too, not only at the start: `config check` must refuse what `serve` would.
        super::nats_url::endpoints(&nats.url).map_err(|e| invalid("output.nats.url", e))?;
        // Read as the client will read them at the start, so that `config check` refuses them.
        if !nats.creds.is_empty() {
            std::fs::read_to_string(&nats.creds)
                .and_then(|text| async_nats::ConnectOptions::with_credentials(&text))
                .map_err(|e| {
                    let message =
                        format!("{} is not a usable NATS credentials file: {e}", nats.creds);
                    invalid("output.nats.creds", message)
                })?;
        }
        if !nats.tls_ca.is_empty() {
            // A file with no certificate in it (a key, a truncated copy) passed, and the
            // connection then failed with rustls's `UnknownIssuer`, naming no file.
            use rustls::pki_types::{pem::PemObject, CertificateDer};
            // Read as the connection reads it: every section must parse.
            let certs = CertificateDer::pem_file_iter(&nats.tls_ca)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map(|certs| certs.len())
                .map_err(super::pem::pem_message);
            match certs {
                Ok(0) => {
                    let message = format!("{}: no PEM certificate in the file", nats.tls_ca);
                    return Err(invalid("output.nats.tls_ca", message));
                }
                Ok(_) => {}
                Err(e) => {
                    let message = format!("cannot read {}: {e}", nats.tls_ca);
                    return Err(invalid("output.nats.tls_ca", message));
                }
            }
        }
        Ok(())
    }

    /// What is valid but likely a mistake, one line each naming the key: `config check` prints
    /// these and `serve` logs them at start.
    pub fn warnings(&self) -> Vec<String> {
        let input = &self.input;
        let mut warnings = Vec::new();
        let tls_on = input.tls.listens();
        for (key, on, allowed) in [
            (
                "input.tcp",
                input.tcp.address.get().is_some(),
                &input.tcp.allowed_ips,
            ),
            (
                "input.udp",
                input.udp.address.get().is_some(),
                &input.udp.allowed_ips,
            ),
            ("input.tls", tls_on, &input.tls.allowed_ips),
            (
                "input.http",
                input.http.address.get().is_some(),
                &input.http.allowed_ips,
            ),
        ] {
            if on && allowed.is_empty() {
                warnings.push(format!(
                    "{key}.allowed_ips is empty: every peer is refused (list the senders' \
                     addresses, or set the address to \"\" to turn the input off)"
                ));
            }
        }
        let any_on = input.tcp.address.get().is_some()
            || input.udp.address.get().is_some()
            || tls_on
            || input.http.address.get().is_some();
        if !any_on {
            warnings.push(
                "input: no input is on (every address is \"\", and input.tls needs a \
                 certificate): nothing will be received"
                    .into(),
            );
        }
        // Allowed (a test box, a collector sharing its host), but a typo of 64 for 4 cost a
        // gigabyte without a word.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if self.shards > cores {
            warnings.push(format!(
                "shards = {} is more than the {cores} cores here: each shard is a thread with                  its own buffers and rings (about 14 MB), and shards on one core take turns                  (0 runs one a core)",
                self.shards
            ));
        }
        let http = &input.http;
        if http.address.get().is_some() && http.keys.is_empty() {
            // Here rather than at the bind: a reload that empties the list warns as a start does.
            warnings.push(
                "input.http.keys is empty: every request is refused (403; list the keys the \
                 Cloud NSS feeds send)"
                    .into(),
            );
        }
        if http.address.get().is_some() && http.cert.is_empty() && !http.keys.is_empty() {
            warnings.push(
                "input.http: plain HTTP with keys: each request carries its key in clear text \
                 (set input.http.cert and input.http.key to serve HTTPS)"
                    .into(),
            );
        }
        warnings
    }

    /// No two stream inputs that listen (TCP; TLS with its certificate; HTTP) share a port:
    /// each binds with SO_REUSEPORT, so the kernel would split the port's connections between
    /// them, and a sender would reach a listener that does not speak its protocol. Nor does the
    /// admin endpoint, whose start would fail. A wildcard address takes the port on every
    /// address.
    fn validate_stream_ports(&self) -> Result<(), ConfigError> {
        let input = &self.input;
        let listening = [
            ("input.tcp.address", input.tcp.address.get()),
            (
                "input.tls.address",
                input.tls.address.get().filter(|_| input.tls.listens()),
            ),
            ("input.http.address", input.http.address.get()),
            // Not bound with SO_REUSEPORT: on an input's port the start fails, naming the input.
            ("admin.address", self.admin.address.get()),
        ];
        for (at, (key, addr)) in listening.iter().enumerate() {
            let Some(addr) = addr else {
                continue;
            };
            for (other_key, other) in &listening[..at] {
                let Some(other) = other else {
                    continue;
                };
                if clash(*addr, *other) {
                    return Err(invalid(
                        key,
                        format!("{addr} is the port of {other_key} ({other})"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `[input.http]`: certificate pair, key header and keys.
    fn validate_http(&self) -> Result<(), ConfigError> {
        let http = &self.input.http;
        if http.cert.is_empty() != http.key.is_empty() {
            return Err(invalid(
                "input.http.cert",
                "cert and key must be set together",
            ));
        }
        if http.plain && !http.cert.is_empty() {
            return Err(invalid(
                "input.http.plain",
                "plain HTTP, yet cert and key are set for HTTPS: choose one",
            ));
        }
        if http.address.get().is_some() && http.cert.is_empty() && !http.plain {
            return Err(invalid(
                "input.http.cert",
                "Cloud NSS posts over HTTPS: set input.http.cert and input.http.key, or \
                 input.http.plain = true to serve plain HTTP on purpose",
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
        Ok(())
    }
}

/// Whether two listeners would share connections: the same port (not 0, which the system
/// chooses) on the same address, IPv4-mapped IPv6 ones as their IPv4, or on every address of
/// the other's family: `0.0.0.0` takes IPv4's, `::` both (the inputs leave IPV6_V6ONLY off, as
/// Linux does by default).
fn clash(a: std::net::SocketAddr, b: std::net::SocketAddr) -> bool {
    let (x, y) = (a.ip().to_canonical(), b.ip().to_canonical());
    let covers = |any: std::net::IpAddr, other: std::net::IpAddr| {
        any.is_unspecified() && (any.is_ipv6() || other.is_ipv4())
    };
    a.port() != 0 && a.port() == b.port() && (x == y || covers(x, y) || covers(y, x))
}

/// The most seconds a duration key takes: a year.
const YEAR_SECS: u64 = 365 * 24 * 3600;

/// A duration of 1 s to a year. Larger ones overflow where they are used: the idle timeout is
/// added to an Instant for every read (glommio panics, and the collector aborts), and JetStream
/// takes the duplicate window in i64 nanoseconds, which wraps.
/// `path` is a directory, or can be made one: the nearest part of it that exists is one (a file
/// there makes `serve` fail with "File exists" or "Not a directory", which name no culprit).
fn directory_or_none(key: &str, path: &Path) -> Result<(), ConfigError> {
    for at in path.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match std::fs::metadata(at) {
            Ok(found) if found.is_dir() => return Ok(()),
            Ok(_) => {
                let message = format!("{} is a file, not a directory", at.display());
                return Err(invalid(key, message));
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

fn within_a_year(key: &str, secs: u64) -> Result<(), ConfigError> {
    if (1..=YEAR_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("must be between 1 and {YEAR_SECS} (a year)"),
        ))
    }
}

/// Whether `path` ends in a file name, not in "", "/", "." or "..", which name no file or a
/// directory. A directory of the same name as the file is found only when it is opened.
fn names_a_file(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !matches!(last, "" | "." | "..")
}

/// A character of an HTTP token (RFC 9110 §5.6.2), as a header name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a file's rotated files are named by: its folder, and the stem and extension of
/// [`super::rotated_parts`].
fn rotated_family(path: &Path) -> (Option<PathBuf>, String, String) {
    let (stem, ext) = super::rotated_parts(path);
    (
        resolved(path).parent().map(Path::to_owned),
        stem.to_owned(),
        ext.to_owned(),
    )
}

/// Where `path` lands, as far as the disk says now: `sub/../x.jsonl` and a link to `x.jsonl` are
/// `x.jsonl` (two outputs named so passed as two files, and mixed their lines in one). A file not
/// there yet is its folder's, resolved, and its name; what cannot be resolved stays as written.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| path.to_owned(), |dir| dir.join(name)),
        _ => path.to_owned(),
    }
}
