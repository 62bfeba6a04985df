//! Duplicate records (DESIGN §3): NSS "Duplicate Logs" and LSS replay re-send records after a
//! reconnect, often on another connection and so another shard, byte for byte. The aggregator
//! remembers the identities (128-bit payload hashes) of the last `capacity` records and drops a
//! record whose identity it has seen.
//!
//! The window survives a restart: NSS replays right after a reconnect, which is exactly when a
//! restarted collector comes back. Identities are kept in `data_dir/dedup.window`, a ring of
//! `capacity` 16-byte slots behind a 16-byte header (magic, then the next slot to write), written
//! with the records they let through ([`Window::persist`], at every flush). A crash loses at most
//! the identities of the records written since the last flush, so at most those can come back
//! twice; a torn slot is random bits, which no real record's hash will meet.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use wire::device::IdHasher;

const MAGIC: &[u8; 8] = b"ZTELDD01";
const HEADER: u64 = 16;
const SLOT: u64 = 16;

/// A bounded window of record identities (already hashes: not hashed again).
pub struct Window {
    seen: HashSet<u128, BuildHasherDefault<IdHasher>>,
    order: VecDeque<u128>,
    capacity: usize,
    /// Where the window is kept, if anywhere.
    journal: Option<Journal>,
}

/// The window's file, and the identities not yet written to it.
struct Journal {
    file: File,
    /// The ring slot the next identity goes to.
    next: u64,
    unsaved: Vec<u128>,
}

impl Window {
    /// A window kept in memory only.
    pub fn new(capacity: usize) -> Self {
        Window {
            seen: HashSet::with_capacity_and_hasher(capacity.min(1 << 16), Default::default()),
            order: VecDeque::new(),
            capacity: capacity.max(1),
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
        let size = HEADER + SLOT * window.capacity as u64;
        let mut header = [0u8; HEADER as usize];
        let next = if file.metadata()?.len() == size
            && file.read_exact_at(&mut header, 0).is_ok()
            && &header[..8] == MAGIC
        {
            let next = u64::from_le_bytes(header[8..].try_into().unwrap_or_default());
            window.load(&file, next % window.capacity as u64)?;
            next % window.capacity as u64
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
        });
        Ok(window)
    }

    /// Reads the ring oldest first: from `next` to the end, then from the start. Zero slots were
    /// never written.
    fn load(&mut self, file: &File, next: u64) -> io::Result<()> {
        let mut slots = vec![0u8; self.capacity * SLOT as usize];
        file.read_exact_at(&mut slots, HEADER)?;
        let at = (next * SLOT) as usize;
        let (newer, older) = slots.split_at(at);
        for slot in older
            .chunks_exact(SLOT as usize)
            .chain(newer.chunks_exact(SLOT as usize))
        {
            let id = u128::from_le_bytes(slot.try_into().unwrap_or_default());
            if id != 0 && self.seen.insert(id) {
                self.order.push_back(id);
            }
        }
        Ok(())
    }

    /// Identities remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// True the first time an identity is offered (the record is new), false for a repeat.
    pub fn first(&mut self, identity: u128) -> bool {
        if !self.seen.insert(identity) {
            return false;
        }
        self.order.push_back(identity);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if let Some(journal) = &mut self.journal {
            journal.unsaved.push(identity);
        }
        true
    }

    /// Writes the identities offered since the last call into the file, then where the ring
    /// goes on. Called after the records they let through were written.
    pub fn persist(&mut self) -> io::Result<()> {
        let capacity = self.capacity as u64;
        let Some(journal) = &mut self.journal else {
            return Ok(());
        };
        if journal.unsaved.is_empty() {
            return Ok(());
        }
        // Only the newest `capacity` matter; the ring is written in at most two runs.
        let skip = journal.unsaved.len().saturating_sub(self.capacity);
        let ids = &journal.unsaved[skip..];
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
        journal.unsaved.clear();
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
        assert!(w.seen.len() <= 3);
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
        w.persist().unwrap();
        // Not persisted: as after a crash before the next flush.
        assert!(w.first(99));
        drop(w);

        let mut w = Window::open(&path, 4).unwrap();
        assert_eq!(w.len(), 4, "the newest four of six");
        for id in 3..=6u128 {
            assert!(!w.first(id << 64 | id), "{id} is remembered");
        }
        assert!(w.first(99), "never persisted");
        // The ring goes on where it was: 99 pushes out 3, the oldest.
        assert!(w.first(1 << 64 | 1), "1 and 2 were pushed out long ago");
        w.persist().unwrap();
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
