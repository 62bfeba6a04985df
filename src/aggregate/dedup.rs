//! Duplicate records (DESIGN §3): NSS "Duplicate Logs" and LSS replay re-send records after a
//! reconnect, often on another connection and so another shard, byte for byte. The aggregator
//! remembers the identities (128-bit payload hashes) of the last `capacity` records and drops a
//! record whose identity it has seen.
//!
//! The window survives a restart: NSS replays right after a reconnect, which is exactly when a
//! restarted collector comes back. Identities are kept in `data_dir/dedup.window`, a ring of
//! `capacity` 16-byte slots behind a 16-byte header (magic, then the next slot to write), written
//! as soon as the records they let through are in their file: each batch's identities are marked
//! with where its records end in the records sink ([`Window::mark`]), and [`Window::persist`]
//! saves those whose records the sink has written, however busy the collector is. A crash loses
//! at most the identities of the records written since, so at most those can come back twice; an
//! identity is never saved before its record, which a crash would lose and the replay's copy
//! would then be dropped. A torn slot is random bits, which no real record's hash will meet.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use hashbrown::HashTable;

const MAGIC: &[u8; 8] = b"ZTELDD01";
const HEADER: u64 = 16;
const SLOT: u64 = 16;

/// A bounded window of record identities (already hashes: not hashed again).
pub struct Window {
    ring: Ring,
    /// Where the window is kept, if anywhere.
    journal: Option<Journal>,
}

/// The window's identities, oldest first, in a ring, found through a table of their places: 4
/// bytes a slot beside the identity's 16. A set of identities and a queue of them held each
/// twice, about 66 MB for the default window of 2^20 against 26 MB now (issue 12's memory bound).
struct Ring {
    ids: Vec<u128>,
    /// Where the oldest is, once `ids` is full.
    oldest: usize,
    places: HashTable<u32>,
    capacity: usize,
}

/// Identities are 128-bit hashes already: their halves folded make the table's hash.
fn fold(id: u128) -> u64 {
    (id as u64) ^ ((id >> 64) as u64)
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        Ring {
            ids: Vec::new(),
            oldest: 0,
            places: HashTable::with_capacity(capacity.min(1 << 16)),
            // Places are u32.
            capacity: capacity.clamp(1, u32::MAX as usize),
        }
    }

    fn contains(&self, id: u128) -> bool {
        self.places
            .find(fold(id), |&at| self.ids[at as usize] == id)
            .is_some()
    }

    /// Adds an identity that is not in the ring; when it is full, the oldest leaves.
    fn push(&mut self, id: u128) {
        let Ring {
            ids,
            oldest,
            places,
            capacity,
        } = self;
        let at = if ids.len() < *capacity {
            ids.push(id);
            ids.len() - 1
        } else {
            let at = *oldest;
            if let Ok(place) = places.find_entry(fold(ids[at]), |&p| p as usize == at) {
                place.remove();
            }
            ids[at] = id;
            *oldest = (at + 1) % *capacity;
            at
        };
        places.insert_unique(fold(id), at as u32, |&p| fold(ids[p as usize]));
    }
}

/// The window's file, and the identities not yet written to it.
struct Journal {
    file: File,
    /// The ring slot the next identity goes to.
    next: u64,
    unsaved: Vec<u128>,
    /// `(n, at)`: the first `n` unsaved identities' records end at `at` in the records sink.
    marks: Vec<(usize, u64)>,
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
    pub fn open(path: &Path, capacity: usize) -> io::Result<Window> {
        let mut window = Window::new(capacity);
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
            }
            file.set_len(0)?;
            file.set_len(size)?;
            file.write_all_at(MAGIC, 0)?;
            file.write_all_at(&0u64.to_le_bytes(), 8)?;
            0
        };
        window.journal = Some(Journal {
            file,
            next,
            unsaved: Vec::new(),
            marks: Vec::new(),
        });
        Ok(window)
    }

    /// Reads the ring oldest first: from `next` to the end, then from the start. Zero slots were
    /// never written.
    fn load(&mut self, file: &File, next: u64) -> io::Result<()> {
        let mut slots = vec![0u8; self.ring.capacity * SLOT as usize];
        file.read_exact_at(&mut slots, HEADER)?;
        let at = (next * SLOT) as usize;
        let (newer, older) = slots.split_at(at);
        for slot in older
            .chunks_exact(SLOT as usize)
            .chain(newer.chunks_exact(SLOT as usize))
        {
            let id = u128::from_le_bytes(slot.try_into().unwrap_or_default());
            if id != 0 && !self.ring.contains(id) {
                self.ring.push(id);
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

    /// True the first time an identity is offered (the record is new), false for a repeat.
    pub fn first(&mut self, identity: u128) -> bool {
        if self.ring.contains(identity) {
            return false;
        }
        self.ring.push(identity);
        if let Some(journal) = &mut self.journal {
            journal.unsaved.push(identity);
        }
        true
    }

    /// Notes that the records of every identity offered so far end at `at` in the records sink
    /// (its bytes taken, [`crate::sink::Sink::taken`]).
    pub fn mark(&mut self, at: u64) {
        if let Some(journal) = &mut self.journal {
            let n = journal.unsaved.len();
            if journal.marks.last().is_none_or(|&(last, _)| last < n) {
                journal.marks.push((n, at));
            }
        }
    }

    /// Writes into the file the identities whose records end at or before `done` in the records
    /// sink (its bytes out of its hands, [`crate::sink::Sink::done`]), then where the ring goes
    /// on.
    pub fn persist(&mut self, done: u64) -> io::Result<()> {
        let capacity = self.ring.capacity as u64;
        let Some(journal) = &mut self.journal else {
            return Ok(());
        };
        let ready = journal.marks.partition_point(|&(_, at)| at <= done);
        let Some(&(count, _)) = ready.checked_sub(1).and_then(|i| journal.marks.get(i)) else {
            return Ok(());
        };
        // Only the newest `capacity` matter; the ring is written in at most two runs.
        let skip = count.saturating_sub(self.ring.capacity);
        let ids = &journal.unsaved[skip..count];
        let mut bytes = Vec::with_capacity(ids.len() * SLOT as usize);
        for id in ids {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        let mut written = 0;
        while written < ids.len() {
            let room = (capacity - journal.next) as usize;
            let n = room.min(ids.len() - written);
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
        journal.marks.drain(..ready);
        for mark in &mut journal.marks {
            mark.0 -= count;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_inside_the_window_are_caught_and_older_ones_forgotten() {
        let mut w = Window::new(3);
        assert!(w.first(1));
        assert!(!w.first(1));
        assert!(w.first(2));
        assert!(w.first(3));
        assert!(w.first(4));
        assert!(w.first(1), "1 left the window");
        assert!(!w.first(4));
        assert!(w.ring.places.len() <= 3);
    }

    #[test]
    fn the_ring_answers_as_a_set_and_a_queue_would() {
        use std::collections::{HashSet, VecDeque};
        // Identities from a small space, so that repeats come both inside the window and after
        // they left it.
        let mut w = Window::new(100);
        let (mut set, mut queue) = (HashSet::new(), VecDeque::new());
        let mut repeats = 0u32;
        for i in 0..20_000u64 {
            let k = xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()) % 130;
            let id = u128::from(xxhash_rust::xxh3::xxh3_64(&k.to_le_bytes())) << 64 | u128::from(k);
            let model = set.insert(id);
            repeats += u32::from(!model);
            if model {
                queue.push_back(id);
                if queue.len() > 100 {
                    let old = queue.pop_front().unwrap();
                    set.remove(&old);
                }
            }
            assert_eq!(w.first(id), model, "offer {i}");
            assert_eq!(w.len(), queue.len());
        }
        assert_eq!(w.ring.places.len(), 100);
        assert!(repeats > 10_000 && repeats < 19_000, "{repeats} repeats");
    }

    #[test]
    fn the_window_comes_back_from_its_file_oldest_first() {
        let dir = std::env::temp_dir().join(format!("ztel-dedup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dedup.window");
        let _ = std::fs::remove_file(&path);
        let mut w = Window::open(&path, 4).unwrap();
        for id in 1..=6u128 {
            assert!(w.first(id << 64 | id));
        }
        w.mark(600);
        w.persist(600).unwrap();
        // Its record is not written yet: as after a crash before the next flush.
        assert!(w.first(99));
        w.mark(700);
        w.persist(650).unwrap();
        drop(w);

        let mut w = Window::open(&path, 4).unwrap();
        assert_eq!(w.len(), 4, "the newest four of six");
        for id in 3..=6u128 {
            assert!(!w.first(id << 64 | id), "{id} is remembered");
        }
        assert!(w.first(99), "never persisted");
        // The ring goes on where it was: 99 pushes out 3, the oldest.
        assert!(w.first(1 << 64 | 1), "1 and 2 were pushed out long ago");
        w.mark(100);
        w.persist(100).unwrap();
        drop(w);
        let mut w = Window::open(&path, 4).unwrap();
        assert!(w.first(3 << 64 | 3), "3 was the oldest, and went");
        // A file of another size is started over.
        drop(w);
        let w = Window::open(&path, 8).unwrap();
        assert!(w.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
