//! What goes to the stream, encoded as frames: a batch's records, each with its identity as its
//! `Nats-Msg-Id` (by reference into the batch's records buffer when the batch is large), and
//! device events. Apart from the hand-over because this is the aggregator's per-record work.

use wire::event::Kind;

use super::Outbox;
use crate::sink::nats::frame;

/// A batch's records buffer is taken, instead of its records copied, when it holds at least
/// this much and at least a quarter of its capacity: a buffer NATS holds until acknowledged is
/// then at most four times the bytes the batch received (and counts whole against the bounds,
/// [`Frames::size`](frame::Frames::size)), and a small batch, cheap to copy, does not hold a
/// buffer of a megabyte.
const TAKE_AT_LEAST: usize = 16 << 10;

impl Outbox {
    /// A batch whose records buffer holds `len` bytes of `capacity` is about to be offered.
    pub fn begin(&mut self, len: usize, capacity: usize) {
        self.by_reference = len >= TAKE_AT_LEAST && len >= capacity / 4;
    }

    /// The record line (without its newline) at `line` of a batch's `records`, and its
    /// identity (DESIGN §3 "Duplicates"): the 128-bit hash of its payload, as 32 hex digits, is
    /// its `Nats-Msg-Id`, so that two collectors that received the same line publish the same
    /// id. In a batch large enough ([`Outbox::begin`]) the line is not copied: once the batch
    /// is written, [`Outbox::take_records`] takes its records buffer. `end` is where the record
    /// ends in the records sink, as the duplicate window has it ([`frame::Frames::records_end`]).
    pub fn record(
        &mut self,
        records: &[u8],
        line: std::ops::Range<usize>,
        identity: u128,
        kind: Kind,
        end: u64,
    ) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, digit) in self.id.iter_mut().enumerate() {
            *digit = HEX[(identity >> (124 - 4 * i) & 0xf) as usize];
        }
        let payload = &records[line.clone()];
        let subject_len = self.records.len();
        self.records.extend_from_slice(kind.as_str().as_bytes());
        let body = u32::try_from(self.building.bodies.len());
        let start = u32::try_from(line.start);
        let len = u32::try_from(payload.len());
        match (body, start, len) {
            (Ok(body), Ok(start), Ok(len)) if self.by_reference => {
                frame::body(
                    &mut self.building.bytes,
                    &self.records,
                    &self.id,
                    body,
                    start,
                    len,
                );
                self.building.referenced += payload.len();
                self.body_pending = true;
            }
            // A small batch, or past 4 GiB (no batch is, but a copy is right whatever comes).
            _ => frame::publish(&mut self.building.bytes, &self.records, &self.id, payload),
        }
        self.building.messages += 1;
        self.building.records_end = end;
        self.records.truncate(subject_len);
    }

    /// After a batch's records were offered: when NATS took some, takes the batch's records
    /// buffer (the frames point into it), leaving a spare one in its place for the shard.
    ///
    /// The spare is at least as large as the buffer it replaces. A smaller one would make the
    /// shard grow it for its next read, and growing copies the old buffer whole into pages the
    /// kernel must hand over fresh: with NATS on, that was about 4 % of the shard's time and 43 %
    /// of the process's page faults. Sized so, the buffers in circulation soon all fit the
    /// largest read, and none grows.
    pub fn take_records(&mut self, records: &mut Vec<u8>) {
        if !self.body_pending {
            return;
        }
        self.body_pending = false;
        let capacity = records.capacity();
        let spare = self
            .link
            .spare_body()
            .filter(|spare| spare.capacity() >= capacity)
            .unwrap_or_else(|| Vec::with_capacity(capacity));
        self.building.bodies.push(std::mem::replace(records, spare));
    }

    /// A device event line (without its newline), with an id that names the change, so that
    /// two collectors telling the same change publish it once.
    pub fn device_event(&mut self, line: &[u8], id: &str) {
        frame::publish(&mut self.building.bytes, &self.devices, id.as_bytes(), line);
        self.building.messages += 1;
    }
}
