//! What a shard does with one frame: decode it (wire), which writes its record into the batch,
//! then note its identity for de-duplication, its device for the registry and, for ZPA, its
//! connection for attribution. Everything it produces goes into a [`Batch`] that crosses to the
//! aggregator whole.

pub mod devices;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use wire::decode::Decoder;
use wire::event::{Facts, Flow, Kind, Reason};
use wire::format::csv::Columns;
use wire::format::{detect, Format};
use xxhash_rust::xxh3::xxh3_128;

use crate::batch::counters::Counter;
use crate::batch::{Batch, FlowKey, FlowNote, Identity, Origin, Source};
use devices::DeviceCache;

/// The zone of each input's feed times, by [`Source`] (`feed_timezone`, global or per input).
#[derive(Debug, Clone)]
pub struct Zones(pub [TimeZone; Source::COUNT]);

impl Zones {
    /// Every input in `zone`.
    pub fn all(zone: TimeZone) -> Zones {
        Zones(std::array::from_fn(|_| zone.clone()))
    }

    pub fn of(&self, source: Source) -> &TimeZone {
        &self.0[source as usize]
    }
}

/// Per-shard parsing state, reused for every frame.
pub struct Pipeline {
    decoder: Decoder,
    zones: Zones,
    devices: DeviceCache,
}

/// How many devices a shard's cache holds at most; it uses a prefix of its memory, doubled
/// whenever a new device finds both its buckets full (`devices/grow.rs`).
const DEVICE_CACHE_CAPACITY: usize = 1 << 20;

impl Pipeline {
    /// Every input's feed times in `zone`, positional feeds in Zscaler's default orders.
    pub fn new(zone: TimeZone) -> Self {
        Pipeline::with(Zones::all(zone), Columns::default())
    }

    pub fn with(zones: Zones, columns: Columns) -> Self {
        Pipeline {
            decoder: Decoder::with_columns(zones.of(Source::Tcp).clone(), columns),
            zones,
            devices: DeviceCache::new(DEVICE_CACHE_CAPACITY),
        }
    }

    /// Turns one frame into a record, or a dead letter, in `batch`.
    pub fn process(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.record(kind),
            Err(reason) => batch.dead_letter(reason, origin, frame),
        }
    }

    /// The last line of a connection its peer closed without a final LF. A sender that dies
    /// mid-line closes as cleanly as one that is done (and NSS and LSS end every line with an
    /// LF), so only a JSON object can be told whole: read to its closing brace, it is a record,
    /// or a dead letter for what it says. Any other line is a `truncated` dead letter unread:
    /// key=value, LEEF, CEF and CSV read as well cut anywhere, and half a line would be a record
    /// that says what the sender never said (`http_status` 20 for 200, `bytes_out` 31 for
    /// 31386). The dead letter keeps the line, to be sent again whole.
    pub fn process_tail(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        // A JSON record (after any syslog headers), ending with a brace as the decoder trims
        // it: NUL padding after a whole object is no cut. A LEEF or key=value line whose cut
        // value happens to end with a brace (`url=…/v1/{id}`) is no JSON object.
        let message = &frame[wire::header::split_stacked(frame).message..];
        let json = matches!(detect(message), Some((Format::Json, _)));
        let end = frame
            .iter()
            .rposition(|&b| b != 0 && !b.is_ascii_whitespace());
        if !json || end.is_none_or(|at| frame[at] != b'}') {
            batch.counters.incr(Counter::Frames);
            batch.dead_letter(Reason::Truncated, origin, frame);
            return;
        }
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.record(kind),
            Err(
                reason @ (Reason::UnknownType
                | Reason::NoDevice
                | Reason::BadTime
                | Reason::RepeatedKey),
            ) => {
                batch.dead_letter(reason, origin, frame);
            }
            Err(_) => batch.dead_letter(Reason::Truncated, origin, frame),
        }
    }

    fn build(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) -> Result<Kind, Reason> {
        batch.counters.incr(Counter::Frames);
        let zone = self.zones.of(origin.source);
        let start = batch.records.len();
        // The device's lookup below waits on memory unless asked for before the record is
        // written.
        let devices = &self.devices;
        let decoded = self.decoder.decode_noting(
            frame,
            origin.received,
            zone,
            &mut batch.records,
            &mut |id| devices.prefetch(id),
        )?;
        // DESIGN §3 "Duplicates": only a byte-identical payload (the frame after its syslog
        // header) is a repeat, so two records that share a record id but differ are both kept.
        // Borrowed, not moved out: a move copies its 300 bytes.
        let facts = &decoded.facts;
        batch.identities.push(Identity {
            hash: xxh3_128(decoded.payload),
            start,
            end: batch.records.len(),
            kind: facts.kind,
        });
        // The record keeps its own time; but the registry's last_seen, this shard's device
        // cache and the attribution table's clock never move past when the record arrived: one
        // sender with a clock ahead (or a record dated 2099) would hold them there for good.
        let seen = facts.ts.min(origin.received);
        note_device(facts, seen, &mut self.devices, batch);
        if let Some(flow) = &facts.flow {
            note_flow(flow, seen, batch);
        }
        // The record left out what a client's text contested (a key it wrote a second value of,
        // an envelope of its own); the frame as received keeps it all.
        if decoded.contested {
            batch.counters.incr(Counter::ContestedFrames);
            batch.dead_letter(Reason::RepeatedKey, origin, frame);
        }
        Ok(facts.kind)
    }
}

/// The longest device key, user, IP, session or connection id the registry and the attribution
/// table keep: a DNS name is at most 253 bytes, and what is longer is a broken or hostile feed.
/// Without a cap, 1,500 ZPA records with 200 KB users held 2 GB (issue 14): those tables bound
/// counts, not bytes.
const MAX_KEPT: usize = 256;

/// `value` if it is short enough to keep, else nothing, counted.
fn kept<'v>(value: Option<&'v str>, batch: &mut Batch) -> Option<&'v str> {
    match value {
        Some(v) if v.len() > MAX_KEPT => {
            batch.counters.incr(Counter::ValuesTooLong);
            None
        }
        other => other,
    }
}

/// Tells the aggregator about the record's device, when this shard has not already.
fn note_device(facts: &Facts<'_>, seen: Timestamp, devices: &mut DeviceCache, batch: &mut Batch) {
    let Some(device) = &facts.device else {
        return;
    };
    if kept(Some(&device.key), batch).is_none() {
        return;
    }
    let ip = kept(device.ip.as_deref(), batch);
    let user = kept(device.user.as_deref(), batch);
    if devices.observe(device.id, &device.key, device.tag, ip, user, seen, batch) {
        batch.counters.incr(Counter::DeviceDeltas);
    }
}

/// Adds what attribution needs of a ZPA connection through an App Connector.
fn note_flow(flow: &Flow<'_>, seen: Timestamp, batch: &mut Batch) {
    // A flow is noted for its user: without one it attributes nothing.
    if kept(Some(&flow.user), batch).is_none() {
        return;
    }
    let device = kept(flow.device.as_deref(), batch);
    let note = FlowNote {
        key: FlowKey {
            connector_ip: flow.connector_ip,
            connector_port: flow.connector_port,
            server_ip: flow.server_ip,
            server_port: flow.server_port,
        },
        user: batch.keep_text(&flow.user),
        device: device.map(|h| batch.keep_text(h)),
        device_id: flow.device_id,
        session_id: kept(flow.session_id.as_deref(), batch).map(|s| batch.keep_text(s)),
        connection_id: kept(flow.connection_id.as_deref(), batch).map(|c| batch.keep_text(c)),
        start: flow.start,
        end: flow.end,
        seen,
    };
    batch.flows.push(note);
}
