//! What waits for JetStream's acknowledgement: frames in memory while NATS takes them, in the
//! on-disk [`Spool`] while it does not.
//!
//! Writing every frame to the spool and reading it back cost about a third of the NATS thread
//! (page-cache copies, fresh pages, segment removal) for frames that JetStream acknowledges a
//! few milliseconds later. So while the publisher is live (connected, its stream checked), a
//! batch that finds the spool empty stays in memory, up to [`MEMORY_BYTES`]; past that the
//! intake waits, and so the inputs are pushed back, as by a slow sink. The spool takes
//! batches while NATS is unreachable or failing, and whatever is in memory when the publisher
//! stops being live or the collector stops ([`Queue::set_live`]).
//!
//! Memory only ever holds frames older than any on disk (it takes a batch only when the spool
//! is empty, and goes to the spool's end when spilled), so reads hand out memory first and the
//! order is kept. The price: a collector killed (`kill -9`, a crash) loses what memory held from
//! NATS (at most [`MEMORY_BYTES`]; in practice the rounds in flight). Those records are in the
//! records file all the same, and the duplicate window does not remember them across the crash
//! ([`Queue::durable_end`]), so the feed's replay after the reconnect publishes them again. A
//! collector stopped normally keeps them in the spool.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::frame::{self, Frames};
use super::spool::{Cursor, Spool};

/// Unacknowledged bytes kept in memory while NATS is live.
pub const MEMORY_BYTES: u64 = 16 << 20;

/// Frames handed out for publishing, and what acknowledging them frees.
#[derive(Debug)]
pub struct Chunk {
    /// Whole frames, oldest first: several batches from memory, or one read of the spool.
    pub parts: Vec<Arc<Frames>>,
    pub end: End,
    /// Messages of the spool passed over, their bytes changed on disk ([`super::seal`]).
    pub damaged: u64,
}

/// Where the queue's front goes once a chunk is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Where in the spool, and how many messages the spool counted up to there.
    Disk(Cursor, u64),
    /// The number of batches taken into memory up to and including the chunk's last.
    Memory(u64),
}

/// A batch held in memory, and the memory it holds.
struct Held {
    frames: Arc<Frames>,
    size: u64,
    /// [`Queue::durable_end`] while this batch is the oldest in memory: the records end of
    /// what was appended before it.
    before: u64,
}

pub struct Queue {
    disk: Spool,
    memory: VecDeque<Held>,
    /// Batches at the front of `memory` handed out and not yet acknowledged.
    handed: usize,
    /// Batches that ever left memory (acknowledged, or spilled to the spool): the number of
    /// `memory`'s first.
    released: u64,
    memory_bytes: u64,
    memory_messages: u64,
    memory_limit: u64,
    live: bool,
    /// Bytes written to the spool since the queue was made.
    spooled: u64,
    /// The furthest records end of the batches appended ([`Frames::records_end`]).
    appended_end: u64,
}

impl Queue {
    /// The queue in front of `disk`; memory holds at most `MEMORY_BYTES`, and never more than
    /// the spool's own limit.
    pub fn new(disk: Spool, spool_limit: u64) -> Queue {
        Queue {
            disk,
            memory: VecDeque::new(),
            handed: 0,
            released: 0,
            memory_bytes: 0,
            memory_messages: 0,
            memory_limit: MEMORY_BYTES.min(spool_limit),
            live: false,
            spooled: 0,
            appended_end: 0,
        }
    }

    /// Unacknowledged bytes, in memory and on disk.
    pub fn bytes(&self) -> u64 {
        self.memory_bytes + self.disk.bytes()
    }

    /// Unacknowledged records and device events, in memory and on disk.
    pub fn messages(&self) -> u64 {
        self.memory_messages + self.disk.messages()
    }

    /// Bytes written to the spool on disk since the queue was made.
    pub fn spooled(&self) -> u64 {
        self.spooled
    }

    /// Unacknowledged bytes and messages in the spool on disk.
    pub fn on_disk(&self) -> (u64, u64) {
        (self.disk.bytes(), self.disk.messages())
    }

    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.disk.is_empty()
    }

    /// Where in the records sink the records end that a crash cannot take from NATS any more:
    /// those JetStream acknowledged, or that are in the spool on disk. Only memory holds
    /// others, and they are the newest (memory takes batches only while the spool is empty, and
    /// goes to the spool whole), so everything before memory's oldest batch is safe.
    pub fn durable_end(&self) -> u64 {
        self.memory
            .front()
            .map_or(self.appended_end, |held| held.before)
    }

    /// True when `batch` may be taken now: into memory while live and the spool is empty, else
    /// into the spool as its limit allows.
    pub fn has_room(&self, batch: &Frames) -> bool {
        if self.takes_memory() {
            self.memory.is_empty() || self.memory_bytes + batch.size() as u64 <= self.memory_limit
        } else {
            self.disk.has_room(batch.flat_len())
        }
    }

    /// Takes a batch of whole frames: into memory (`batch` is then left empty), or written to
    /// the spool (`batch` is left as it was, for the caller to reuse its buffers).
    pub fn append(&mut self, batch: &mut Frames) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let before = self.appended_end;
        let end = before.max(batch.records_end);
        if self.takes_memory() {
            debug_assert_eq!(frame::count(&batch.bytes).1, batch.messages);
            let size = batch.size() as u64;
            self.memory_bytes += size;
            self.memory_messages += batch.messages;
            self.memory.push_back(Held {
                frames: Arc::new(std::mem::take(batch)),
                size,
                before,
            });
            self.appended_end = end;
            return Ok(());
        }
        self.spooled += self.disk.append(&batch.flatten())?;
        self.appended_end = end;
        Ok(())
    }

    /// About `max` bytes of frames not yet handed out (one batch or frame at least), oldest
    /// first; `None` when everything was handed out.
    pub fn read(&mut self, max: usize) -> io::Result<Option<Chunk>> {
        if self.handed < self.memory.len() {
            let mut parts = Vec::new();
            let mut size = 0;
            while let Some(held) = self.memory.get(self.handed) {
                let len = held.frames.flat_len();
                if !parts.is_empty() && size + len > max {
                    break;
                }
                size += len;
                parts.push(held.frames.clone());
                self.handed += 1;
            }
            return Ok(Some(Chunk {
                parts,
                end: End::Memory(self.released + self.handed as u64),
                damaged: 0,
            }));
        }
        Ok(self.disk.read(max)?.map(|c| {
            let messages = frame::count(&c.bytes).1;
            Chunk {
                parts: vec![Arc::new(Frames::spooled(c.bytes, messages))],
                end: End::Disk(c.end, c.messages),
                damaged: c.damaged,
            }
        }))
    }

    /// The chunks handed out up to `chunk` (which ends at `end`) were acknowledged.
    pub fn acknowledge(&mut self, chunk: &Chunk) -> io::Result<()> {
        match chunk.end {
            End::Disk(cursor, messages) => self.disk.acknowledge(cursor, messages),
            End::Memory(end) => {
                while self.released < end {
                    let Some(held) = self.memory.pop_front() else {
                        break;
                    };
                    self.memory_bytes -= held.size;
                    self.memory_messages -= held.frames.messages;
                    self.handed = self.handed.saturating_sub(1);
                    self.released += 1;
                }
                Ok(())
            }
        }
    }

    /// Hands out again everything unacknowledged: after a failed publish, oldest first.
    pub fn rewind(&mut self) {
        self.handed = 0;
        self.disk.rewind();
    }

    /// Live: NATS takes what is published, so new batches may wait in memory. Not live (a
    /// failure, an outage, the end of the run): what memory holds goes to the spool, behind
    /// nothing (memory is only used while the spool is empty). Call after [`Queue::rewind`]:
    /// nothing may be in flight.
    pub fn set_live(&mut self, live: bool) -> io::Result<()> {
        self.live = live;
        if live {
            return Ok(());
        }
        while let Some(held) = self.memory.front() {
            self.spooled += self.disk.append(&held.frames.flatten())?;
            self.memory_bytes -= held.size;
            self.memory_messages -= held.frames.messages;
            self.memory.pop_front();
            self.released += 1;
        }
        self.handed = 0;
        Ok(())
    }

    fn takes_memory(&self) -> bool {
        self.live && self.disk.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::frame::numbered as frames;
    use super::*;
    use std::path::{Path, PathBuf};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ztel-queue-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn ids(chunk: &Chunk) -> Vec<u32> {
        let mut out = Vec::new();
        for part in &chunk.parts {
            let part = part.flatten();
            let mut at = 0;
            while at < part.len() {
                let (f, n) = frame::read(&part[at..]).unwrap();
                if let frame::Frame::Publish { id, .. } = f {
                    out.push(std::str::from_utf8(id).unwrap().parse().unwrap());
                }
                at += n;
            }
        }
        out
    }

    /// Appends; true when the batch went into memory.
    fn put(q: &mut Queue, batch: Vec<u8>) -> bool {
        let messages = frame::count(&batch).1;
        let mut batch = Frames::spooled(batch, messages);
        q.append(&mut batch).unwrap();
        batch.is_empty()
    }

    fn open(d: &Path) -> Queue {
        Queue::new(Spool::open(d, 1 << 30).unwrap(), 1 << 30)
    }

    #[test]
    fn while_live_batches_wait_in_memory_and_the_spool_stays_empty() {
        let d = dir("live");
        let mut q = open(&d);
        q.set_live(true).unwrap();
        assert!(put(&mut q, frames(0..3)));
        assert!(put(&mut q, frames(3..5)));
        assert_eq!((q.messages(), q.disk.bytes(), q.spooled()), (5, 0, 0));
        let c = q.read(1 << 20).unwrap().unwrap();
        assert_eq!(ids(&c), [0, 1, 2, 3, 4]);
        assert!(q.read(1 << 20).unwrap().is_none());
        q.acknowledge(&c).unwrap();
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failure_spills_memory_to_the_spool_in_order_and_a_reopen_finds_it() {
        let d = dir("spill");
        let mut q = open(&d);
        q.set_live(true).unwrap();
        put(&mut q, frames(0..2));
        let first = q.read(1).unwrap().unwrap();
        put(&mut q, frames(2..4));
        q.acknowledge(&first).unwrap();
        let _in_flight = q.read(1 << 20).unwrap().unwrap();
        // The connection fails: nothing in flight counts, memory goes to the spool, and what
        // comes during the outage goes behind it.
        q.rewind();
        q.set_live(false).unwrap();
        assert_eq!(q.disk.messages(), 2);
        // Sealed: the frames and a seal's head.
        assert_eq!(
            q.spooled(),
            (frames(2..4).len() + frame::HEADER + super::super::seal::SEAL_HEAD) as u64
        );
        assert!(!put(&mut q, frames(4..6)));
        assert_eq!(q.messages(), 4);
        drop(q);
        let mut q = open(&d);
        q.set_live(true).unwrap();
        // The spool is not empty: a new batch goes behind it, not into memory.
        assert!(!put(&mut q, frames(6..7)));
        let c = q.read(1 << 20).unwrap().unwrap();
        assert_eq!(ids(&c), [2, 3, 4, 5, 6]);
        q.acknowledge(&c).unwrap();
        assert!(q.is_empty());
        // Empty again: memory takes the next batch.
        assert!(put(&mut q, frames(7..8)));
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Appends frames whose last record ends at `end` in the records sink.
    fn put_ending(q: &mut Queue, ids: std::ops::Range<u32>, end: u64) {
        let bytes = frames(ids);
        let messages = frame::count(&bytes).1;
        let mut batch = Frames::spooled(bytes, messages);
        batch.records_end = end;
        q.append(&mut batch).unwrap();
    }

    #[test]
    fn records_are_durable_once_acknowledged_or_spooled_never_while_only_in_memory() {
        let d = dir("durable");
        let mut q = open(&d);
        // Not live: straight to the spool, safe at once.
        put_ending(&mut q, 0..2, 100);
        assert_eq!(q.durable_end(), 100);
        let c = q.read(1 << 20).unwrap().unwrap();
        q.acknowledge(&c).unwrap();
        q.set_live(true).unwrap();
        // Live: memory holds them until JetStream answers.
        put_ending(&mut q, 2..4, 200);
        put_ending(&mut q, 4..6, 300);
        assert_eq!(q.durable_end(), 100);
        let first = q.read(1).unwrap().unwrap();
        assert_eq!(ids(&first), [2, 3]);
        q.acknowledge(&first).unwrap();
        assert_eq!(q.durable_end(), 200);
        // A batch of device events only (no records) moves nothing back.
        put_ending(&mut q, 6..7, 0);
        assert_eq!(q.durable_end(), 200);
        // A failure spills memory to the spool: all of it is safe.
        q.rewind();
        q.set_live(false).unwrap();
        assert_eq!(q.durable_end(), 300);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn payloads_held_in_their_records_buffers_reach_the_spool_whole() {
        let d = dir("bodies");
        let mut q = open(&d);
        q.set_live(true).unwrap();
        let mut batch = Frames::default();
        let mut records = Vec::new();
        for i in 0..4u32 {
            let start = records.len() as u32;
            records.extend_from_slice(format!("{{\"n\":{i}}}\n").as_bytes());
            frame::body(
                &mut batch.bytes,
                b"s",
                i.to_string().as_bytes(),
                0,
                start,
                7,
            );
        }
        batch.referenced = records.len();
        batch.bodies.push(records);
        batch.messages = 4;
        q.append(&mut batch).unwrap();
        assert!(batch.is_empty(), "held in memory, buffers and all");
        // A failure: memory goes to the spool, each payload copied into its frame.
        q.rewind();
        q.set_live(false).unwrap();
        drop(q);
        let mut q = open(&d);
        let c = q.read(1 << 20).unwrap().unwrap();
        assert_eq!(ids(&c), [0, 1, 2, 3]);
        let (frame, _) = frame::read(&c.parts[0].bytes).unwrap();
        assert_eq!(
            frame,
            frame::Frame::Publish {
                subject: b"s",
                id: b"0",
                payload: b"{\"n\":0}"
            }
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn memory_is_bounded_while_live_and_rounds_are_bounded() {
        let d = dir("bound");
        let mut q = Queue::new(Spool::open(&d, 1 << 30).unwrap(), 1 << 30);
        q.set_live(true).unwrap();
        let batch = frames(0..1000);
        let n = batch.len();
        let huge = Frames::spooled(vec![0; MEMORY_BYTES as usize * 2], 0);
        assert!(q.has_room(&huge), "empty takes anything");
        let one = Frames::spooled(batch.clone(), 1000);
        while q.has_room(&one) {
            put(&mut q, batch.clone());
        }
        assert!(q.bytes() <= MEMORY_BYTES && q.bytes() + n as u64 > MEMORY_BYTES);
        let c = q.read(2 * n).unwrap().unwrap();
        assert_eq!(c.parts.len(), 2);
        // Not live: the spool takes batches as its own limit allows.
        q.rewind();
        q.set_live(false).unwrap();
        assert!(q.has_room(&one));
        assert_eq!(q.disk.bytes(), q.bytes());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
