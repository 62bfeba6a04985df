//! Duplicate records (DESIGN §3): NSS "Duplicate Logs" and LSS replay re-send records after a
//! reconnect, often on another connection and so another shard, byte for byte. The aggregator
//! remembers the identities (128-bit payload hashes) of the last `capacity` records and drops a
//! record whose identity it has seen.
//!
//! The window survives a restart: NSS replays right after a reconnect, which is exactly when a
//! restarted collector comes back. Identities are kept in `data_dir/dedup.window`, a ring of
//! `capacity` 16-byte slots behind a 16-byte header (magic, then the next slot to write). An
//! identity is never saved there before its record is in its file: a crash would lose the record
//! and the replay's copy would then be dropped. Each identity is offered with where its record
//! ends in the records sink, and [`Window::persist`] saves those whose records the sink has
//! written, however busy the collector is.
//!
//! A crash can still come between a records write and that save, or in the middle of the write.
//! So before each write of the records file, [`Window::ahead`] lists the identities it may carry
//! in `dedup.pending`, each with the offset in that file where its record will end. At the next
//! start, those whose records are whole in that file (found by its inode, under its name or
//! among its rotated files: a file the crash tore is rotated away at that start) join the
//! window and the others are forgotten, so that a replay writes exactly the missing ones. A list
//! of a file no longer there, or whose write was cut short (its checksum says so), keeps
//! nothing: then a replay may write a record twice, never lose one. A torn slot of the ring is
//! random bits, which no real record's hash will meet.
//!
//! With `[output.nats]` a record has a second home, and an identity is saved (or listed ahead)
//! only once NATS keeps its record safe too: acknowledged by JetStream or in the NATS spool on
//! disk. A record held only in the NATS thread's memory is lost to the stream by a crash, and
//! its replay must then be published, not dropped; it is written to the records file a second
//! time.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::slots::Slots;
use crate::sink::Place;

const MAGIC: &[u8; 8] = b"ZTELDD01";
const HEADER: u64 = 16;
const SLOT: u64 = 16;

/// `dedup.pending`: magic, entries listed, the records file's device and inode, and the
/// entries' checksum...
const AHEAD_MAGIC: &[u8; 8] = b"ZTELDP02";
const AHEAD_HEADER: u64 = 40;
/// ...and entries of an identity and the offset in that file where its record ends.
const ENTRY: u64 = 24;
/// The most identities of written records whose save failed that a list carries.
const WRITTEN_LISTED: usize = 1 << 16;
/// The most entries a list is read with: far more than a backlog and the written ones make (a
/// record is rarely under 200 bytes, a backlog at most 16 MiB), far less than a sparse file of
/// any apparent size would have a load allocate.
const AHEAD_MOST: u64 = 1 << 22;
/// `dedup.pending`'s bytes reserved on disk: the written ones and a backlog's worth (16 MiB of
/// records, about 20,000) beside them, so that its writes need no room on a full disk.
const AHEAD_RESERVED: u64 = AHEAD_HEADER + ENTRY * (WRITTEN_LISTED as u64 + (1 << 15));

/// A bounded window of record identities (already hashes: not hashed again).
pub struct Window {
    ring: Ring,
    /// Where the window is kept, if anywhere.
    journal: Option<Journal>,
}

/// The window's identities, oldest first, in a ring, found through a table of their places
/// ([`Slots`]: 8 bytes a slot, two slots an identity for the default window, at most three
/// quarters full for any) beside the identity's 16. A set of identities and a queue of them
/// held each twice, about 66 MB for the default window of 2^20
/// against 32 MiB now (issue 12's memory bound). The table is sized for the whole window from the
/// start and removes without tombstones, so it never grows or rehashes (`slots.rs` says why that
/// matters), and its pages are all written at once; the ring's are touched in order.
struct Ring {
    ids: Vec<u128>,
    /// Where the oldest is, once `ids` is full.
    oldest: usize,
    places: Slots,
    capacity: usize,
}

/// Identities are 128-bit hashes already: their halves folded make the table's hash.
fn fold(id: u128) -> u64 {
    (id as u64) ^ ((id >> 64) as u64)
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        // Places are u32.
        let capacity = capacity.clamp(1, u32::MAX as usize);
        Ring {
            ids: Vec::with_capacity(capacity),
            oldest: 0,
            places: Slots::with_capacity(capacity),
            capacity,
        }
    }

    fn contains(&self, id: u128) -> bool {
        let ids = &self.ids;
        self.places
            .find(fold(id), |at| ids[at as usize] == id)
            .is_some()
    }

    /// Adds an identity that is not in the ring; when it is full, the oldest leaves.
    fn push(&mut self, id: u128) {
        let at = if self.ids.len() < self.capacity {
            self.ids.push(id);
            self.ids.len() - 1
        } else {
            let at = self.oldest;
            let removed = self.places.remove(fold(self.ids[at]), at as u32);
            debug_assert!(removed, "every identity in the ring is in the table");
            self.ids[at] = id;
            self.oldest = (at + 1) % self.capacity;
            at
        };
        self.places.insert(fold(id), at as u32);
    }

    /// Fetches what offering `id` will read, `ahead` pushes before it: its slot of the table,
    /// and the slot of the identity that will then leave.
    fn prefetch(&self, id: u128, ahead: usize) {
        self.places.prefetch(fold(id));
        if self.ids.len() == self.capacity {
            let leaving = self.ids[(self.oldest + ahead) % self.capacity];
            self.places.prefetch(fold(leaving));
        }
    }
}

/// The window's file, and the identities not yet written to it.
struct Journal {
    file: File,
    /// The ring slot the next identity goes to.
    next: u64,
    /// Identities offered and not saved yet, each with where its record ends in the records sink
    /// (bytes taken, [`crate::sink::Sink::taken`]): in the order taken, so the ends ascend.
    /// A deque: with `[output.nats]` they may wait for NATS while the window turns over, and
    /// the oldest then leave one by one.
    unsaved: VecDeque<(u128, u64)>,
    ahead: Ahead,
}

/// `dedup.pending` and what it lists now. The list stays once its write is done and its
/// identities saved: all it lists are in the records file then, which is what keeping them at
/// the next start assumes (emptying it would cost a system call a write).
struct Ahead {
    file: File,
    bytes: Vec<u8>,
}

impl Window {
    /// A window kept in memory only.
    pub fn new(capacity: usize) -> Self {
        Window {
            ring: Ring::new(capacity),
            journal: None,
        }
    }

    /// A window kept in `path` as well, with the identities an earlier run left there. A file
    /// of another size or kind is started over (said in the log): it only costs repeats.
    /// `records` is the records file's path (none for stdout): the identities listed ahead of a
    /// write that a crash interrupted are kept only if their records are whole in the file the
    /// list was of, which may have been rotated away since.
    pub fn open(path: &Path, capacity: usize, records: Option<&Path>) -> io::Result<Window> {
        let mut window = Window::new(capacity);
        let existed = path.exists();
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let size = HEADER + SLOT * window.ring.capacity as u64;
        let mut header = [0u8; HEADER as usize];
        let next = if file.metadata()?.len() == size
            && file.read_exact_at(&mut header, 0).is_ok()
            && &header[..8] == MAGIC
        {
            let next = u64::from_le_bytes(header[8..].try_into().unwrap_or_default());
            window.load(&file, next % window.ring.capacity as u64)?;
            next % window.ring.capacity as u64
        } else {
            if file.metadata()?.len() > 0 {
                tracing::warn!(
                    "{}: not a window of this size; starting over",
                    path.display()
                );
            } else if existed {
                tracing::warn!(
                    "{}: empty (cut to nothing by a crash or a full disk?); starting over: \
                     records a feed sends again are written again",
                    path.display()
                );
            }
            file.set_len(0)?;
            file.set_len(size)?;
            file.write_all_at(MAGIC, 0)?;
            file.write_all_at(&0u64.to_le_bytes(), 8)?;
            0
        };
        // Its errors name it: the caller's message names the window's file.
        let pending = path.with_extension("pending");
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", pending.display()));
        let ahead = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&pending)
            .map_err(named)?;
        let kept = window.load_ahead(&ahead, records).map_err(named)?;
        // The list first: on a disk short of room for both, it carries what the ring could not
        // save.
        if ahead.metadata().map_err(named)?.len() < AHEAD_RESERVED {
            reserve(&ahead, AHEAD_RESERVED, &pending);
        }
        reserve(&file, size, path);
        window.journal = Some(Journal {
            file,
            next,
            unsaved: kept.into_iter().map(|id| (id, 0)).collect(),
            ahead: Ahead {
                file: ahead,
                bytes: Vec::new(),
            },
        });
        // Into the ring's file, then the list emptied: a list that outlived its start would be
        // read against a file that has grown since.
        window.persist(0)?;
        if let Some(journal) = &window.journal {
            let empty = journal.ahead.file.write_all_at(&0u64.to_le_bytes(), 8);
            empty.map_err(named)?;
        }
        Ok(window)
    }

    /// Adds the identities listed ahead of a write whose records are whole in the records file,
    /// and returns them.
    fn load_ahead(&mut self, file: &File, records: Option<&Path>) -> io::Result<Vec<u128>> {
        let mut kept = Vec::new();
        let mut header = [0u8; AHEAD_HEADER as usize];
        if file.read_exact_at(&mut header, 0).is_err() || &header[..8] != AHEAD_MAGIC {
            return Ok(kept);
        }
        let word =
            |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or_default());
        // What the file holds, not what the header says, bounds what is read.
        let room = file.metadata()?.len().saturating_sub(AHEAD_HEADER) / ENTRY;
        let count = word(8).min(room);
        if count > AHEAD_MOST {
            tracing::warn!(
                "dedup.pending lists {count} identities, more than ztel writes ({AHEAD_MOST}): \
                 not read (damaged, or not ztel's); a replay after the last crash may be \
                 written twice"
            );
            return Ok(kept);
        }
        if count == 0 {
            return Ok(kept);
        }
        let mut entries = vec![0u8; (count * ENTRY) as usize];
        file.read_exact_at(&mut entries, AHEAD_HEADER)?;
        // A list whose write was cut short (a crash, a full disk) has the new header over
        // entries partly of an older list, perhaps of an earlier run, whose ends were measured
        // against a file that has grown since: kept, they could stand for records never
        // written. It keeps nothing; its write came before its records', and the list before it
        // was saved in the ring after its own write (if that save failed: a replay written twice).
        if xxhash_rust::xxh3::xxh3_64(&entries) != word(32) {
            return Ok(kept);
        }
        // A list of a file no longer there keeps nothing: the records path changed, or the file
        // was removed (a replay written twice, rather than records lost).
        let length = records.and_then(|r| crate::sink::whole_lines_of(r, word(16), word(24)));
        for entry in entries.chunks_exact(ENTRY as usize) {
            let id = u128::from_le_bytes(entry[..16].try_into().unwrap_or_default());
            let end = u64::from_le_bytes(entry[16..].try_into().unwrap_or_default());
            let whole = length.is_some_and(|length| end <= length);
            if whole && id != 0 && !self.ring.contains(id) {
                self.ring.push(id);
                kept.push(id);
            }
        }
        Ok(kept)
    }

    /// Reads the ring oldest first: from `next` to the end, then from the start. Zero slots were
    /// never written. A piece at a time: the whole file in one buffer was 16 MiB more at every
    /// start, which the allocator then kept.
    fn load(&mut self, file: &File, next: u64) -> io::Result<()> {
        const PIECE: u64 = 4096;
        let mut piece = vec![0u8; (PIECE * SLOT) as usize];
        let capacity = self.ring.capacity as u64;
        for (from, to) in [(next, capacity), (0, next)] {
            let mut at = from;
            while at < to {
                let n = PIECE.min(to - at);
                let bytes = &mut piece[..(n * SLOT) as usize];
                file.read_exact_at(bytes, HEADER + at * SLOT)?;
                for slot in bytes.chunks_exact(SLOT as usize) {
                    let id = u128::from_le_bytes(slot.try_into().unwrap_or_default());
                    if id != 0 && !self.ring.contains(id) {
                        self.ring.push(id);
                    }
                }
                at += n;
            }
        }
        Ok(())
    }

    /// Identities remembered.
    pub fn len(&self) -> usize {
        self.ring.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.ids.is_empty()
    }

    /// Fetches into the cache what offering `identity` will read, when `ahead` identities are
    /// offered before it: the aggregator asks a few records ahead, so that the table's slots,
    /// a cache miss each, are there when they are needed.
    pub fn prefetch(&self, identity: u128, ahead: usize) {
        self.ring.prefetch(identity, ahead);
    }

    /// True the first time an identity is offered (the record is new), false for a repeat.
    /// `end` is where the record ends in the records sink once taken (bytes taken,
    /// [`crate::sink::Sink::taken`]); identities are offered in the order their records are.
    pub fn first(&mut self, identity: u128, end: u64) -> bool {
        if self.ring.contains(identity) {
            return false;
        }
        self.ring.push(identity);
        if let Some(journal) = &mut self.journal {
            journal.unsaved.push_back((identity, end));
        }
        true
    }

    /// Lists in `dedup.pending` the identities whose records the next write of the records file
    /// may carry: those past `done`, the sink's bytes out of its hands
    /// ([`crate::sink::Sink::done`]), which go to `place` on and after; of those, only the ones
    /// whose records end at or before `safe` (what another output keeps safe: see
    /// [`Window::persist`]). Also those whose records are written but whose save in the ring
    /// failed (a full disk), the newest [`WRITTEN_LISTED`] of them: listed no more, a crash
    /// would forget them and a replay write them twice (an audit: 62 records).
    pub fn ahead(&mut self, done: u64, safe: u64, place: Option<Place>) -> io::Result<()> {
        let (Some(journal), Some(place)) = (&mut self.journal, place) else {
            return Ok(());
        };
        let written = journal.unsaved.partition_point(|&(_, end)| end <= done);
        let from = written.saturating_sub(WRITTEN_LISTED);
        let to = journal.unsaved.partition_point(|&(_, end)| end <= safe);
        if from >= to {
            return Ok(());
        }
        let ahead = &mut journal.ahead;
        let count = (to - from) as u64;
        ahead.bytes.clear();
        ahead.bytes.resize(AHEAD_HEADER as usize, 0);
        for &(id, end) in journal.unsaved.range(from..to) {
            ahead.bytes.extend_from_slice(&id.to_le_bytes());
            // Those written end at or before the file's end (or, in a file rotated since, at
            // its start): whole, as they are.
            let at = (end + place.offset).saturating_sub(done);
            ahead.bytes.extend_from_slice(&at.to_le_bytes());
        }
        let checksum = xxhash_rust::xxh3::xxh3_64(&ahead.bytes[AHEAD_HEADER as usize..]);
        let header = &mut ahead.bytes[..AHEAD_HEADER as usize];
        header[..8].copy_from_slice(AHEAD_MAGIC);
        header[8..16].copy_from_slice(&count.to_le_bytes());
        header[16..24].copy_from_slice(&place.dev.to_le_bytes());
        header[24..32].copy_from_slice(&place.ino.to_le_bytes());
        header[32..].copy_from_slice(&checksum.to_le_bytes());
        // One write, before the records': cut short, the checksum says so at the next start.
        ahead.file.write_all_at(&ahead.bytes, 0)
    }

    /// The identities offered and not saved whose records end after `done` and at or before
    /// `upto` in the records sink, with those ends: the records a spill of the sink's backlog
    /// holds (`spills.rs`).
    pub fn unsaved_between(&self, done: u64, upto: u64) -> Vec<(u128, u64)> {
        let Some(journal) = &self.journal else {
            return Vec::new();
        };
        let from = journal.unsaved.partition_point(|&(_, end)| end <= done);
        let to = journal.unsaved.partition_point(|&(_, end)| end <= upto);
        journal.unsaved.range(from..to.max(from)).copied().collect()
    }

    /// Remembers identities whose records are safe elsewhere (a spill read back, or to be), and
    /// saves them at once.
    pub fn learn(&mut self, ids: impl IntoIterator<Item = u128>) -> io::Result<()> {
        let mut learned = Vec::new();
        for id in ids {
            if id != 0 && !self.ring.contains(id) {
                self.ring.push(id);
                learned.push(id);
            }
        }
        if let Some(journal) = &mut self.journal {
            // Ahead of the records offered since, whose ends are past 0.
            for &id in learned.iter().rev() {
                journal.unsaved.push_front((id, 0));
            }
        }
        self.persist(0)
    }

    /// Writes into the file the identities whose records end at or before `done` in the records
    /// sink (its bytes out of its hands, [`crate::sink::Sink::done`]), then where the ring goes
    /// on. With `[output.nats]`, `done` is no further than what NATS keeps safe too.
    pub fn persist(&mut self, done: u64) -> io::Result<()> {
        let capacity = self.ring.capacity as u64;
        let Some(journal) = &mut self.journal else {
            return Ok(());
        };
        // Only the newest `capacity` matter: older ones have left the ring, and saved they would
        // be overwritten by newer ones all the same. They go even if the file cannot be written
        // or NATS takes nothing, so that a wait that does not end holds no more than the window.
        if journal.unsaved.len() > self.ring.capacity {
            let over = journal.unsaved.len() - self.ring.capacity;
            journal.unsaved.drain(..over);
        }
        let count = journal.unsaved.partition_point(|&(_, end)| end <= done);
        if count == 0 {
            return Ok(());
        }
        // The ring is written in at most two runs.
        let mut bytes = Vec::with_capacity(count * SLOT as usize);
        for (id, _) in journal.unsaved.range(..count) {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        let mut written = 0;
        while written < count {
            let room = (capacity - journal.next) as usize;
            let n = room.min(count - written);
            let chunk = &bytes[written * SLOT as usize..(written + n) * SLOT as usize];
            journal
                .file
                .write_all_at(chunk, HEADER + journal.next * SLOT)?;
            journal.next = (journal.next + n as u64) % capacity;
            written += n;
        }
        journal.file.write_all_at(&journal.next.to_le_bytes(), 8)?;
        // Only once they are on disk: after an error they are tried again.
        journal.unsaved.drain(..count);
        Ok(())
    }
}

/// Gives the ring's file its blocks now: `set_len` makes it sparse, so every save would take new
/// blocks, and on a full disk saves would fail while records are still written to their file (an
/// audit filled `data_dir`: the window forgot 62 records its file held, and a replay wrote them
/// twice). Overwriting blocks it has needs no room.
fn reserve(file: &File, size: u64, path: &Path) {
    use std::os::fd::AsRawFd;
    let Ok(length) = libc::off_t::try_from(size) else {
        return;
    };
    // SAFETY: a plain system call on a descriptor the borrowed file keeps open through it.
    let error = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, length) };
    if error != 0 {
        tracing::warn!(
            "{}: cannot reserve its {size} bytes on disk ({}): while the disk is full it may \
             not be saved, and a replay then writes records twice",
            path.display(),
            io::Error::from_raw_os_error(error)
        );
    }
}

#[cfg(test)]
mod tests;
