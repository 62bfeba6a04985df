//! What crosses from a shard to the aggregator: a [`Batch`], the product of one read (or of a few
//! small ones), never a single event. Records are already serialised; everything else in it is
//! small and flat, so that the aggregator only writes bytes and merges.

pub mod channel;
pub mod counters;
pub mod pool;
pub mod receipt;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use wire::device::Tag;
use wire::event::{Kind, Reason};

use counters::{Counter, Counters};

/// What a shard hands the aggregator.
#[derive(Debug, Default)]
pub struct Batch {
    pub shard: usize,
    /// The input its frames and counts came in on: `/metrics` labels counts by input.
    pub source: Source,
    /// Serialised records, one JSON line each.
    pub records: Vec<u8>,
    pub devices: Vec<DeviceDelta>,
    pub dead: Vec<DeadLetter>,
    /// Raw bytes of `dead`, for the cap.
    dead_bytes: usize,
    /// Where each record with an identity ends in `records`, for de-duplication across shards.
    pub identities: Vec<Identity>,
    /// ZPA connections for the aggregator's attribution table.
    pub flows: Vec<FlowNote>,
    /// Text the flow notes and device deltas point into: one buffer per batch instead of
    /// strings per record.
    pub flow_text: String,
    pub counters: Counters,
    /// When its first bytes were read (monotonic clock): where read→sink latency starts.
    pub read_at: Option<Instant>,
    /// When the shard offered it to the channel: where the channel wait starts.
    pub sent_at: Option<Instant>,
    /// Time the shard spent framing and parsing it.
    pub parse_time: Duration,
    /// Signed once its records are safe, for a sender that answers only then (Cloud NSS).
    pub receipt: Option<receipt::Receipt>,
}

impl Batch {
    pub fn new(shard: usize, source: Source) -> Self {
        Batch {
            shard,
            source,
            records: Vec::with_capacity(64 << 10),
            ..Batch::default()
        }
    }

    /// A batch for the frames of one read of `bytes`.
    pub fn for_read(shard: usize, source: Source, bytes: usize) -> Self {
        let mut batch = Batch {
            shard,
            source,
            ..Batch::default()
        };
        batch.reserve_for(bytes);
        batch
    }

    /// Makes room for the frames of a read of `bytes`. A record takes up to about one and a
    /// half times the bytes of its frame (longer keys, RFC 3339 times, a device id), so the
    /// buffer rarely grows; a frame is a few hundred bytes or more, so an identity per 256 bytes
    /// is enough. Called on an empty batch, new or recycled, before its first frame.
    pub fn reserve_for(&mut self, bytes: usize) {
        debug_assert!(self.records.is_empty(), "sized before its first frame");
        let bytes = bytes.clamp(4 << 10, 1 << 20);
        let records = bytes + bytes / 2;
        if self.records.capacity() < records {
            // Replaced, not grown: growing the empty buffer would still copy its old capacity's
            // stale bytes, into pages that are then all touched. Doubled as growing would be,
            // so that a buffer is replaced a few times at most.
            self.records = Vec::with_capacity(records.max(2 * self.records.capacity()));
        }
        self.identities.reserve(bytes / 256);
    }

    /// Empties a batch that came back from the aggregator, keeping its buffers, for the next
    /// read of `source` on `shard`.
    pub fn recycle(&mut self, shard: usize, source: Source) {
        self.shard = shard;
        self.source = source;
        self.records.clear();
        self.devices.clear();
        self.dead.clear();
        self.dead_bytes = 0;
        self.identities.clear();
        self.flows.clear();
        self.flow_text.clear();
        self.counters = Counters::default();
        self.read_at = None;
        self.sent_at = None;
        self.parse_time = Duration::ZERO;
        self.receipt = None;
    }

    /// A batch that carries only counts (a connection's end, a refused peer).
    pub fn counts(shard: usize, source: Source) -> Self {
        Batch {
            shard,
            source,
            ..Batch::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.devices.is_empty()
            && self.dead.is_empty()
            && self.flows.is_empty()
            && self.counters.is_zero()
    }

    /// Records made: the counters already say.
    pub fn records_made(&self) -> u64 {
        self.counters.records()
    }

    /// The text of a flow note's span.
    pub fn text(&self, span: &Span) -> &str {
        self.flow_text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Keeps `text` in the batch's flow text and returns where it is.
    pub fn keep_text(&mut self, text: &str) -> Span {
        let start = self.flow_text.len() as u32;
        self.flow_text.push_str(text);
        start..self.flow_text.len() as u32
    }

    /// Keeps a frame that did not become a record, with why. Past [`DEAD_KEPT`] dead letters or
    /// [`DEAD_BYTES`] of them in one batch the rest are only counted: a flood of tiny bad frames
    /// (`x\n`, a body of `[1,1,1,…]`) would otherwise cost a hundred bytes of memory and of
    /// output each, whatever its size, and the first few are what tells an operator why.
    pub fn dead_letter(&mut self, reason: Reason, origin: &Origin, raw: &[u8]) {
        self.counters.incr(Counter::DeadLetters);
        self.counters.parse_error(reason);
        let cost = raw.len() + DEAD_OVERHEAD;
        if !self.dead.is_empty()
            && (self.dead.len() >= DEAD_KEPT || self.dead_bytes + cost > DEAD_BYTES)
        {
            self.counters.incr(Counter::DeadLettersUnkept);
            return;
        }
        self.dead_bytes += cost;
        self.dead.push(DeadLetter {
            reason,
            received: origin.received,
            peer: origin.peer,
            raw: raw.to_vec(),
        });
    }
}

/// The most dead letters one batch (a read, a request) keeps for the dead-letter file.
pub const DEAD_KEPT: usize = 256;
/// The most bytes of dead letters one batch keeps (the first is kept whatever its size).
pub const DEAD_BYTES: usize = 1 << 20;
/// What a dead letter costs besides its bytes, in memory and in its output line.
const DEAD_OVERHEAD: usize = 128;

/// Where a frame came from.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub peer: SocketAddr,
    /// When the read that completed the frame returned.
    pub received: Timestamp,
    /// The input it came in on: its feed zone applies.
    pub source: Source,
}

/// The inputs (DESIGN §2.2), each with a feed zone of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    #[default]
    Tcp,
    Udp,
    Tls,
    Http,
}

impl Source {
    pub const COUNT: usize = 4;
    pub const ALL: [Source; Source::COUNT] = [Source::Tcp, Source::Udp, Source::Tls, Source::Http];

    /// Its name in config sections and in the `input` label of `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Tcp => "tcp",
            Source::Udp => "udp",
            Source::Tls => "tls",
            Source::Http => "http",
        }
    }

    /// Its config section, as log lines name it.
    pub fn section(self) -> &'static str {
        match self {
            Source::Tcp => "input.tcp",
            Source::Udp => "input.udp",
            Source::Tls => "input.tls",
            Source::Http => "input.http",
        }
    }
}

/// Counts kept apart per input, indexed by `Source as usize`.
pub type PerInput = [Counters; Source::COUNT];

/// A frame that did not become a record, kept as received.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub reason: Reason,
    pub received: Timestamp,
    pub peer: SocketAddr,
    pub raw: Vec<u8>,
}

/// A record's identity as a 128-bit hash of its payload, the offsets in `Batch::records`
/// where its line starts and ends (after its newline), and its kind. Start and kind spare the
/// aggregator a backward search and a read of the line per record: the line was written on
/// another core, and reading its head for `[output.nats]`'s subject was a cache miss, a
/// tenth of a microsecond per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub hash: u128,
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The most IPs and users remembered per device: a NAT gateway's hostname must not grow without
/// bound.
pub const MAX_PER_DEVICE: usize = 32;

/// What a shard tells the aggregator about a device: sent only when something is new. Its text
/// is in the batch's `flow_text` (no allocation per delta): read it with [`DeviceDelta::read`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceDelta {
    pub id: u64,
    /// The key as seen (hostname, else IP or user).
    pub key: Span,
    pub tag: Tag,
    pub ip: Option<Span>,
    pub user: Option<Span>,
    /// The record's time.
    pub seen: Timestamp,
}

impl DeviceDelta {
    /// The delta with its text, from the `flow_text` of the batch it came in.
    pub fn read<'t>(&self, text: &'t str) -> DeviceNews<'t> {
        let span = |s: &Span| {
            text.get(s.start as usize..s.end as usize)
                .unwrap_or_default()
        };
        DeviceNews {
            id: self.id,
            key: span(&self.key),
            tag: self.tag,
            ip: self.ip.as_ref().map(span),
            user: self.user.as_ref().map(span),
            seen: self.seen,
        }
    }
}

/// A [`DeviceDelta`] with its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceNews<'t> {
    pub id: u64,
    pub key: &'t str,
    pub tag: Tag,
    pub ip: Option<&'t str>,
    pub user: Option<&'t str>,
    pub seen: Timestamp,
}

/// A span of `Batch::flow_text`.
pub type Span = std::ops::Range<u32>;

/// A connection as a network sensor between the App Connector and the server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub connector_ip: IpAddr,
    pub connector_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
}

impl FlowKey {
    /// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) become plain IPv4, so a key matches
    /// however either side spelled the address.
    pub fn canonical(mut self) -> FlowKey {
        self.connector_ip = self.connector_ip.to_canonical();
        self.server_ip = self.server_ip.to_canonical();
        self
    }
}

/// One ZPA record's view of a connection through an App Connector.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowNote {
    pub key: FlowKey,
    pub user: Span,
    pub device: Option<Span>,
    pub device_id: Option<u64>,
    pub session_id: Option<Span>,
    pub connection_id: Option<Span>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub seen: Timestamp,
}
