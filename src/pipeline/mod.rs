//! What a shard does with one frame: decode it (wire), serialise its record into the batch, note
//! its identity for de-duplication, its device for the registry and, for ZPA, its connection for
//! attribution. Everything it produces goes into a [`Batch`] that crosses to the aggregator whole.

pub mod devices;

use jiff::tz::TimeZone;
use wire::decode::Decoder;
use wire::device::Tag;
use wire::event::{ActivityEvent, Event, Kind, Reason, WebEvent};
use wire::record::Writer;
use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

use crate::batch::counters::Counter;
use crate::batch::{Batch, FlowKey, FlowNote, Identity, Origin};
use devices::DeviceCache;

/// Per-shard parsing state, reused for every frame.
pub struct Pipeline {
    decoder: Decoder,
    records: Writer,
    devices: DeviceCache,
}

/// Seeds that keep a ZIA record id and a ZPA identity from ever sharing a hash by construction.
const ZIA_SEED: u64 = 0x005a_4941;
const ZPA_SEED: u64 = 0x005a_5041;

/// How many devices a shard's cache holds before it starts over.
const DEVICE_CACHE_CAPACITY: usize = 1 << 20;

impl Pipeline {
    pub fn new(zone: TimeZone) -> Self {
        Pipeline {
            decoder: Decoder::new(zone),
            records: Writer::default(),
            devices: DeviceCache::new(DEVICE_CACHE_CAPACITY),
        }
    }

    /// Turns one frame into a record, or a dead letter, in `batch`.
    pub fn process(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        batch.counters.incr(Counter::Frames);
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(Counter::records(kind)),
            Err(reason) => batch.dead_letter(reason, origin, frame),
        }
    }

    /// Bytes left when a connection ended mid-frame: a record if they parse, else a dead letter
    /// that says the frame was cut short.
    pub fn process_tail(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) {
        batch.counters.incr(Counter::Frames);
        match self.build(frame, origin, batch) {
            Ok(kind) => batch.counters.incr(Counter::records(kind)),
            Err(_) => batch.dead_letter(Reason::Truncated, origin, frame),
        }
    }

    fn build(&mut self, frame: &[u8], origin: &Origin, batch: &mut Batch) -> Result<Kind, Reason> {
        let decoded = self.decoder.decode(frame, origin.received)?;
        let id = self.records.write(&decoded, &mut batch.records);
        match (&decoded.event, id) {
            (Event::ZiaWeb(ev), Some(id)) => note_web(ev, id, &mut self.devices, batch),
            (Event::ZiaWeb(_), None) => {}
            (Event::ZpaUserActivity(ev), id) => note_activity(ev, id, &mut self.devices, batch),
        }
        Ok(decoded.event.kind())
    }
}

/// The identity and the device of a web record.
fn note_web(ev: &WebEvent<'_>, id: u64, devices: &mut DeviceCache, batch: &mut Batch) {
    if let Some(record_id) = ev.record_id {
        let hash = xxh3_64_with_seed(&record_id.to_le_bytes(), ZIA_SEED);
        batch.identities.push(Identity {
            hash,
            end: batch.records.len(),
        });
    }
    let ip = ev.src_ip.as_deref();
    let user = ev.user.as_deref();
    if let Some(delta) = devices.observe(id, ev.device_key(), Tag::Zia, ip, user, ev.ts) {
        batch.counters.incr(Counter::DeviceDeltas);
        batch.devices.push(delta);
    }
}

/// The identity, the device and the connection of a ZPA user-activity record.
fn note_activity(
    ev: &ActivityEvent<'_>,
    id: Option<u64>,
    devices: &mut DeviceCache,
    batch: &mut Batch,
) {
    if let Some(connection) = ev.connection_id.as_deref() {
        let mut h = Xxh3::with_seed(ZPA_SEED);
        h.update(connection.as_bytes());
        h.update(&[0]);
        h.update(ev.status.as_deref().unwrap_or_default().as_bytes());
        h.update(&ev.ts.as_nanosecond().to_le_bytes());
        // DESIGN's (connection_id, status, ts) would also drop the periodic "active" updates of
        // a long connection (same start, new byte counts); a replay repeats LogTimestamp too, so
        // it stays a duplicate.
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
        if let Some(delta) = devices.observe(id, key, Tag::Zpa, ip, user, ev.ts) {
            batch.counters.incr(Counter::DeviceDeltas);
            batch.devices.push(delta);
        }
    }
    if !ev.is_lss_client() {
        note_flow(ev, id, batch);
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
