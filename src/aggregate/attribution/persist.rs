//! The attribution table on disk: saved at a clean stop, loaded at the next start, so that a
//! restart (an upgrade, `systemctl restart`) does not forget who was behind the recent
//! connections. Not saved as it changes: a crash loses what came since the last clean stop.
//!
//! The file, `attribution.table` in `data_dir`, written to a temporary name and renamed:
//! - [`MAGIC`], whose last byte is the layout's version;
//! - CBOR (serde, ciborium) values: a [`Header`], then the pooled strings (users, device names,
//!   sessions) once each, then each entry as an array that names its strings by their place in
//!   that list, oldest first;
//! - the xxh3-64 of everything before it, little-endian: a file cut short or damaged is not
//!   loaded at all, rather than a part of it.
//!
//! Entries keep everything a lookup or a later sighting reads: their sequence numbers (the
//! order among equals), start, end, last sighting, the start of the connection that superseded
//! them, and which entry a connection id names. The grace and retention are the table's own,
//! as the collector configures them, and the table's clock is restored: lookups answer as they
//! did before the stop.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::xxh3::Xxh3Default;

use super::entry::{Entry, NewEntry, Slot};
use super::interner::Sym;
use super::stamp::Stamp;
use super::{Attribution, Deadline, FlowKey};

/// The file's first bytes; the last is the version of the layout below.
pub const MAGIC: &[u8; 8] = b"ZTELAT01";

/// Why a saved table was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Another layout (an older or newer ztel), or not a saved table at all.
    #[error("written by another version of ztel, or not a saved table (it begins {0:?})")]
    Version(String),
    /// Cut short, or not what was written.
    #[error("torn or damaged ({0})")]
    Torn(String),
}

/// What a load found besides the entries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loaded {
    pub entries: usize,
    /// The feed's time when the table was saved (the newest ZPA record time).
    pub feed_now: Option<Timestamp>,
}

/// A timestamp as its seconds and nanoseconds.
type Time = (i64, i32);

fn time(t: Timestamp) -> Time {
    (t.as_second(), t.subsec_nanosecond())
}

fn timestamp((second, nanosecond): Time) -> Result<Timestamp, LoadError> {
    Timestamp::new(second, nanosecond).map_err(|e| LoadError::Torn(e.to_string()))
}

/// What precedes the strings and the entries.
#[derive(Serialize, Deserialize)]
struct Header {
    next_seq: u64,
    clock: Time,
    feed_now: Option<Time>,
    strings: u64,
    entries: u64,
}

/// One entry. A tuple struct: CBOR writes it as an array, without field names.
#[derive(Serialize, Deserialize)]
struct Saved<'a>(
    /// seq
    u64,
    /// connector IP and port, server IP and port
    Ip,
    u16,
    Ip,
    u16,
    /// user, device, device id, session: strings by their place in the file's list
    u32,
    Option<u32>,
    Option<u64>,
    Option<u32>,
    /// connection id, and whether the table's index by connection id names this entry
    Option<Cow<'a, str>>,
    bool,
    /// start, end, last sighting, superseded at
    Time,
    Option<Time>,
    Time,
    Option<Time>,
);

/// An IP as its 4 or 16 bytes (serde's own form of `IpAddr` names its variant in CBOR).
struct Ip(IpAddr);

impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            IpAddr::V4(ip) => s.serialize_bytes(&ip.octets()),
            IpAddr::V6(ip) => s.serialize_bytes(&ip.octets()),
        }
    }
}

impl<'de> Deserialize<'de> for Ip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ip, D::Error> {
        struct Octets;
        impl serde::de::Visitor<'_> for Octets {
            type Value = Ip;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("4 or 16 bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Ip, E> {
                if let Ok(b) = <[u8; 4]>::try_from(v) {
                    Ok(Ip(IpAddr::V4(Ipv4Addr::from(b))))
                } else if let Ok(b) = <[u8; 16]>::try_from(v) {
                    Ok(Ip(IpAddr::V6(Ipv6Addr::from(b))))
                } else {
                    Err(E::invalid_length(v.len(), &self))
                }
            }
        }
        d.deserialize_bytes(Octets)
    }
}

/// A file that hashes what is written to it or read from it, under a buffer: it sees the
/// buffer's large pieces, not CBOR's items of a few bytes (hashed one by one, they made a load
/// several times slower).
struct Hashing {
    file: File,
    hash: Box<Xxh3Default>,
    /// Bytes still to hash as they are read: those before the checksum.
    left: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        let hashed = n.min(usize::try_from(self.left).unwrap_or(usize::MAX));
        self.hash.update(&buf[..hashed]);
        self.left -= hashed as u64;
        Ok(n)
    }
}

fn cbor<T: Serialize, W: Write>(value: &T, out: &mut W) -> io::Result<()> {
    ciborium::into_writer(value, out).map_err(|e| match e {
        ciborium::ser::Error::Io(e) => e,
        ciborium::ser::Error::Value(m) => io::Error::other(m),
    })
}

/// ciborium's room for a string as it reads one, kept across the entries: its `from_reader`
/// zeroes 4 KiB on the stack for every value, a million times at a full table's load. A
/// longer string is read into one of its own.
const SCRATCH: usize = 4096;

/// The fewest bytes a saved entry takes: its array's head and fifteen items of at least a
/// byte each. No file holds more entries than its length over this.
const MIN_SAVED_ENTRY: u64 = 16;

/// The highest `next_seq` a load takes.
const SEQ_MOST: u64 = 1 << 62;

/// The next value of the file.
fn next<T: DeserializeOwned>(input: &mut impl Read, scratch: &mut [u8]) -> Result<T, LoadError> {
    ciborium::from_reader_with_buffer(input, scratch).map_err(|e| LoadError::Torn(e.to_string()))
}

impl Attribution {
    /// Writes the table to `path` (through `path`.tmp, renamed over it), with the feed's time
    /// for the next start's clock. Returns the entries written.
    pub fn save(&self, path: &Path, feed_now: Option<Timestamp>) -> io::Result<usize> {
        let tmp = path.with_extension("table.tmp");
        let file = File::create(&tmp)?;
        let hashing = Hashing {
            file,
            hash: Box::default(),
            left: 0,
        };
        let mut out = BufWriter::with_capacity(1 << 16, hashing);
        let written = self.write_to(&mut out, feed_now);
        let flushed = written.and_then(|n| {
            out.flush()?;
            let hashing = out.get_mut();
            let checksum = hashing.hash.digest().to_le_bytes();
            hashing.file.write_all(&checksum)?;
            Ok(n)
        });
        // No fsync: a file that a power cut leaves torn is found so by its checksum at the
        // next start, and a clean stop should not wait on the disk for what a crash loses
        // anyway.
        match flushed.and_then(|n| std::fs::rename(&tmp, path).map(|()| n)) {
            Ok(n) => Ok(n),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn write_to(&self, out: &mut impl Write, feed_now: Option<Timestamp>) -> io::Result<usize> {
        out.write_all(MAGIC)?;
        let strings = &self.store.strings;
        // Each pooled string's place in the file, by its symbol.
        let mut place = vec![u32::MAX; strings.bound()];
        let mut listed = 0u32;
        for (sym, _) in strings.iter() {
            place[sym.index()] = listed;
            listed += 1;
        }
        // Oldest first: inserted in this order at the next start, each key's entries chain as
        // they do now.
        let mut order: Vec<(u64, Slot)> = self.store.entries().map(|(s, e)| (e.seq, s)).collect();
        order.sort_unstable();
        let header = Header {
            next_seq: self.next_seq,
            clock: time(self.clock),
            feed_now: feed_now.map(time),
            strings: u64::from(listed),
            entries: order.len() as u64,
        };
        cbor(&header, out)?;
        for (_, text) in strings.iter() {
            cbor(&text, out)?;
        }
        let of = |sym: Sym| place.get(sym.index()).copied().unwrap_or(u32::MAX);
        for &(_, slot) in &order {
            let Some(e) = self.store.get(slot) else {
                continue;
            };
            let id = e.connection_id.as_deref();
            let named = id.is_some_and(|id| self.store.by_connection(id) == Some(slot));
            let saved = Saved(
                e.seq,
                Ip(e.key.connector_ip),
                e.key.connector_port,
                Ip(e.key.server_ip),
                e.key.server_port,
                of(e.user),
                e.device.map(of),
                e.device_id,
                e.session_id.map(of),
                id.map(Cow::Borrowed),
                named,
                time(e.start()),
                e.end().map(time),
                time(e.last_seen()),
                e.superseded().map(time),
            );
            cbor(&saved, out)?;
        }
        Ok(order.len())
    }

    /// Loads the table saved at `path` into this one, which must be empty, and drops what has
    /// expired by the feed's time it was saved at. On an error the table stays empty.
    pub fn load(&mut self, path: &Path) -> Result<Loaded, LoadError> {
        let mut file = File::open(path)?;
        let mut magic = [0u8; 8];
        if let Err(e) = file.read_exact(&mut magic) {
            return Err(match e.kind() {
                io::ErrorKind::UnexpectedEof => LoadError::Torn("shorter than its header".into()),
                _ => LoadError::Io(e),
            });
        }
        if &magic != MAGIC {
            return Err(LoadError::Version(
                String::from_utf8_lossy(&magic).into_owned(),
            ));
        }
        let mut hash = Box::<Xxh3Default>::default();
        hash.update(&magic);
        // What follows the magic, but the checksum.
        let left = file.metadata()?.len().saturating_sub(16);
        let mut input = BufReader::with_capacity(1 << 16, Hashing { file, hash, left });
        let loaded = self.read_from(&mut input);
        if loaded.is_err() {
            *self = self.emptied();
        }
        loaded
    }

    fn read_from(&mut self, input: &mut BufReader<Hashing>) -> Result<Loaded, LoadError> {
        let mut scratch = vec![0u8; SCRATCH];
        let header: Header = next(input, &mut scratch)?;
        // No table counts this far (2^62 flows at ten million a second take 14,000 years);
        // one that says so was made to wrap the counter, and new entries would sort first.
        if header.next_seq > SEQ_MOST {
            return Err(LoadError::Torn(format!("sequence {}", header.next_seq)));
        }
        // Read as they come, not reserved by the header's word: a damaged count must not
        // reserve memory for it. Each is pooled as it is read, held by the load itself until
        // the entries hold it (a string no entry names is then freed), so that an entry takes
        // its strings by their place in the file, not by hashing them again.
        let mut strings: Vec<Sym> = Vec::new();
        for _ in 0..header.strings {
            let s: String = next(input, &mut scratch)?;
            strings.push(self.store.strings.intern(&s));
        }
        // The indexes sized once for what the file can hold, not for what its header says.
        let unread = input.get_ref().left + input.buffer().len() as u64;
        let room = usize::try_from(header.entries.min(unread / MIN_SAVED_ENTRY));
        self.store.reserve(room.unwrap_or(0));
        let mut deadlines = Vec::new();
        let mut last_seq = None;
        for _ in 0..header.entries {
            let s: Saved<'static> = next(input, &mut scratch)?;
            if last_seq.is_some_and(|last| last >= s.0) || s.0 >= header.next_seq {
                return Err(LoadError::Torn("entries out of order".into()));
            }
            last_seq = Some(s.0);
            let text = |i: u32| {
                strings
                    .get(i as usize)
                    .copied()
                    .ok_or_else(|| LoadError::Torn(format!("no string {i}")))
            };
            let (user, device, session) = (
                text(s.5)?,
                s.6.map(text).transpose()?,
                s.8.map(text).transpose()?,
            );
            let pool = &mut self.store.strings;
            for held in [Some(user), device, session].into_iter().flatten() {
                pool.hold(held);
            }
            let mut entry = Entry::new(NewEntry {
                seq: s.0,
                key: FlowKey {
                    connector_ip: s.1 .0,
                    connector_port: s.2,
                    server_ip: s.3 .0,
                    server_port: s.4,
                },
                user,
                device,
                device_id: s.7,
                session_id: session,
                connection_id: s.9.map(|id| id.into_owned().into_boxed_str()),
                start: timestamp(s.11)?,
                end: s.12.map(timestamp).transpose()?,
                last_seen: timestamp(s.13)?,
            });
            if let Some(at) = s.14 {
                entry.superseded_at(timestamp(at)?);
            }
            let until = Stamp::new(self.until(&entry));
            let slot = self.store.insert(entry);
            if s.10 {
                // This entry took its connection id over from a newer one (a later sighting
                // gave it its id): inserted after, the newer one took the index.
                self.store.index_connection(slot);
            }
            deadlines.push(std::cmp::Reverse(Deadline {
                until,
                seq: s.0,
                slot,
            }));
        }
        for s in strings {
            self.store.strings.release(s);
        }
        let mut checksum = [0u8; 8];
        input
            .read_exact(&mut checksum)
            .map_err(|_| LoadError::Torn("no checksum".into()))?;
        if input.read(&mut [0u8; 1])? != 0 {
            return Err(LoadError::Torn("bytes after the checksum".into()));
        }
        // The entries end where the checksum begins: every byte before it is hashed now.
        if u64::from_le_bytes(checksum) != input.get_ref().hash.digest() {
            return Err(LoadError::Torn("checksum differs".into()));
        }
        self.deadlines = deadlines.into();
        self.next_seq = header.next_seq;
        let feed_now = header.feed_now.map(timestamp).transpose()?;
        let clock = timestamp(header.clock)?;
        // A table saved by a collector that held more (its capacity was larger) keeps the
        // entries whose windows end last, as a full table does.
        while self.store.len() > self.capacity {
            let Some(std::cmp::Reverse(d)) = self.deadlines.pop() else {
                break;
            };
            if self.is_live(d) {
                self.store.remove(d.slot);
            }
        }
        self.expire(feed_now.map_or(clock, |now| now.max(clock)));
        Ok(Loaded {
            entries: self.store.len(),
            feed_now,
        })
    }

    /// An empty table configured as this one.
    fn emptied(&self) -> Attribution {
        Attribution {
            capacity: self.capacity,
            grace: self.grace,
            max_open: self.max_open,
            retain: self.retain,
            store: super::Store::new(self.capacity),
            deadlines: Default::default(),
            next_seq: 0,
            clock: Timestamp::MIN,
        }
    }
}

#[cfg(test)]
mod tests;
