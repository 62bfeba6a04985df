//! Counters. Each shard counts into plain integers of its own (no atomics on the hot path) and
//! hands the increments to the aggregator with each batch; the aggregator adds them up.

use std::fmt::Write as _;

use crate::latency::Percentiles;
use crate::parse::Reason;

/// Everything a shard counts, besides parse failures by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    ConnectionsOpened,
    ConnectionsClosed,
    /// Peers outside `allowed_ips`.
    ConnectionsRefused,
    /// Connections over `max_connections`.
    ConnectionsOverLimit,
    /// TLS handshakes that failed or timed out (a bad or missing client certificate counts here).
    TlsHandshakeFailures,
    /// Connections closed for sending nothing for `idle_timeout_secs`.
    IdleTimeouts,
    ReadErrors,
    BytesRead,
    Frames,
    RecordsZiaWeb,
    RecordsZpaUserActivity,
    DeadLetters,
    /// Frames over `max_frame_bytes`, skipped to their end.
    OversizeFrames,
    DeviceDeltas,
    Datagrams,
    /// Datagrams from peers outside `allowed_ips`.
    DatagramsRefused,
    /// Datagrams dropped because the aggregator could not take them in time.
    DatagramsDropped,
    /// Records dropped as repeats of one already written (NSS duplicate logs, LSS replay).
    Duplicates,
    /// HTTP requests answered (input.http), whatever the answer.
    HttpRequests,
    /// HTTP requests refused for their key: missing (401) or wrong (403).
    HttpRejectedAuth,
    /// HTTP requests refused as malformed: 400, 405, 411, 413, 415, 417, 431, 501.
    HttpBadRequests,
}

impl Counter {
    /// The HELP text of its metric.
    pub fn help(self) -> &'static str {
        match self {
            Counter::ConnectionsOpened => "TCP, TLS and HTTP connections accepted.",
            Counter::ConnectionsClosed => "TCP, TLS and HTTP connections that ended.",
            Counter::ConnectionsRefused => "Connections refused: peer not in allowed_ips.",
            Counter::ConnectionsOverLimit => "Connections refused: over limits.max_connections.",
            Counter::TlsHandshakeFailures => "TLS handshakes that failed or timed out.",
            Counter::IdleTimeouts => {
                "Connections closed after limits.idle_timeout_secs of silence."
            }
            Counter::ReadErrors => "Reads that failed (resets, TLS errors).",
            Counter::BytesRead => "Bytes read from sockets.",
            Counter::Frames => "Frames (records as sent) parsed: records plus dead letters.",
            Counter::RecordsZiaWeb => "ZIA web connection records written.",
            Counter::RecordsZpaUserActivity => "ZPA user activity connection records written.",
            Counter::DeadLetters => "Frames written to the dead-letter file.",
            Counter::OversizeFrames => "Frames over limits.max_frame_bytes, skipped.",
            Counter::DeviceDeltas => "Device changes sent by shards to the aggregator.",
            Counter::Datagrams => "UDP datagrams received.",
            Counter::DatagramsRefused => "UDP datagrams refused: peer not in allowed_ips.",
            Counter::DatagramsDropped => "UDP datagrams dropped while the aggregator was behind.",
            Counter::Duplicates => "Records dropped as repeats (NSS duplicate logs, LSS replay).",
            Counter::HttpRequests => "HTTP requests answered, whatever the answer.",
            Counter::HttpRejectedAuth => {
                "HTTP requests refused: key header missing (401) or wrong (403)."
            }
            Counter::HttpBadRequests => {
                "HTTP requests refused as malformed: 400, 405, 411, 413, 415, 417, 431, 501."
            }
        }
    }

    pub const ALL: [Counter; 21] = [
        Counter::ConnectionsOpened,
        Counter::ConnectionsClosed,
        Counter::ConnectionsRefused,
        Counter::ConnectionsOverLimit,
        Counter::TlsHandshakeFailures,
        Counter::IdleTimeouts,
        Counter::ReadErrors,
        Counter::BytesRead,
        Counter::Frames,
        Counter::RecordsZiaWeb,
        Counter::RecordsZpaUserActivity,
        Counter::DeadLetters,
        Counter::OversizeFrames,
        Counter::DeviceDeltas,
        Counter::Datagrams,
        Counter::DatagramsRefused,
        Counter::DatagramsDropped,
        Counter::Duplicates,
        Counter::HttpRequests,
        Counter::HttpRejectedAuth,
        Counter::HttpBadRequests,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Counter::ConnectionsOpened => "connections_opened",
            Counter::ConnectionsClosed => "connections_closed",
            Counter::ConnectionsRefused => "connections_refused",
            Counter::ConnectionsOverLimit => "connections_over_limit",
            Counter::IdleTimeouts => "idle_timeouts",
            Counter::ReadErrors => "read_errors",
            Counter::BytesRead => "bytes_read",
            Counter::Frames => "frames",
            Counter::RecordsZiaWeb => "records_zia_web",
            Counter::RecordsZpaUserActivity => "records_zpa_user_activity",
            Counter::DeadLetters => "dead_letters",
            Counter::OversizeFrames => "oversize_frames",
            Counter::DeviceDeltas => "device_deltas",
            Counter::TlsHandshakeFailures => "tls_handshake_failures",
            Counter::Datagrams => "datagrams",
            Counter::DatagramsRefused => "datagrams_refused",
            Counter::DatagramsDropped => "datagrams_dropped",
            Counter::Duplicates => "duplicates",
            Counter::HttpRequests => "http_requests",
            Counter::HttpRejectedAuth => "http_rejected_auth",
            Counter::HttpBadRequests => "http_bad_requests",
        }
    }
}

/// A set of counts: a shard's increments since its last batch, or the aggregator's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    values: [u64; Counter::ALL.len()],
    parse_errors: [u64; Reason::COUNT],
}

impl Counters {
    pub fn add(&mut self, c: Counter, n: u64) {
        self.values[c as usize] += n;
    }

    pub fn incr(&mut self, c: Counter) {
        self.add(c, 1);
    }

    pub fn get(&self, c: Counter) -> u64 {
        self.values[c as usize]
    }

    pub fn parse_error(&mut self, r: Reason) {
        self.parse_errors[r as usize] += 1;
    }

    pub fn parse_errors(&self, r: Reason) -> u64 {
        self.parse_errors[r as usize]
    }

    pub fn is_zero(&self) -> bool {
        self.values
            .iter()
            .chain(&self.parse_errors)
            .all(|v| *v == 0)
    }

    pub fn merge(&mut self, other: &Counters) {
        for (a, b) in self.values.iter_mut().zip(other.values) {
            *a += b;
        }
        for (a, b) in self.parse_errors.iter_mut().zip(other.parse_errors) {
            *a += b;
        }
    }

    /// `name=value` pairs of the non-zero counts, for the one-line summaries on stderr.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Counter::ALL
            .iter()
            .filter(|c| self.get(**c) > 0)
            .map(|c| format!("{}={}", c.name(), self.get(*c)))
            .collect();
        for r in Reason::ALL {
            if self.parse_errors(r) > 0 {
                parts.push(format!("dead_{}={}", r.as_str(), self.parse_errors(r)));
            }
        }
        if parts.is_empty() {
            "nothing received".into()
        } else {
            parts.join(" ")
        }
    }
}

/// What the admin endpoint shows: published by the aggregator a few times a second.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Counts per shard, by shard index.
    pub shards: Vec<Counters>,
    pub totals: Counters,
    pub devices: usize,
    pub channel_depth: usize,
    pub channel_capacity: usize,
    pub attribution_entries: usize,
    pub interval_secs: u64,
    /// Per measure: since start, and over the last completed interval.
    pub latency: Vec<LatencySummary>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencySummary {
    pub name: &'static str,
    pub unit: &'static str,
    pub since_start: Percentiles,
    pub last_interval: Percentiles,
}

/// Renders the Prometheus text exposition format (version 0.0.4).
pub fn prometheus(s: &Snapshot) -> String {
    let mut out = String::with_capacity(16 << 10);
    let shard_rows = |c: &dyn Fn(&Counters) -> u64, out: &mut String, name: &str| {
        for (i, counts) in s.shards.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{i}\"}} {}", c(counts));
        }
        let _ = writeln!(out, "{name}{{shard=\"all\"}} {}", c(&s.totals));
    };
    for c in Counter::ALL {
        let name = format!("ztel_{}_total", c.name());
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", c.help());
        shard_rows(&|counts| counts.get(c), &mut out, &name);
    }
    let name = "ztel_dead_letters_by_reason_total";
    let _ = writeln!(
        out,
        "# HELP {name} Dead letters by reason.\n# TYPE {name} counter"
    );
    for r in Reason::ALL {
        for (i, counts) in s.shards.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\",shard=\"{i}\"}} {}",
                r.as_str(),
                counts.parse_errors(r)
            );
        }
        let _ = writeln!(
            out,
            "{name}{{reason=\"{}\",shard=\"all\"}} {}",
            r.as_str(),
            s.totals.parse_errors(r)
        );
    }
    let name = "ztel_connections_open";
    let _ = writeln!(
        out,
        "# HELP {name} TCP, TLS and HTTP connections open now.\n# TYPE {name} gauge"
    );
    shard_rows(
        &|c| {
            c.get(Counter::ConnectionsOpened)
                .saturating_sub(c.get(Counter::ConnectionsClosed))
        },
        &mut out,
        name,
    );
    for (name, help, value) in [
        ("ztel_devices", "Devices in the registry.", s.devices),
        (
            "ztel_channel_depth",
            "Batches waiting for the aggregator.",
            s.channel_depth,
        ),
        (
            "ztel_channel_capacity",
            "Batches the channel holds before shards stop reading.",
            s.channel_capacity,
        ),
        (
            "ztel_attribution_entries",
            "ZPA connections in the attribution table.",
            s.attribution_entries,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    for l in &s.latency {
        let name = format!("ztel_latency_{}_seconds", l.name);
        let p = &l.since_start;
        let _ = writeln!(
            out,
            "# HELP {name} Latency {} since start.\n# TYPE {name} summary",
            l.name.replace('_', " ")
        );
        for (q, v) in [
            ("0.5", p.p50),
            ("0.9", p.p90),
            ("0.99", p.p99),
            ("0.999", p.p99_9),
            ("0.9999", p.p99_99),
        ] {
            let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {}", micros(v));
        }
        let _ = writeln!(out, "{name}_sum {}", p.mean * p.count as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {}", p.count);
        let max = format!("ztel_latency_{}_max_seconds", l.name);
        let _ = writeln!(
            out,
            "# HELP {max} Largest latency {} since start.\n# TYPE {max} gauge\n{max} {}",
            l.name.replace('_', " "),
            micros(p.max)
        );
    }
    out
}

fn micros(v: u64) -> f64 {
    v as f64 / 1e6
}
