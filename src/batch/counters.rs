//! Counters. Each shard counts into plain integers of its own (no atomics on the hot path) and
//! hands the increments to the aggregator with each batch; the aggregator adds them up.

use wire::event::{Kind, Reason};

/// Everything a shard counts, besides parse failures by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    ConnectionsOpened,
    ConnectionsClosed,
    /// Peers outside `allowed_ips`.
    ConnectionsRefused,
    /// Connections over `max_connections`.
    ConnectionsOverLimit,
    /// Accepts that failed (out of file descriptors: EMFILE, ENFILE; out of memory); the
    /// connection waits in the listen backlog until an accept works.
    AcceptFailures,
    /// TLS handshakes that failed or timed out (a bad or missing client certificate counts here).
    TlsHandshakeFailures,
    /// Connections closed for sending nothing for `idle_timeout_secs`.
    IdleTimeouts,
    ReadErrors,
    BytesRead,
    Frames,
    DeadLetters,
    /// Dead letters counted (and in `DeadLetters`) but not written: past a batch's cap.
    DeadLettersUnkept,
    /// Frames over `max_frame_bytes`, skipped to their end.
    OversizeFrames,
    DeviceDeltas,
    /// Device keys, users, IPs and flow users longer than the registry and the attribution
    /// table keep; the record keeps them.
    ValuesTooLong,
    Datagrams,
    /// Datagrams from peers outside `allowed_ips`.
    DatagramsRefused,
    /// Datagrams dropped because the aggregator could not take them in time.
    DatagramsDropped,
    /// Datagrams the kernel dropped from a full socket receive buffer (SO_MEMINFO's drops).
    UdpKernelDrops,
    /// Reads that waited for the shard's buffer budget (`limits.buffer_budget_bytes`).
    BufferWaits,
    /// Records dropped as repeats of one already written (NSS duplicate logs, LSS replay).
    Duplicates,
    /// HTTP requests answered (input.http), whatever the answer.
    HttpRequests,
    /// HTTP requests refused for their key: missing (401) or wrong (403).
    HttpRejectedAuth,
    /// HTTP requests refused as malformed: 400, 405, 411, 413, 415, 417, 431, 501.
    HttpBadRequests,
    /// Batches a shard made fresh because none had come back from the aggregator yet.
    BatchesAllocated,
    /// Reads of framed bytes a shard handed to another shard to parse (a hot connection).
    Handoffs,
    /// Frames whose record left out what a client's text wrote (a key twice with two values, an
    /// envelope of its own), kept as `repeated_key` dead letters too (in `DeadLetters`).
    ContestedFrames,
}

impl Counter {
    /// The HELP text of its metric.
    pub fn help(self) -> &'static str {
        match self {
            Counter::ConnectionsOpened => "TCP, TLS and HTTP connections accepted.",
            Counter::ConnectionsClosed => "TCP, TLS and HTTP connections that ended.",
            Counter::ConnectionsRefused => {
                "Connections refused: peer not in allowed_ips, or, open, no longer admitted \
                 after a reload (its address, its client certificate)."
            }
            Counter::ConnectionsOverLimit => "Connections refused: over limits.max_connections.",
            Counter::AcceptFailures => {
                "Accepts that failed (out of file descriptors, or memory); the peer waits in the listen backlog."
            }
            Counter::TlsHandshakeFailures => "TLS handshakes that failed or timed out.",
            Counter::IdleTimeouts => {
                "Connections closed after limits.idle_timeout_secs of silence."
            }
            Counter::ReadErrors => "Reads that failed (resets, TLS errors).",
            Counter::BytesRead => {
                "Bytes read from sockets and taken (a UDP datagram refused or dropped is not counted)."
            }
            Counter::Frames => {
                "Frames (records as sent) parsed: records plus dead letters, less contested frames (both)."
            }
            Counter::DeadLetters => "Frames that became dead letters (written or not).",
            Counter::DeadLettersUnkept => {
                "Dead letters counted but not written: past 256 (or 1 MiB) in one batch."
            }
            Counter::OversizeFrames => "Frames over limits.max_frame_bytes, skipped.",
            Counter::DeviceDeltas => "Device changes sent by shards to the aggregator.",
            Counter::ValuesTooLong => {
                "Values over 256 bytes left out of the registry and attribution (records keep them)."
            }
            Counter::Datagrams => {
                "UDP datagrams taken (those refused or dropped are counted apart)."
            }
            Counter::DatagramsRefused => "UDP datagrams refused: peer not in allowed_ips.",
            Counter::DatagramsDropped => "UDP datagrams dropped while the aggregator was behind.",
            Counter::UdpKernelDrops => {
                "UDP datagrams the kernel dropped: the socket's receive buffer was full."
            }
            Counter::BufferWaits => {
                "Reads that waited for the shard's buffer budget (limits.buffer_budget_bytes)."
            }
            Counter::Duplicates => "Records dropped as repeats (NSS duplicate logs, LSS replay).",
            Counter::HttpRequests => {
                "HTTP requests of allowed peers, whatever the answer (if any); an outsider's 403 is in ztel_connections_refused_total."
            }
            Counter::HttpRejectedAuth => {
                "HTTP requests refused: key header missing (401) or wrong (403)."
            }
            Counter::HttpBadRequests => {
                "HTTP requests refused as malformed (400, 405, 411, 413, 415, 417, 431, 501), or whose body broke off."
            }
            Counter::BatchesAllocated => {
                "Batches a shard allocated because none had come back from the aggregator for reuse."
            }
            Counter::Handoffs => {
                "Reads of a busy connection handed to another shard to parse (counted where read)."
            }
            Counter::ContestedFrames => {
                "Frames recorded without what a client's text wrote (a key twice, an envelope), and dead letters too."
            }
        }
    }

    pub const ALL: [Counter; 27] = [
        Counter::ConnectionsOpened,
        Counter::ConnectionsClosed,
        Counter::ConnectionsRefused,
        Counter::ConnectionsOverLimit,
        Counter::AcceptFailures,
        Counter::TlsHandshakeFailures,
        Counter::IdleTimeouts,
        Counter::ReadErrors,
        Counter::BytesRead,
        Counter::Frames,
        Counter::DeadLetters,
        Counter::DeadLettersUnkept,
        Counter::OversizeFrames,
        Counter::DeviceDeltas,
        Counter::ValuesTooLong,
        Counter::Datagrams,
        Counter::DatagramsRefused,
        Counter::DatagramsDropped,
        Counter::UdpKernelDrops,
        Counter::BufferWaits,
        Counter::Duplicates,
        Counter::HttpRequests,
        Counter::HttpRejectedAuth,
        Counter::HttpBadRequests,
        Counter::BatchesAllocated,
        Counter::Handoffs,
        Counter::ContestedFrames,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Counter::ConnectionsOpened => "connections_opened",
            Counter::ConnectionsClosed => "connections_closed",
            Counter::ConnectionsRefused => "connections_refused",
            Counter::ConnectionsOverLimit => "connections_over_limit",
            Counter::AcceptFailures => "accept_failures",
            Counter::IdleTimeouts => "idle_timeouts",
            Counter::ReadErrors => "read_errors",
            Counter::BytesRead => "bytes_read",
            Counter::Frames => "frames",
            Counter::DeadLetters => "dead_letters",
            Counter::DeadLettersUnkept => "dead_letters_unkept",
            Counter::OversizeFrames => "oversize_frames",
            Counter::DeviceDeltas => "device_deltas",
            Counter::ValuesTooLong => "values_too_long",
            Counter::TlsHandshakeFailures => "tls_handshake_failures",
            Counter::Datagrams => "datagrams",
            Counter::DatagramsRefused => "datagrams_refused",
            Counter::DatagramsDropped => "datagrams_dropped",
            Counter::UdpKernelDrops => "udp_kernel_drops",
            Counter::BufferWaits => "buffer_waits",
            Counter::Duplicates => "duplicates",
            Counter::HttpRequests => "http_requests",
            Counter::HttpRejectedAuth => "http_rejected_auth",
            Counter::HttpBadRequests => "http_bad_requests",
            Counter::BatchesAllocated => "batches_allocated",
            Counter::Handoffs => "handoffs",
            Counter::ContestedFrames => "contested_frames",
        }
    }
}

/// A set of counts: a shard's increments since its last batch, or the aggregator's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    values: [u64; Counter::ALL.len()],
    records: [u64; Kind::COUNT],
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

    /// One record of `kind` made.
    pub fn record(&mut self, kind: Kind) {
        self.records[kind as usize] += 1;
    }

    /// Records of `kind` made.
    pub fn records_of(&self, kind: Kind) -> u64 {
        self.records[kind as usize]
    }

    /// Records made, of every kind.
    pub fn records(&self) -> u64 {
        self.records.iter().sum()
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
            .chain(&self.records)
            .chain(&self.parse_errors)
            .all(|v| *v == 0)
    }

    pub fn merge(&mut self, other: &Counters) {
        for (a, b) in self.values.iter_mut().zip(other.values) {
            *a += b;
        }
        for (a, b) in self.records.iter_mut().zip(other.records) {
            *a += b;
        }
        for (a, b) in self.parse_errors.iter_mut().zip(other.parse_errors) {
            *a += b;
        }
    }

    /// `name=value` pairs of the non-zero counts, for the one-line summaries on stderr.
    pub fn summary(&self) -> String {
        // Batches are made while nothing comes (UDP's, an idle shard's): no news of the feeds.
        let mut parts: Vec<String> = Counter::ALL
            .iter()
            .filter(|c| self.get(**c) > 0 && **c != Counter::BatchesAllocated)
            .map(|c| format!("{}={}", c.name(), self.get(*c)))
            .collect();
        for kind in Kind::ALL {
            if self.records_of(kind) > 0 {
                parts.push(format!(
                    "records_{}={}",
                    metric_name(kind),
                    self.records_of(kind)
                ));
            }
        }
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

/// A kind as it appears in metric and summary names: `zia.web` → `zia_web`.
pub fn metric_name(kind: Kind) -> String {
    kind.as_str().replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_made_while_nothing_came_are_no_news_in_the_summary() {
        // An idle collector with UDP on said `drained: batches_allocated=66`, not that nothing
        // was received.
        let mut counters = Counters::default();
        counters.add(Counter::BatchesAllocated, 66);
        assert_eq!(counters.summary(), "nothing received");
        counters.add(Counter::Frames, 2);
        assert_eq!(counters.summary(), "frames=2");
    }
}
