//! The device registry on disk (`data_dir/devices.redb`): written by the aggregator in batches
//! (every device changed since the last save, in one transaction), read once at start, so that
//! devices survive a restart and a `kill -9`.
//!
//! A device is a few dozen bytes of its own binary form ([`value`]). Versions before it kept
//! JSON in the table `devices`; [`Store::open`] moves such devices to the current table a chunk
//! per transaction (a crash in between resumes) and drops the old table, which those versions
//! then no longer find: they start with an empty registry, which refills from the feeds.
//!
//! A file that cannot be read is set aside at start rather than stopping it ([`aside`]).

use std::path::Path;

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};

use super::registry::{Device, Registry};
use crate::sink::Place;
use value::{decode, encode, Legacy};

/// Device id → the device ([`encode`]).
const DEVICES: TableDefinition<u64, &[u8]> = TableDefinition::new("devices.2");
/// What the saved devices are known to hold: `DEVICES_FILE` → the devices file's device,
/// inode and offset, each u64 LE, before which every device event is in the saved devices.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const DEVICES_FILE: &str = "devices_file";
/// Device id → the device as JSON, as versions before `DEVICES` wrote it.
const LEGACY: TableDefinition<u64, &[u8]> = TableDefinition::new("devices");

/// redb's page cache. Its default (1 GiB) kept every page read at start: the registry is read
/// once and then only written, so a small cache costs nothing but a few reads per save. With a
/// million devices a save lands on a leaf of its own in any cache that fits in memory; 4 MiB
/// rather than 16 took 20 to 28 MB off the collector's RSS and cost the registry thread 7 to 17 %
/// more CPU per save (perf/README.md, "Memory and restart").
const CACHE_BYTES: usize = 4 << 20;
/// Devices moved from the old table per transaction.
const MIGRATE_CHUNK: usize = 65_536;

/// Why the store failed; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb found the file corrupt: [`Store::open_and_load`] sets it aside.
    #[error("{path}: {message}")]
    Corrupt { path: String, message: String },
    /// Anything else (permission denied, a directory in the way, a full disk, another process
    /// holding the file): setting the file aside would not cure it.
    #[error("{path}: {message}")]
    Other { path: String, message: String },
}

impl StoreError {
    /// The error of a redb call on the file at `path`.
    fn of(path: &str, e: impl Into<redb::Error>) -> StoreError {
        let e = e.into();
        let (path, message) = (path.to_owned(), e.to_string());
        match e {
            redb::Error::Corrupted(_) => StoreError::Corrupt { path, message },
            // How redb says the file is not one of its databases at all (zeroed by a power
            // cut, overwritten): as corrupt as a file can be.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                StoreError::Corrupt { path, message }
            }
            redb::Error::DatabaseAlreadyOpen => StoreError::Other {
                path,
                message: format!(
                    "{message}: another process holds it (another collector on this data_dir?)"
                ),
            },
            _ => StoreError::Other { path, message },
        }
    }
}

/// Devices in their stored form ([`encode`]), in one buffer: what the aggregator hands the
/// saving thread, encoded while it holds the registry, so that the thread needs no lock. A
/// device may be in it more than once: the last one is saved.
#[derive(Default)]
pub struct Encoded {
    ids: Vec<u64>,
    /// Where each value ends in `values`.
    ends: Vec<usize>,
    values: Vec<u8>,
    /// The place in the devices file before which every device event is in these devices or
    /// in those saved before them ([`Store::devices_through`]).
    pub through: Option<Place>,
}

impl Encoded {
    pub fn extend<'d>(&mut self, devices: impl IntoIterator<Item = (u64, Device<'d>)>) {
        for (id, device) in devices {
            encode(&device, &mut self.values);
            self.ids.push(id);
            self.ends.push(self.values.len());
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many devices a [`Store::save`] of these writes: a device in them twice is one.
    pub fn distinct(&self) -> usize {
        let mut ids = self.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// The encoded devices' size.
    pub fn bytes(&self) -> usize {
        self.values.len()
    }

    /// Appends `other`'s devices after these.
    pub fn append(&mut self, other: &Encoded) {
        let base = self.values.len();
        self.ids.extend_from_slice(&other.ids);
        self.ends.extend(other.ends.iter().map(|end| base + end));
        self.values.extend_from_slice(&other.values);
        self.through = other.through.or(self.through);
    }

    /// Empties it, keeping its memory for the next save.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.ends.clear();
        self.values.clear();
        self.through = None;
    }

    /// Empties it, keeping at most about `bytes` of its memory: one large save (a shutdown, a
    /// flood of new devices) must not hold its size for good.
    pub fn clear_to(&mut self, bytes: usize) {
        self.clear();
        self.values.shrink_to(bytes);
        let devices = bytes / 64;
        self.ids.shrink_to(devices);
        self.ends.shrink_to(devices);
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.ids
            .iter()
            .zip(starts.zip(self.ends.iter().copied()))
            .map(|(&id, (start, end))| (id, &self.values[start..end]))
    }
}

/// Opens the file at a path as a database, at start and again after a failed save; a test puts
/// a backend of its own under it.
pub(super) type Opener = Box<dyn Fn(&str) -> Result<Database, redb::DatabaseError> + Send>;

/// Fewer bytes than a saved device takes in the file: its 8-byte id and a value of at least
/// its hostname, first and last seen. No file holds more devices than its length over this.
const MIN_DEVICE_BYTES: u64 = 24;

pub struct Store {
    /// None from a failed save until the next one opens the file again: after an I/O error (a
    /// full disk) redb refuses every transaction ("Previous I/O error occurred") until the
    /// database is closed and opened again, so without this a disk full once meant no save
    /// until a restart, and the restart lost the devices.
    db: Option<Database>,
    path: String,
    open: Opener,
}

impl Store {
    /// Opens (or creates) the store, moving devices saved by earlier versions to this one's
    /// table first. At start, [`Store::open_and_load`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(
            path,
            Box::new(|path| Database::builder().set_cache_size(CACHE_BYTES).create(path)),
        )
    }

    /// [`Store::open`], the file opened by `open`.
    pub(super) fn open_with(path: &Path, open: Opener) -> Result<Store, StoreError> {
        let path = path.display().to_string();
        let db = open(&path).map_err(|e| StoreError::of(&path, e))?;
        let store = Store {
            db: Some(db),
            path,
            open,
        };
        store.migrate()?;
        Ok(store)
    }

    fn error(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::of(&self.path, e)
    }

    /// The database, unless a save failed since it was opened.
    fn db(&self) -> Result<&Database, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Other {
            path: self.path.clone(),
            message: "closed after a failed save".into(),
        })
    }

    /// Every device saved, in a registry sized for them. A record that does not decode is
    /// skipped and reported, not fatal: the registry refills from the feeds.
    pub fn load(&self) -> Result<Registry, StoreError> {
        let txn = self.db()?.begin_read().map_err(|e| self.error(e))?;
        let table = match txn.open_table(DEVICES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Registry::default()),
            Err(e) => return Err(self.error(e)),
        };
        // Sized by the count the table's header declares only as far as the file's bytes can
        // hold devices: a damaged count must not reserve memory for it (found by review).
        let declared = table.len().map_err(|e| self.error(e))?;
        let held = std::fs::metadata(&self.path).map_or(0, |m| m.len() / MIN_DEVICE_BYTES);
        let mut registry = Registry::with_capacity(declared.min(held) as usize);
        let mut unreadable = 0u64;
        for entry in table.iter().map_err(|e| self.error(e))? {
            let (id, value) = entry.map_err(|e| self.error(e))?;
            match decode(id.value(), value.value()) {
                Some(device) => registry.restore(device),
                None => {
                    unreadable += 1;
                    if unreadable.is_power_of_two() {
                        tracing::warn!(
                            "{}: device {:016x} unreadable, skipped ({unreadable} so far)",
                            self.path,
                            id.value()
                        );
                    }
                }
            }
        }
        Ok(registry)
    }

    /// Saves devices in one transaction (the last of a device that is in it twice), and their
    /// place in the devices file ([`Encoded::through`]) if they have one. After a
    /// failed save the database is closed, and the next save opens it again first: redb keeps
    /// what it committed before the failure, and repairs the file as it opens it if need be.
    pub fn save(&mut self, devices: &Encoded) -> Result<(), StoreError> {
        if self.db.is_none() {
            // While the disk is still full the opening may fail too: the next save tries again.
            let db = (self.open)(&self.path).map_err(|e| self.error(e))?;
            self.db = Some(db);
        }
        let saved = self.write(devices);
        if saved.is_err() {
            // Dropped now, not when opened again: it holds the file's lock. Any error closes it,
            // not only the I/O ones that leave it refusing everything: the others (a file
            // damaged under it) are too rare to tell apart. Opening a file closed after an I/O
            // error repairs it, which reads it whole: while the disk stays full, every retry.
            self.db = None;
        }
        saved
    }

    fn write(&self, devices: &Encoded) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(|e| self.error(e))?;
        {
            let mut table = txn.open_table(DEVICES).map_err(|e| self.error(e))?;
            for (id, value) in devices.iter() {
                table.insert(id, value).map_err(|e| self.error(e))?;
            }
            // In the same transaction: a crash keeps both or neither.
            if let Some(p) = devices.through {
                let mut meta = txn.open_table(META).map_err(|e| self.error(e))?;
                let mut value = [0u8; 24];
                for (at, word) in [p.dev, p.ino, p.offset].into_iter().enumerate() {
                    value[8 * at..8 * at + 8].copy_from_slice(&word.to_le_bytes());
                }
                let value: &[u8] = &value;
                meta.insert(DEVICES_FILE, value)
                    .map_err(|e| self.error(e))?;
            }
        }
        txn.commit().map_err(|e| self.error(e))
    }

    /// The place in the devices file before which every device event is in the saved devices,
    /// as the last save that knew it left it; `None` before any (a store of an earlier
    /// version, a devices file that is not a file).
    pub fn devices_through(&self) -> Result<Option<Place>, StoreError> {
        let txn = self.db()?.begin_read().map_err(|e| self.error(e))?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let Some(value) = meta.get(DEVICES_FILE).map_err(|e| self.error(e))? else {
            return Ok(None);
        };
        let value = value.value();
        let word = |at: usize| {
            let bytes = value.get(8 * at..8 * at + 8)?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        };
        Ok(match (word(0), word(1), word(2)) {
            (Some(dev), Some(ino), Some(offset)) => Some(Place { dev, ino, offset }),
            _ => None,
        })
    }

    /// Moves the devices of the JSON table of earlier versions into `DEVICES`.
    fn migrate(&self) -> Result<(), StoreError> {
        let mut moved = 0u64;
        loop {
            let txn = self.db()?.begin_write().map_err(|e| self.error(e))?;
            let has_legacy = txn
                .list_tables()
                .map_err(|e| self.error(e))?
                .any(|t| t.name() == LEGACY.name());
            if !has_legacy {
                break;
            }
            let done = {
                let mut legacy = txn.open_table(LEGACY).map_err(|e| self.error(e))?;
                let mut table = txn.open_table(DEVICES).map_err(|e| self.error(e))?;
                let mut value = Vec::with_capacity(256);
                for _ in 0..MIGRATE_CHUNK {
                    let Some((id, json)) = legacy.pop_first().map_err(|e| self.error(e))? else {
                        break;
                    };
                    let id = id.value();
                    let Ok(old) = serde_json::from_slice::<Legacy>(json.value()) else {
                        tracing::warn!("{}: device {id:016x} unreadable, skipped", self.path);
                        continue;
                    };
                    value.clear();
                    old.encode(&mut value);
                    table
                        .insert(id, value.as_slice())
                        .map_err(|e| self.error(e))?;
                    moved += 1;
                }
                legacy.is_empty().map_err(|e| self.error(e))?
            };
            if done {
                txn.delete_table(LEGACY).map_err(|e| self.error(e))?;
            }
            txn.commit().map_err(|e| self.error(e))?;
        }
        if moved > 0 {
            tracing::info!(
                "{}: {moved} devices moved to the compact format (ztel before it will not see them)",
                self.path
            );
        }
        Ok(())
    }
}

mod aside;
#[cfg(test)]
pub(super) mod tests;
mod value;
