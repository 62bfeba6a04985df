use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::aggregate::attribution::{Attributed, Sighting};

const GRACE: Duration = Duration::from_secs(60);
const RETAIN: Duration = Duration::from_secs(600);

/// A folder of its own, removed afterwards.
struct Folder(PathBuf);

impl Folder {
    /// A folder of its own: tests run in parallel, and two round trips of one capacity shared
    /// one file (and its temporary), so one test loaded what the other was writing.
    fn new(name: &str) -> Folder {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("ztel-attr-{name}-{pid}-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("attribution.table")
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn key(port: u16) -> FlowKey {
    FlowKey {
        connector_ip: if port % 5 == 0 {
            "2001:db8::5".parse().unwrap()
        } else {
            "10.1.0.5".parse().unwrap()
        },
        connector_port: port,
        server_ip: "10.2.0.9".parse().unwrap(),
        server_port: 443,
    }
}

fn table(capacity: usize) -> Attribution {
    Attribution::new(capacity, GRACE).retaining(RETAIN)
}

fn sighting(port: u16, user: &str, id: Option<&str>, start: i64, end: Option<i64>) -> Sighting {
    Sighting {
        key: key(port),
        user: user.into(),
        device: (port % 3 != 0).then(|| format!("pc-{user}")),
        device_id: (port % 4 != 0).then_some(u64::from(port) << 40 | 0xab),
        session_id: (port % 7 != 0).then(|| format!("sess-{user}")),
        connection_id: id.map(Into::into),
        start: ts(start),
        end: end.map(ts),
        seen: ts(end.unwrap_or(start)),
    }
}

/// Every kind of entry: closed, open, superseded, reused ports, a connection id on two keys
/// (and one taken over by an older entry), strings shared and not, IPv6, nanoseconds.
fn feed() -> Vec<Sighting> {
    let mut feed = vec![
        sighting(1, "closed", Some("c1"), 1000, Some(1060)),
        sighting(2, "open", Some("c2"), 1000, None),
        sighting(3, "first", Some("c3"), 1000, None),
        sighting(3, "next", Some("c4"), 1100, Some(1110)),
        sighting(4, "ended", Some("c5"), 100, Some(200)),
        sighting(5, "six", None, 1000, None),
        sighting(6, "reused", Some("c6"), 1000, Some(1010)),
        sighting(6, "reused", Some("c7"), 1020, Some(1030)),
        sighting(7, "moved", Some("c8"), 1000, None),
        sighting(8, "moved", Some("c8"), 1005, None),
        sighting(9, "late-id", None, 1000, None),
        sighting(10, "owner", Some("c9"), 1001, None),
        // The entry on port 9 takes c9 over: the index names it, not the newer one.
        sighting(9, "late-id", Some("c9"), 1000, None),
    ];
    let mut nanos = sighting(11, "nanos", Some("c10"), 1000, None);
    nanos.start = Timestamp::new(1000, 123_456_789).unwrap();
    feed.push(nanos);
    // Seen after the next one on its key started: not superseded.
    let mut active = sighting(2, "open", Some("c2"), 1000, None);
    active.seen = ts(1500);
    feed.push(active);
    feed
}

/// Every answer of `t` over the keys and times of the feed.
fn answers(t: &Attribution) -> Vec<Option<Attributed>> {
    let times = (0..=2000)
        .step_by(5)
        .chain([86_400 + 1000, 86_400 + 1001, 86_400 + 1500]);
    let times: Vec<i64> = times.collect();
    (1..=12)
        .flat_map(|port| times.iter().map(move |&at| (port, at)))
        .map(|(port, at)| t.lookup(&key(port), ts(at)))
        .collect()
}

/// Saves `t` and loads it into a fresh table of `capacity`.
fn round_trip(
    t: &Attribution,
    feed_now: Option<Timestamp>,
    capacity: usize,
) -> (Attribution, Loaded) {
    let folder = Folder::new(&format!("trip-{capacity}"));
    t.save(&folder.file(), feed_now).unwrap();
    let mut loaded = table(capacity);
    let found = loaded.load(&folder.file()).unwrap();
    (loaded, found)
}

#[test]
fn a_loaded_table_answers_and_goes_on_as_the_saved_one() {
    let mut saved = table(100);
    for s in feed() {
        saved.record(s);
    }
    saved.expire(ts(1200));
    let (mut loaded, found) = round_trip(&saved, Some(ts(1500)), 100);
    assert_eq!(found.entries, saved.len());
    assert_eq!(found.feed_now, Some(ts(1500)));
    assert_eq!(loaded.len(), saved.len());
    assert_eq!(loaded.store.strings.len(), saved.store.strings.len());
    let before = answers(&saved);
    assert!(before.iter().filter(|a| a.is_some()).count() > 500);
    assert_eq!(answers(&loaded), before);

    // What comes next lands on the same entries in both: updates by connection id (c9 names
    // the older entry), by key and start, supersessions, and eviction once full.
    let next = [
        sighting(9, "late-id", Some("c9"), 1000, Some(1600)),
        sighting(5, "six", None, 1000, Some(1550)),
        sighting(2, "other", Some("c11"), 1700, None),
        sighting(8, "moved", Some("c8"), 1005, Some(1650)),
        sighting(12, "new", Some("c12"), 1800, None),
    ];
    for s in next {
        saved.record(s.clone());
        loaded.record(s);
    }
    assert_eq!(answers(&loaded), answers(&saved));
    for now in [1700, 2000, 3000, 90_000] {
        saved.expire(ts(now));
        loaded.expire(ts(now));
        assert_eq!(loaded.len(), saved.len(), "at {now}");
        assert_eq!(answers(&loaded), answers(&saved), "at {now}");
    }
    let mut full = (saved, loaded);
    full.0.capacity = full.0.len();
    full.1.capacity = full.1.len();
    for t in [&mut full.0, &mut full.1] {
        t.record(sighting(13, "evicting", Some("c13"), 90_000, None));
    }
    assert_eq!(answers(&full.1), answers(&full.0));
}

#[test]
fn a_load_drops_what_expired_by_the_saved_feed_time() {
    let mut saved = table(100);
    for s in feed() {
        saved.record(s);
    }
    // port 4 ended at 200: with grace and retention, kept until 860 of feed time.
    assert!(saved.lookup(&key(4), ts(150)).is_some());
    let (loaded, _) = round_trip(&saved, Some(ts(861)), 100);
    assert_eq!(loaded.lookup(&key(4), ts(150)), None);
    assert_eq!(loaded.len(), saved.len() - 1);
    // Without a feed time (none seen), nothing is dropped.
    let (loaded, found) = round_trip(&saved, None, 100);
    assert_eq!((found.feed_now, loaded.len()), (None, saved.len()));
}

#[test]
fn a_smaller_table_keeps_the_windows_that_end_last() {
    let mut saved = table(100);
    for s in feed() {
        saved.record(s);
    }
    let (loaded, found) = round_trip(&saved, Some(ts(1500)), 3);
    assert_eq!((found.entries, loaded.len()), (3, 3));
    // Open ones last 24 hours after their last sighting: those seen last stay.
    for port in [2, 8, 10] {
        assert!(loaded.lookup(&key(port), ts(1500)).is_some(), "port {port}");
    }
    // The pool holds the strings of the entries kept, and each as often as they name it: once
    // they are gone, so are their strings.
    assert_eq!(loaded.store.strings.len(), named(&loaded).len());
    let mut loaded = loaded;
    loaded.expire(ts(10_000_000));
    assert_eq!((loaded.len(), loaded.store.strings.len()), (0, 0));
}

/// The distinct users, device names and sessions that `t`'s entries name.
fn named(t: &Attribution) -> std::collections::BTreeSet<&str> {
    let strings = &t.store.strings;
    t.store
        .entries()
        .flat_map(|(_, e)| [Some(e.user), e.device, e.session_id])
        .flatten()
        .map(|s| strings.get(s))
        .collect()
}

#[test]
fn an_empty_table_round_trips() {
    let (loaded, found) = round_trip(&table(10), None, 10);
    assert_eq!(found.entries, 0);
    assert!(loaded.is_empty());
}

#[test]
fn a_torn_or_foreign_file_loads_nothing() {
    let folder = Folder::new("torn");
    let mut saved = table(100);
    for s in feed() {
        saved.record(s);
    }
    saved.save(&folder.file(), None).unwrap();
    let bytes = std::fs::read(folder.file()).unwrap();
    // Cut anywhere, or one bit changed anywhere: nothing loads, and the table is empty.
    for cut in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        std::fs::write(folder.file(), &bytes[..cut]).unwrap();
        let mut t = table(100);
        let e = t.load(&folder.file()).unwrap_err();
        assert!(matches!(e, LoadError::Torn(_)), "cut at {cut}: {e}");
        assert!(t.is_empty() && t.store.strings.len() == 0, "cut at {cut}");
    }
    for at in (8..bytes.len()).step_by(5) {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        std::fs::write(folder.file(), &flipped).unwrap();
        let mut t = table(100);
        assert!(t.load(&folder.file()).is_err(), "flipped at {at}");
        assert!(t.is_empty(), "flipped at {at}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(folder.file(), &longer).unwrap();
    assert!(matches!(
        table(100).load(&folder.file()),
        Err(LoadError::Torn(_))
    ));
    let mut other = bytes.clone();
    other[7] = b'2';
    std::fs::write(folder.file(), &other).unwrap();
    let e = table(100).load(&folder.file()).unwrap_err();
    assert!(matches!(e, LoadError::Version(_)), "{e}");
    std::fs::remove_file(folder.file()).unwrap();
    let e = table(100).load(&folder.file()).unwrap_err();
    assert!(
        matches!(&e, LoadError::Io(e) if e.kind() == io::ErrorKind::NotFound),
        "{e}"
    );
    // The file as it was loads again.
    std::fs::write(folder.file(), &bytes).unwrap();
    let mut t = table(100);
    t.load(&folder.file()).unwrap();
    assert_eq!(answers(&t), answers(&saved));
}

/// From a review: a file whose count of flows stood at its end (its checksum is no secret)
/// wrapped it at the next flow, the new entries before the old, and the next save's load
/// refused the table.
#[test]
fn a_sequence_at_its_end_loads_nothing() {
    let folder = Folder::new("sequence");
    let mut saved = table(10);
    saved.record(sighting(1, "a", Some("c1"), 1000, None));
    saved.next_seq = u64::MAX;
    saved.save(&folder.file(), None).unwrap();
    let mut t = table(10);
    let e = t.load(&folder.file()).unwrap_err();
    assert!(matches!(e, LoadError::Torn(_)), "{e}");
    assert!(t.is_empty());
}

#[test]
fn a_save_replaces_the_file_whole_and_leaves_no_temporary() {
    let folder = Folder::new("replace");
    let mut t = table(100);
    t.record(sighting(1, "a", Some("c1"), 1000, None));
    t.save(&folder.file(), None).unwrap();
    t.record(sighting(2, "b", Some("c2"), 1000, None));
    assert_eq!(t.save(&folder.file(), None).unwrap(), 2);
    let names: Vec<_> = std::fs::read_dir(&folder.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["attribution.table"]);
    let mut loaded = table(100);
    assert_eq!(loaded.load(&folder.file()).unwrap().entries, 2);
}
