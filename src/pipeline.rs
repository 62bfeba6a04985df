//! What a shard does with one frame: find the JSON, parse it in place, build and serialise the
//! record, note the device. Everything it produces goes into a [`Batch`] that crosses to the
//! aggregator whole.

use std::net::SocketAddr;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::device::{device_id, DeviceCache, DeviceDelta, Tag};
use crate::metrics::{Counter, Counters};
use crate::parse::fields::{extract, Fields};
use crate::parse::zia::{Context, WebEvent};
use crate::parse::{classify, header, Kind, Reason};
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
    pub counters: Counters,
}

impl Batch {
    pub fn new(shard: usize) -> Self {
        Batch {
            shard,
            records: Vec::with_capacity(64 << 10),
            ..Batch::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.devices.is_empty()
            && self.dead.is_empty()
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
    /// A copy of a frame that holds JSON escapes: simd-json unescapes strings in place, and a
    /// dead letter must carry the bytes as they were received.
    pristine: Vec<u8>,
    devices: DeviceCache,
}

/// How many devices a shard's cache holds before it starts over.
const DEVICE_CACHE_CAPACITY: usize = 1 << 20;

impl Pipeline {
    pub fn new(zone: TimeZone) -> Self {
        Pipeline {
            zone,
            json_buffers: simd_json::Buffers::new(4096),
            tape: Some(simd_json::Tape::null().reset()),
            pristine: Vec::new(),
            devices: DeviceCache::new(DEVICE_CACHE_CAPACITY),
        }
    }

    /// Turns one frame into a record, or a dead letter, in `batch`.
    pub fn process(&mut self, frame: &mut [u8], origin: &Origin, batch: &mut Batch) {
        batch.counters.incr(Counter::Frames);
        let escaped = memchr::memchr(b'\\', frame).is_some();
        if escaped {
            self.pristine.clear();
            self.pristine.extend_from_slice(frame);
        }
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(match kind {
                Kind::ZiaWeb => Counter::RecordsZiaWeb,
                Kind::ZpaUserActivity => Counter::RecordsZpaUserActivity,
            }),
            Err(reason) => {
                let raw = if escaped {
                    &self.pristine[..]
                } else {
                    &frame[..]
                };
                dead_letter(batch, reason, origin, raw);
            }
        }
    }

    /// Bytes left when a connection ended mid-frame: a record if they parse, else a dead letter
    /// that says the frame was cut short.
    pub fn process_tail(&mut self, frame: &mut [u8], origin: &Origin, batch: &mut Batch) {
        let pristine = frame.to_vec();
        batch.counters.incr(Counter::Frames);
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(match kind {
                Kind::ZiaWeb => Counter::RecordsZiaWeb,
                Kind::ZpaUserActivity => Counter::RecordsZpaUserActivity,
            }),
            Err(_) => dead_letter(batch, Reason::Truncated, origin, &pristine),
        }
    }

    fn build(
        &mut self,
        frame: &mut [u8],
        origin: &Origin,
        batch: &mut Batch,
    ) -> Result<Kind, Reason> {
        let start = header::json_start(frame).ok_or(Reason::NoJson)?;
        let (head, json) = frame.split_at_mut(start);
        let header = header::parse(head);
        let mut fields = Fields::default();
        let mut tape = self
            .tape
            .take()
            .map_or_else(|| simd_json::Tape::null().reset(), |t| t.reset());
        let parsed = extract(json, &mut self.json_buffers, &mut tape, &mut fields);
        // The fields borrow from the frame, not from the tape: it can go back at once.
        self.tape = Some(tape.reset());
        parsed?;
        let kind = classify(&fields)?;
        match kind {
            Kind::ZiaWeb => {
                let ctx = Context {
                    zone: &self.zone,
                    received: origin.received,
                };
                let ev = WebEvent::from_fields(&fields, &header, &ctx)?;
                let id = device_id(ev.device_key());
                record::write_zia_web(&ev, id, &mut batch.records);
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
            Kind::ZpaUserActivity => return Err(Reason::UnknownType),
        }
        Ok(kind)
    }
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
