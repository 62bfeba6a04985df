use std::time::{Duration, Instant};

use jiff::Timestamp;
use wire::device::{device_id, Tag};

use super::*;
use crate::aggregate::store::tests::{all, Filling, TempStore};
use crate::batch::DeviceNews;

/// A device seen at second `second`, with `ip`.
fn see(registry: &mut Registry, host: &str, ip: &str, second: i64) {
    registry.apply(&DeviceNews {
        id: device_id(host),
        key: host,
        tag: Tag::Zia,
        ip: Some(ip),
        user: None,
        seen: Timestamp::from_second(second).unwrap(),
    });
}

/// Waits for the thread to give the buffer back, as it does once it has taken a piece in.
fn buffer_back(saver: &Saver) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while saver.back.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the thread never took the devices"
        );
        std::thread::yield_now();
    }
}

/// Waits for the thread to commit everything handed over.
fn committed(saver: &Saver) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while saver.in_flight() > 0 {
        assert!(Instant::now() < deadline, "never committed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Calls `save` at `now` until the registry has handed over everything due then.
fn hand_all(saver: &mut Saver, registry: &mut Registry, now: Instant) {
    while registry.unsaved_before(saver.due) > 0 {
        buffer_back(saver);
        saver.save(registry, &Sink::stdout(), now);
    }
}

#[test]
fn no_device_is_saved_while_the_devices_file_holds_back_events() {
    let tmp = TempStore::new("saver-held");
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    see(&mut registry, "held", "10.0.0.1", 1);
    // The device's event waits in the sink, not yet in the file (a full disk holds it there).
    let path = tmp.path().with_file_name("devices.jsonl");
    let (mut devices, _) = Sink::open(&path, None).unwrap();
    devices.take(b"{\"event\":\"created\"}\n");
    assert!(devices.holds_back_a_file());
    let t0 = Instant::now();
    saver.save(&mut registry, &devices, t0);
    saver.save(&mut registry, &devices, t0 + 2 * HAND_AFTER);
    assert_eq!((registry.unsaved(), saver.in_flight()), (1, 0));
    // Nor at shutdown while it could not be spilled.
    saver.finish(&mut registry, &devices);
    assert_eq!((registry.unsaved(), saver.saved()), (1, 0));
    drop(saver);
    // Written, it is saved.
    devices.flush().unwrap();
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    saver.save(&mut registry, &devices, t0 + 3 * HAND_AFTER);
    saver.finish(&mut registry, &devices);
    assert_eq!((registry.unsaved(), saver.saved()), (0, 1));
}

#[test]
fn devices_go_in_pieces_and_all_of_them_reach_the_store() {
    let tmp = TempStore::new("saver-pieces");
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    let devices = 2 * AT_MOST + 100;
    for i in 0..devices {
        see(&mut registry, &format!("host-{i}"), "10.0.0.1", 1);
    }
    let t0 = Instant::now();
    // Not due yet, however many they are.
    saver.save(&mut registry, &Sink::stdout(), t0);
    assert_eq!(registry.unsaved(), devices);
    saver.save(
        &mut registry,
        &Sink::stdout(),
        t0 + HAND_AFTER - Duration::from_millis(1),
    );
    assert_eq!(registry.unsaved(), devices);
    // As many as a piece holds are handed over at once, no more.
    saver.save(&mut registry, &Sink::stdout(), t0 + HAND_AFTER);
    assert_eq!(registry.unsaved(), devices - AT_MOST);
    assert_eq!(saver.in_flight(), AT_MOST);
    hand_all(&mut saver, &mut registry, t0 + HAND_AFTER);
    assert_eq!(registry.unsaved(), 0);
    committed(&saver);
    assert_eq!(saver.saved(), devices as u64);
    // Changed after its commit, a device is saved again, and counted again.
    see(&mut registry, "host-7", "10.0.0.2", 2);
    see(&mut registry, "late", "10.0.0.3", 3);
    assert_eq!(registry.unsaved(), 2);
    // Not due; finish takes them all the same.
    buffer_back(&saver);
    saver.save(
        &mut registry,
        &Sink::stdout(),
        t0 + HAND_AFTER + Duration::from_millis(10),
    );
    assert_eq!(registry.unsaved(), 2);
    saver.finish(&mut registry, &Sink::stdout());
    assert_eq!(registry.unsaved(), 0);
    assert_eq!(saver.in_flight(), 0);
    assert_eq!(saver.errors(), 0);
    // Every device once, host-7 twice.
    assert_eq!(saver.saved(), devices as u64 + 2);
    drop(saver);

    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), devices + 1);
    assert_eq!(all(&loaded), all(&registry));
    let host7 = loaded.get(device_id("host-7")).unwrap();
    assert_eq!(host7.ips().collect::<Vec<_>>(), ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn a_device_is_handed_over_hand_after_it_changed_and_committed() {
    let tmp = TempStore::new("saver-quiet");
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    let t0 = Instant::now();
    // A device changed while nothing else was unsaved is counted by the next note.
    see(&mut registry, "one", "10.0.0.1", 1);
    saver.save(&mut registry, &Sink::stdout(), t0);
    see(&mut registry, "two", "10.0.0.1", 1);
    saver.save(&mut registry, &Sink::stdout(), t0 + NOTE_EVERY);
    saver.save(
        &mut registry,
        &Sink::stdout(),
        t0 + HAND_AFTER - Duration::from_millis(1),
    );
    assert_eq!(registry.unsaved(), 2);
    // At HAND_AFTER after the first note, the device it counted goes, and only it.
    saver.save(&mut registry, &Sink::stdout(), t0 + HAND_AFTER);
    assert_eq!(registry.unsaved(), 1);
    buffer_back(&saver);
    saver.save(&mut registry, &Sink::stdout(), t0 + NOTE_EVERY + HAND_AFTER);
    assert_eq!(registry.unsaved(), 0);
    // Committed within COMMIT_AFTER of coming, without a shutdown.
    committed(&saver);
    saver.finish(&mut registry, &Sink::stdout());
    drop(saver);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(all(&loaded), all(&registry));
}

#[test]
fn a_device_that_changes_at_every_record_is_saved_about_once_per_hand_after() {
    let tmp = TempStore::new("saver-churn");
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    let t0 = Instant::now();
    let step = Duration::from_millis(10);
    let (mut hands, mut waited) = (0, Duration::ZERO);
    let mut changed = None;
    for i in 0..500u32 {
        let now = t0 + step * i;
        // A new last_seen every step: a change the registry must save.
        see(&mut registry, "busy", "10.0.0.1", i64::from(i) + 1);
        changed.get_or_insert(now);
        buffer_back(&saver);
        saver.save(&mut registry, &Sink::stdout(), now);
        if registry.unsaved() == 0 {
            hands += 1;
            // Due HAND_AFTER after its first unsaved change, late by a note's period at most.
            let first = changed.take().unwrap();
            waited = waited.max(now - first);
            assert!(
                now - first >= HAND_AFTER,
                "handed over after {:?}",
                now - first
            );
        }
    }
    // Five seconds of changes every 10 ms: four saves, not one per change or per 100 ms.
    assert_eq!(hands, 4);
    assert!(waited <= HAND_AFTER + NOTE_EVERY, "waited {waited:?}");
    saver.finish(&mut registry, &Sink::stdout());
    drop(saver);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(all(&loaded), all(&registry));
}

#[test]
fn a_device_twice_in_one_commit_counts_once() {
    let tmp = TempStore::new("saver-twice");
    let mut store = Store::open(&tmp.path()).unwrap();
    let mut registry = Registry::default();
    // As at shutdown, when finish hands over a device changed since the piece that is still
    // gathering for the same commit: it is in the commit twice, and the store holds it once.
    see(&mut registry, "twice", "10.0.0.1", 1);
    see(&mut registry, "once", "10.0.0.1", 1);
    let mut pending = Encoded::default();
    pending.extend(registry.unsaved_devices());
    registry.saved_first(2);
    see(&mut registry, "twice", "10.0.0.2", 2);
    pending.extend(registry.unsaved_devices());
    registry.saved_first(1);
    assert_eq!(pending.len(), 3);
    let progress = Progress::default();
    progress.in_flight.store(3, Ordering::SeqCst);
    let mut failures = 0;
    commit(&mut store, &mut pending, &progress, &mut failures);
    assert_eq!(progress.saved.load(Ordering::Relaxed), 2);
    assert_eq!(progress.in_flight.load(Ordering::SeqCst), 0);
    drop(store);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(all(&loaded), all(&registry));
}

/// Regression: after a full disk the thread retried its commit for good on a database that
/// redb refused to write to until it was opened again, and no device was saved until a
/// restart, which then came back with none.
#[test]
fn a_commit_that_failed_on_a_full_disk_is_saved_once_there_is_room() {
    let tmp = TempStore::new("saver-full");
    let (open, full) = Filling::opener();
    let mut store = Store::open_with(&tmp.path(), open).unwrap();
    let mut registry = Registry::default();
    see(&mut registry, "one", "10.0.0.1", 1);
    see(&mut registry, "two", "10.0.0.2", 1);
    let mut pending = Encoded::default();
    pending.extend(registry.unsaved_devices());
    registry.saved_first(2);
    let progress = Arc::new(Progress::default());
    progress.in_flight.store(2, Ordering::SeqCst);
    full.store(true, Ordering::SeqCst);
    let committing = {
        let progress = progress.clone();
        std::thread::spawn(move || {
            let mut failures = 0;
            commit(&mut store, &mut pending, &progress, &mut failures);
            store
        })
    };
    // Twice: the first failure, and a retry while the disk is still full.
    let deadline = Instant::now() + Duration::from_secs(10);
    while progress.errors.load(Ordering::Relaxed) < 2 {
        assert!(Instant::now() < deadline, "never failed");
        std::thread::sleep(Duration::from_millis(5));
    }
    full.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    while progress.in_flight.load(Ordering::SeqCst) > 0 {
        assert!(
            Instant::now() < deadline,
            "never saved once the disk had room"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let store = committing.join().unwrap();
    assert_eq!(progress.saved.load(Ordering::Relaxed), 2);
    drop(store);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(all(&loaded), all(&registry));
    assert_eq!(loaded.len(), 2);
}

#[test]
fn a_save_notes_how_far_into_the_devices_file_its_devices_hold_every_event() {
    let tmp = TempStore::new("saver-through");
    let (mut devices, _) = Sink::open(&tmp.path().with_file_name("devices.jsonl"), None).unwrap();
    let through = |devices: &Sink| {
        let store = Store::open(&tmp.path()).unwrap();
        let place = store.devices_through().unwrap();
        place.map(|p| (p.dev, p.ino, p.offset)).zip(devices.place())
    };
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    let t0 = Instant::now();
    // A device and its event, noted; then another and its.
    see(&mut registry, "one", "10.0.0.1", 1);
    devices.write(b"one\n").unwrap();
    saver.save(&mut registry, &devices, t0);
    see(&mut registry, "two", "10.0.0.1", 1);
    devices.write(b"two\n").unwrap();
    saver.save(&mut registry, &devices, t0 + NOTE_EVERY);
    devices.flush().unwrap();
    // The first is handed over: every event before the second note's is in what was saved.
    saver.save(&mut registry, &devices, t0 + HAND_AFTER);
    assert_eq!(registry.unsaved(), 1);
    committed(&saver);
    saver.finish(&mut Registry::default(), &devices);
    drop(saver);
    let (noted, now) = through(&devices).expect("a place noted");
    assert_eq!(noted, (now.dev, now.ino, 4));
    // The rest at shutdown: every event.
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    saver.finish(&mut registry, &devices);
    drop(saver);
    let (noted, now) = through(&devices).expect("a place noted");
    assert_eq!(noted, (now.dev, now.ino, 8));
}

/// While a save fails (a full disk), the buffer stays with the thread and nothing is handed
/// over: the notes waiting for a hand-over stay few however long it lasts (they grew by ten a
/// second), and saving goes on once there is room.
#[test]
fn notes_stay_few_while_saves_fail() {
    let tmp = TempStore::new("saver-notes");
    let (open, full) = Filling::opener();
    let mut saver = Saver::start(Store::open_with(&tmp.path(), open).unwrap()).unwrap();
    let mut registry = Registry::default();
    full.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    // Ten minutes of a device a second, each call 100 ms of feed later.
    for step in 0..6_000u32 {
        if step % 10 == 0 {
            see(
                &mut registry,
                &format!("pc{step}"),
                "10.0.0.1",
                i64::from(step),
            );
        }
        saver.save(&mut registry, &Sink::stdout(), t0 + NOTE_EVERY * step);
        assert!(
            saver.covering.len() <= MAX_COVERING,
            "{}",
            saver.covering.len()
        );
    }
    assert!(
        saver.in_flight() > 0,
        "a piece was handed over, and its save fails"
    );
    full.store(false, Ordering::SeqCst);
    committed(&saver);
    hand_all(&mut saver, &mut registry, t0 + NOTE_EVERY * 6_100);
    saver.finish(&mut registry, &Sink::stdout());
    assert_eq!((registry.unsaved(), saver.in_flight()), (0, 0));
    drop(saver);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), 600);
}
