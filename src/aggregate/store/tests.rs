use std::io;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::value::FORMAT;
use super::*;
use crate::batch::DeviceNews;
use jiff::Timestamp;
use wire::device::{device_id, Tag};

/// A store in a directory of its own, removed afterwards.
pub(in crate::aggregate) struct TempStore {
    dir: std::path::PathBuf,
}

impl TempStore {
    pub(in crate::aggregate) fn new(name: &str) -> TempStore {
        let dir = std::env::temp_dir().join(format!("ztel-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempStore { dir }
    }

    pub(in crate::aggregate) fn path(&self) -> std::path::PathBuf {
        self.dir.join("devices.redb")
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A device as plain values, to compare registries by.
pub(in crate::aggregate) type Plain = (String, u8, Timestamp, Timestamp, Vec<String>, Vec<String>);

fn plain(d: &Device<'_>) -> Plain {
    (
        d.hostname.to_owned(),
        d.tag_bits(),
        d.first_seen,
        d.last_seen,
        d.ips().map(str::to_owned).collect(),
        d.users().map(str::to_owned).collect(),
    )
}

pub(in crate::aggregate) fn all(r: &Registry) -> Vec<(u64, Plain)> {
    let mut all: Vec<_> = r.iter().map(|(id, d)| (id, plain(&d))).collect();
    all.sort_by_key(|(id, _)| *id);
    all
}

#[test]
fn deltas_round_trip_through_apply_save_and_reopen() {
    let tmp = TempStore::new("round-trip");
    let mut registry = Registry::default();
    let hosts = ["PC-1", "laptop-é", "gw.corp", "10.1.2.3", ""];
    for (i, host) in hosts.iter().enumerate() {
        for k in 0..(i * 13) {
            let ip = format!("10.{i}.{}.{}", k / 256, k % 256);
            let user = format!("user{}@example.com", k % 7);
            registry.apply(&DeviceNews {
                id: device_id(host),
                key: host,
                tag: if k % 5 == 4 { Tag::Zpa } else { Tag::Zia },
                ip: (k % 3 != 1).then_some(ip.as_str()),
                user: (k % 2 == 0).then_some(user.as_str()),
                // Nanoseconds, and times before 1970, survive.
                seen: Timestamp::new(1_700_000_000 - 86_400 * 365 * 60 * (k as i64 % 2), k as i32)
                    .unwrap(),
            });
        }
    }
    let expected = all(&registry);
    assert_eq!(
        expected.len(),
        hosts.len() - 1,
        "the first host is never seen"
    );
    {
        let mut store = Store::open(&tmp.path()).unwrap();
        // Saved in two goes: only what changed in between is written the second time.
        let mut encoded = Encoded::default();
        encoded.extend(registry.unsaved_devices());
        store.save(&encoded).unwrap();
        registry.saved_first(registry.unsaved());
        registry.apply(&DeviceNews {
            id: device_id("late"),
            key: "late",
            tag: Tag::Zpa,
            ip: None,
            user: Some("x@y"),
            seen: Timestamp::from_second(5).unwrap(),
        });
        assert_eq!(registry.unsaved(), 1);
        encoded.clear();
        encoded.extend(registry.unsaved_devices());
        store.save(&encoded).unwrap();
    }
    let store = Store::open(&tmp.path()).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(all(&loaded), all(&registry));
    assert_eq!(loaded.unsaved(), 0, "what was loaded is saved already");
    assert!(all(&loaded).iter().any(|(_, d)| d.4.len() == MAX_IPS));
}

const MAX_IPS: usize = crate::batch::MAX_PER_DEVICE;

#[test]
fn devices_saved_as_json_by_earlier_versions_are_moved_on_open() {
    let tmp = TempStore::new("migrate");
    let old = |host: &str, tags: u8, ips: &[&str]| {
        serde_json::json!({
            "hostname": host,
            "tags": tags,
            "first_seen": "2024-05-01T10:00:00.123456789Z",
            "last_seen": "2024-05-02T10:00:00Z",
            "ips": ips,
            "users": ["alice@example.com"],
        })
        .to_string()
    };
    {
        let db = Database::create(tmp.path()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(LEGACY).unwrap();
            table
                .insert(1, old("pc1", 1, &["10.0.0.1"]).as_bytes())
                .unwrap();
            table.insert(2, old("pc2", 3, &[]).as_bytes()).unwrap();
            table.insert(3, b"not json".as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let store = Store::open(&tmp.path()).unwrap();
    let registry = store.load().unwrap();
    assert_eq!(registry.len(), 2);
    let pc1 = registry.get(1).unwrap();
    assert_eq!(pc1.hostname, "pc1");
    assert_eq!(pc1.tags().collect::<Vec<_>>(), ["ZIA"]);
    assert_eq!(pc1.first_seen.to_string(), "2024-05-01T10:00:00.123456789Z");
    assert_eq!(pc1.last_seen.to_string(), "2024-05-02T10:00:00Z");
    assert_eq!(pc1.ips().collect::<Vec<_>>(), ["10.0.0.1"]);
    assert_eq!(pc1.users().collect::<Vec<_>>(), ["alice@example.com"]);
    assert_eq!(registry.get(2).unwrap().tags().count(), 2);
    // The old table is gone: opening again moves nothing and loads the same.
    drop(store);
    let store = Store::open(&tmp.path()).unwrap();
    let txn = store.db().unwrap().begin_read().unwrap();
    assert!(txn
        .list_tables()
        .unwrap()
        .all(|t| t.name() != LEGACY.name()));
    assert_eq!(all(&store.load().unwrap()), all(&registry));
}

#[test]
fn a_value_that_does_not_decode_is_refused() {
    let mut value = Vec::new();
    let mut r = Registry::default();
    r.apply(&DeviceNews {
        id: 9,
        key: "pc",
        tag: Tag::Zia,
        ip: Some("10.0.0.1"),
        user: Some("u"),
        seen: Timestamp::UNIX_EPOCH,
    });
    encode(&r.get(9).unwrap(), &mut value);
    assert!(decode(9, &value).is_some());
    for cut in 0..value.len() {
        assert!(decode(9, &value[..cut]).is_none(), "cut at {cut}");
    }
    let mut other = value.clone();
    other[0] = FORMAT + 1;
    assert!(decode(9, &other).is_none());
    let last = value.len() - 1;
    value[last] = 0xff;
    assert!(decode(9, &value).is_none(), "not UTF-8");
}

/// The store's file on a disk that can fill up: while `full` is set, every write to it, growth
/// and sync fails with ENOSPC, as on a tmpfs without room.
#[derive(Debug)]
pub(in crate::aggregate) struct Filling {
    file: FileBackend,
    full: Arc<AtomicBool>,
}

impl Filling {
    /// Opens the store's file through a `Filling`, and the switch of its disk.
    pub(in crate::aggregate) fn opener() -> (Opener, Arc<AtomicBool>) {
        let full = Arc::new(AtomicBool::new(false));
        let switch = full.clone();
        let open: Opener = Box::new(move |path| {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            Database::builder().create_with_backend(Filling {
                file: FileBackend::new(file)?,
                full: full.clone(),
            })
        });
        (open, switch)
    }

    fn room(&self) -> io::Result<()> {
        match self.full.load(Ordering::SeqCst) {
            true => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            false => Ok(()),
        }
    }
}

impl StorageBackend for Filling {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.room()?;
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.room()?;
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.room()?;
        self.file.write(offset, data)
    }

    fn close(&self) -> io::Result<()> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// Regression: after one I/O error (a full disk) redb refused every later transaction of the
/// same database ("Previous I/O error occurred"), and the store never saved again.
#[test]
fn a_save_after_a_full_disk_opens_the_store_again_and_keeps_what_was_saved() {
    let tmp = TempStore::new("full-disk");
    let (open, full) = Filling::opener();
    let mut store = Store::open_with(&tmp.path(), open).unwrap();
    let mut registry = Registry::default();
    let mut encoded = Encoded::default();
    let mut see_and_save = |registry: &mut Registry, store: &mut Store, host: &str| {
        registry.apply(&DeviceNews {
            id: device_id(host),
            key: host,
            tag: Tag::Zia,
            ip: Some("10.0.0.1"),
            user: None,
            seen: Timestamp::from_second(1).unwrap(),
        });
        encoded.clear();
        encoded.extend(registry.unsaved_devices());
        let saved = store.save(&encoded);
        if saved.is_ok() {
            registry.saved_first(registry.unsaved());
        }
        saved
    };
    see_and_save(&mut registry, &mut store, "before").unwrap();
    full.store(true, Ordering::SeqCst);
    let e = see_and_save(&mut registry, &mut store, "during").unwrap_err();
    assert!(e.to_string().contains("No space left"), "{e}");
    // Still full: the retry, which opens the file again first, fails too, and is not the last.
    let e = see_and_save(&mut registry, &mut store, "still").unwrap_err();
    assert!(e.to_string().contains("No space left"), "{e}");
    full.store(false, Ordering::SeqCst);
    see_and_save(&mut registry, &mut store, "after").unwrap();
    see_and_save(&mut registry, &mut store, "later").unwrap();
    assert_eq!(registry.unsaved(), 0);
    drop(store);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), 5);
    assert_eq!(all(&loaded), all(&registry));
}
