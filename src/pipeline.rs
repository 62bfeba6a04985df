//! What a shard does with one frame: find the JSON, parse it in place, build and serialise the
//! record, note the device. Everything it produces goes into a [`Batch`] that crosses to the
//! aggregator whole.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

use crate::attribution::FlowKey;
use crate::device::{device_id, DeviceCache, DeviceDelta, Tag};
use crate::metrics::{Counter, Counters};
use crate::parse::fields::{extract, Fields};
use crate::parse::zia::{Context, WebEvent};
use crate::parse::zpa::ActivityEvent;
use crate::parse::{classify, flat, header, Kind, Reason};
use crate::record;

/// A frame that did not become a record, kept as received.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub reason: Reason,
    pub received: Timestamp,
    pub peer: SocketAddr,
    pub raw: Vec<u8>,
}

/// What a shard hands the aggregator: the product of one read, or of many small ones.
#[derive(Debug, Default)]
pub struct Batch {
    pub shard: usize,
    /// Serialised connection records, one JSON line each.
    pub records: Vec<u8>,
    pub devices: Vec<DeviceDelta>,
    pub dead: Vec<DeadLetter>,
    /// Where each record with an identity ends in `records`, for de-duplication across shards.
    pub identities: Vec<Identity>,
    /// ZPA connections for the aggregator's attribution table.
    pub flows: Vec<FlowNote>,
    /// Text the flow notes point into: one buffer per batch instead of strings per record.
    pub flow_text: String,
    pub counters: Counters,
    /// When its first bytes were read (monotonic clock): where read→sink latency starts.
    pub read_at: Option<Instant>,
    /// When the shard offered it to the channel: where the channel wait starts.
    pub sent_at: Option<Instant>,
    /// Time the shard spent framing and parsing it.
    pub parse_time: Duration,
}

/// A record's identity (DESIGN §3: `record_id` for ZIA; `connection_id`, `status` and `ts` for
/// ZPA) as a hash, and the offset in `Batch::records` where its line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub hash: u64,
    pub end: usize,
}

/// A span of `Batch::flow_text`.
pub type Span = std::ops::Range<u32>;

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

impl Batch {
    /// Records made: the counters already say.
    pub fn records_made(&self) -> u64 {
        self.counters.get(Counter::RecordsZiaWeb)
            + self.counters.get(Counter::RecordsZpaUserActivity)
    }

    /// The text of a flow note's span.
    pub fn text(&self, span: &Span) -> &str {
        self.flow_text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    fn keep_text(&mut self, text: &str) -> Span {
        let start = self.flow_text.len() as u32;
        self.flow_text.push_str(text);
        start..self.flow_text.len() as u32
    }
}

impl Batch {
    pub fn new(shard: usize) -> Self {
        Batch {
            shard,
            records: Vec::with_capacity(64 << 10),
            ..Batch::default()
        }
    }

    /// A batch for the frames of one read of `bytes`: records take about as many bytes as the
    /// frames they come from, so the buffer rarely grows.
    pub fn for_read(shard: usize, bytes: usize) -> Self {
        Batch {
            shard,
            records: Vec::with_capacity(bytes.clamp(4 << 10, 1 << 20) + (4 << 10)),
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
}

/// Where a frame came from.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub peer: SocketAddr,
    /// When the read that completed the frame returned.
    pub received: Timestamp,
}

/// Per-shard parsing state, reused for every frame.
pub struct Pipeline {
    zone: TimeZone,
    /// simd-json's scratch space, kept between frames so parsing allocates nothing.
    json_buffers: simd_json::Buffers,
    /// simd-json's node list, emptied and reused for every frame (`None` only while in use).
    tape: Option<simd_json::Tape<'static>>,
    /// Where the quotes of a frame are, for the fast path.
    quotes: Vec<u64>,
    /// The copy of a frame that simd-json parses: it unescapes strings in place, and the frame
    /// itself must stay as received for its dead letter.
    scratch: Vec<u8>,
    devices: DeviceCache,
    records: record::Writer,
}

/// Seeds that keep a ZIA record id and a ZPA identity from ever sharing a hash by construction.
const ZIA_SEED: u64 = 0x005a_4941;
const ZPA_SEED: u64 = 0x005a_5041;

/// How many devices a shard's cache holds before it starts over.
const DEVICE_CACHE_CAPACITY: usize = 1 << 20;

impl Pipeline {
    pub fn new(zone: TimeZone) -> Self {
        Pipeline {
            zone,
            json_buffers: simd_json::Buffers::new(4096),
            tape: Some(simd_json::Tape::null().reset()),
            quotes: Vec::new(),
            scratch: Vec::new(),
            devices: DeviceCache::new(DEVICE_CACHE_CAPACITY),
            records: record::Writer::default(),
        }
    }

    /// Turns one frame into a record, or a dead letter, in `batch`.
    pub fn process(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        batch.counters.incr(Counter::Frames);
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(kind.counter()),
            Err(reason) => dead_letter(batch, reason, origin, frame),
        }
    }

    /// Bytes left when a connection ended mid-frame: a record if they parse, else a dead letter
    /// that says the frame was cut short.
    pub fn process_tail(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        batch.counters.incr(Counter::Frames);
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(kind.counter()),
            Err(_) => dead_letter(batch, Reason::Truncated, origin, frame),
        }
    }

    fn build(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) -> Result<Kind, Reason> {
        let start = header::json_start(frame).ok_or(Reason::NoJson)?;
        let (head, json) = frame.split_at(start);
        let header = header::parse(head);
        let mut fields = Fields::default();
        let plain = flat::extract(json, &mut self.quotes, &mut fields);
        if !plain {
            fields = Fields::default();
            self.scratch.clear();
            self.scratch.extend_from_slice(json);
            let mut tape = self
                .tape
                .take()
                .map_or_else(|| simd_json::Tape::null().reset(), |t| t.reset());
            let parsed = extract(
                &mut self.scratch,
                &mut self.json_buffers,
                &mut tape,
                &mut fields,
            );
            // The fields borrow from the scratch copy, not from the tape: it can go back at once.
            self.tape = Some(tape.reset());
            parsed?;
        }
        let kind = classify(&fields)?;
        match kind {
            Kind::ZiaWeb => {
                let ctx = Context {
                    zone: &self.zone,
                    received: origin.received,
                };
                let ev = WebEvent::from_fields(&fields, &header, &ctx)?;
                let id = device_id(ev.device_key());
                self.records.zia_web(&ev, id, plain, &mut batch.records);
                if let Some(record_id) = ev.record_id {
                    let hash = xxh3_64_with_seed(&record_id.to_le_bytes(), ZIA_SEED);
                    batch.identities.push(Identity {
                        hash,
                        end: batch.records.len(),
                    });
                }
                if let Some(delta) = self.devices.observe(
                    id,
                    ev.device_key(),
                    Tag::Zia,
                    ev.src_ip.as_deref(),
                    ev.user.as_deref(),
                    ev.ts,
                ) {
                    batch.counters.incr(Counter::DeviceDeltas);
                    batch.devices.push(delta);
                }
            }
            Kind::ZpaUserActivity => {
                let ev = ActivityEvent::from_fields(&fields, origin.received)?;
                let id = ev.device_key().map(device_id);
                self.records
                    .zpa_user_activity(&ev, id, plain, &mut batch.records);
                if let Some(connection) = ev.connection_id.as_deref() {
                    let mut h = Xxh3::with_seed(ZPA_SEED);
                    h.update(connection.as_bytes());
                    h.update(&[0]);
                    h.update(ev.status.as_deref().unwrap_or_default().as_bytes());
                    h.update(&ev.ts.as_nanosecond().to_le_bytes());
                    // DESIGN's (connection_id, status, ts) would also drop the periodic "active"
                    // updates of a long connection (same start, new byte counts); a replay
                    // repeats LogTimestamp too, so it stays a duplicate.
                    let logged = ev.logged.map_or(0, |t| t.as_nanosecond());
                    h.update(&logged.to_le_bytes());
                    batch.identities.push(Identity {
                        hash: h.digest(),
                        end: batch.records.len(),
                    });
                }
                if let (Some(id), Some(key)) = (id, ev.device_key()) {
                    let user = ev.user.as_deref().filter(|_| !ev.is_lss_client());
                    let ip = ev.client_ip.as_deref();
                    if let Some(delta) = self.devices.observe(id, key, Tag::Zpa, ip, user, ev.ts) {
                        batch.counters.incr(Counter::DeviceDeltas);
                        batch.devices.push(delta);
                    }
                }
                if !ev.is_lss_client() {
                    note_flow(&ev, id, batch);
                }
            }
        }
        Ok(kind)
    }
}

/// Adds what attribution needs of a ZPA record: only records that name both ends of the
/// connector's connection can answer "who was behind it".
fn note_flow(ev: &ActivityEvent<'_>, device_id: Option<u64>, batch: &mut Batch) {
    let (Some(connector_ip), Some(connector_port), Some(server_ip), Some(server_port), Some(user)) = (
        ev.connector_ip.as_deref().and_then(|ip| ip.parse().ok()),
        ev.connector_port,
        ev.dst_ip.as_deref().and_then(|ip| ip.parse().ok()),
        ev.dst_port,
        ev.user.as_deref(),
    ) else {
        return;
    };
    let note = FlowNote {
        key: FlowKey {
            connector_ip,
            connector_port,
            server_ip,
            server_port,
        },
        user: batch.keep_text(user),
        device: ev.hostname.as_deref().map(|h| batch.keep_text(h)),
        device_id,
        session_id: ev.session_id.as_deref().map(|s| batch.keep_text(s)),
        connection_id: ev.connection_id.as_deref().map(|c| batch.keep_text(c)),
        start: ev.start.unwrap_or(ev.ts),
        end: ev.end,
        seen: ev.ts,
    };
    batch.flows.push(note);
}

/// Keeps a frame that did not become a record, with why.
pub fn dead_letter(batch: &mut Batch, reason: Reason, origin: &Origin, raw: &[u8]) {
    batch.counters.incr(Counter::DeadLetters);
    batch.counters.parse_error(reason);
    batch.dead.push(DeadLetter {
        reason,
        received: origin.received,
        peer: origin.peer,
        raw: raw.to_vec(),
    });
}
