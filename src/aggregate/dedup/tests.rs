use std::io::Write;

use super::*;
use crate::sink::Sink;

#[test]
fn repeats_inside_the_window_are_caught_and_older_ones_forgotten() {
    let mut w = Window::new(3);
    assert!(w.first(1, 0));
    assert!(!w.first(1, 0));
    assert!(w.first(2, 0));
    assert!(w.first(3, 0));
    assert!(w.first(4, 0));
    assert!(w.first(1, 0), "1 left the window");
    assert!(!w.first(4, 0));
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
        assert_eq!(w.first(id, 0), model, "offer {i}");
        assert_eq!(w.len(), queue.len());
    }
    assert_eq!(w.ring.places.len(), 100);
    assert!(repeats > 10_000 && repeats < 19_000, "{repeats} repeats");
}

#[test]
fn the_window_has_room_for_all_it_holds_from_the_start() {
    // Over the 2^16 places the table used to start with, so that growth would show.
    let capacity = 100_000;
    let mut w = Window::new(capacity);
    let ring = w.ring.ids.as_ptr();
    assert!(w.ring.ids.capacity() >= capacity);
    // At most half full.
    let table = w.ring.places.heap_bytes();
    assert_eq!(table, 262_144 * 8);
    for i in 0..2 * capacity as u64 + 7 {
        // Distinct halves: `id` folds to one hash, which would make this quadratic.
        let identity =
            u128::from(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())) << 64 | u128::from(i);
        assert!(w.first(identity, 0));
    }
    assert_eq!(w.len(), capacity);
    // The ring did not move while the window filled and turned over.
    assert_eq!(w.ring.ids.as_ptr(), ring);
    assert_eq!(w.ring.places.len(), capacity);
    assert_eq!(w.ring.places.heap_bytes(), table, "the table never grew");
}

/// A fresh folder for one test's files.
fn folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ztel-dedup-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn id(n: u128) -> u128 {
    n << 64 | n
}

#[test]
fn the_ring_file_has_its_blocks_from_the_start() {
    use std::os::unix::fs::MetadataExt;
    // Sparse, a save on a full disk fails: the blocks are taken when the window opens.
    let path = folder("reserved").join("dedup.window");
    let _w = Window::open(&path, 4096, None).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), HEADER + SLOT * 4096);
    assert!(
        meta.blocks() * 512 >= meta.len(),
        "{} blocks",
        meta.blocks()
    );
}

#[test]
fn the_window_comes_back_from_its_file_oldest_first() {
    let dir = folder("back");
    let path = dir.join("dedup.window");
    let mut w = Window::open(&path, 4, None).unwrap();
    for n in 1..=6u128 {
        assert!(w.first(id(n), 100 * n as u64));
    }
    w.persist(600).unwrap();
    // Its record is not written yet: as after a crash before the next flush.
    assert!(w.first(99, 700));
    w.persist(650).unwrap();
    drop(w);

    let mut w = Window::open(&path, 4, None).unwrap();
    assert_eq!(w.len(), 4, "the newest four of six");
    for n in 3..=6u128 {
        assert!(!w.first(id(n), 0), "{n} is remembered");
    }
    assert!(w.first(99, 10), "never persisted");
    // The ring goes on where it was: 99 pushes out 3, the oldest.
    assert!(w.first(id(1), 100), "1 and 2 were pushed out long ago");
    w.persist(100).unwrap();
    drop(w);
    let mut w = Window::open(&path, 4, None).unwrap();
    assert!(w.first(id(3), 0), "3 was the oldest, and went");
    // A file of another size is started over.
    drop(w);
    let w = Window::open(&path, 8, None).unwrap();
    assert!(w.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_window_of_several_pieces_comes_back_oldest_first() {
    // Identities whose halves differ, as payload hashes do (`id` folds to one table hash).
    let hashed = |n: u64| u128::from(xxhash_rust::xxh3::xxh3_64(&n.to_le_bytes())) << 64 | 1;
    let dir = folder("pieces");
    let path = dir.join("dedup.window");
    // Read back 4,096 slots at a time: two and a half pieces, the ring's start in the third.
    let capacity = 10_000;
    let mut w = Window::open(&path, capacity, None).unwrap();
    for n in 1..=25_000 {
        assert!(w.first(hashed(n), n));
    }
    w.persist(25_000).unwrap();
    drop(w);

    let mut w = Window::open(&path, capacity, None).unwrap();
    assert_eq!(w.len(), capacity);
    assert!(w.first(hashed(15_000), 0), "pushed out before the restart");
    // That pushed out the oldest, 15,001; the next oldest is still there.
    assert!(w.first(hashed(15_001), 0), "15,001 was the oldest");
    assert!(!w.first(hashed(15_003), 0));
    for n in 15_004..=25_000 {
        assert!(!w.first(hashed(n), 0), "{n} is remembered");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Records `first..=last`, 10-byte lines, taken by `sink` with their identities offered, then
/// listed ahead of the write.
fn take(w: &mut Window, sink: &mut Sink, first: u128, last: u128) {
    for n in first..=last {
        let line = format!("record{n:03}\n");
        assert!(w.first(id(n), sink.taken() + line.len() as u64));
        sink.take(line.as_bytes());
    }
    w.ahead(sink.done(), u64::MAX, sink.place()).unwrap();
}

#[test]
fn records_written_whose_save_failed_stay_listed_until_saved() {
    // A full disk: records 1 to 3 reach their file, but the ring's save of them fails. The
    // next write's list still carries them, so a crash during it does not forget them.
    let dir = folder("unsaved");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 3);
    sink.flush().unwrap();
    // (no `persist`: it failed)
    take(&mut w, &mut sink, 4, 5);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&records)
        .unwrap();
    file.write_all(b"record004\nrec").unwrap();
    drop((w, sink, file));

    // The torn file is rotated away: the list is read against its whole lines.
    let (sink, repair) = Sink::open(&records, None).unwrap();
    assert!(repair.is_some());
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=4 {
        assert!(
            !w.first(id(n), 0),
            "{n} is in the file: its replay is dropped"
        );
    }
    assert!(w.first(id(5), 0), "5 never reached the file");
    drop(sink);
    // The list has its room on disk from the start.
    use std::os::unix::fs::MetadataExt;
    let pending = std::fs::metadata(dir.join("dedup.pending")).unwrap();
    assert!(pending.len() >= AHEAD_RESERVED && pending.blocks() * 512 >= AHEAD_RESERVED);
}

#[test]
fn a_start_cut_short_after_rotating_the_torn_file_away_keeps_what_it_held() {
    // The rotation at start comes before the window reads its list: a start that stopped in
    // between (a crash, a window it could not open) left the next one a list of a file no longer
    // at the path, and the list kept nothing (a replay wrote those records twice).
    let dir = folder("torn-twice");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 4);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&records)
        .unwrap();
    file.write_all(b"record001\nrecord002\nrec").unwrap();
    drop((w, sink, file));
    // The start that rotated the file away stopped there.
    let (_, repair) = Sink::open(&records, None).unwrap();
    assert!(matches!(
        repair.map(|r| r.mended),
        Some(crate::sink::Mended::Rotated(_))
    ));
    let (_, again) = Sink::open(&records, None).unwrap();
    assert!(again.is_none());
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=2 {
        assert!(!w.first(id(n), 0), "{n} is in the rotated file");
    }
    for n in 3..=4 {
        assert!(w.first(id(n), 0), "{n} never reached a file");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_crash_in_the_middle_of_a_records_write_keeps_only_the_records_in_the_file() {
    let dir = folder("torn");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 3);
    sink.flush().unwrap();
    w.persist(sink.done()).unwrap();
    take(&mut w, &mut sink, 4, 8);
    // The write of 4 to 8 stops in the middle of 6: the process is killed.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&records)
        .unwrap();
    file.write_all(b"record004\nrecord005\nrec").unwrap();
    drop((w, sink, file));

    // The next start rotates the torn file away, then opens the window against the whole
    // lines it held.
    let (mut sink, repair) = Sink::open(&records, None).unwrap();
    let repair = repair.expect("mended");
    assert_eq!(repair.fragment, 3);
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=5 {
        assert!(
            !w.first(id(n), 0),
            "{n} is in the file: its replay is dropped"
        );
    }
    for n in 6..=8 {
        assert!(
            w.first(id(n), 0),
            "{n} never reached the file: its replay is written"
        );
    }
    // The list was used once: a file that grows since does not bring back what it left out.
    sink.take(b"record009\nrecord010\nrecord011\n");
    sink.flush().unwrap();
    drop(w);
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    assert!(w.first(id(6), 0));
    assert!(!w.first(id(5), 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn records_another_output_does_not_keep_safe_yet_are_not_remembered_across_a_crash() {
    // With [output.nats], records 4 to 8 are in the file but only in the NATS thread's memory
    // (safe up to record 3's end): a crash loses them to the stream, and the feed's replay
    // must bring them to NATS again, not be dropped as repeats.
    let dir = folder("safe");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    let mut ends = Vec::new();
    for n in 1..=8u128 {
        let line = format!("record{n:03}\n");
        let end = sink.taken() + line.len() as u64;
        assert!(w.first(id(n), end));
        sink.take(line.as_bytes());
        ends.push(end);
    }
    let safe = ends[2];
    w.ahead(sink.done(), safe, sink.place()).unwrap();
    sink.flush().unwrap();
    w.persist(sink.done().min(safe)).unwrap();
    drop((w, sink));

    let (_sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=3 {
        assert!(!w.first(id(n), 0), "{n} was safe: its replay is dropped");
    }
    for n in 4..=8 {
        assert!(
            w.first(id(n), 0),
            "{n} was not safe: its replay goes out again"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn identities_that_wait_for_another_output_never_outnumber_the_window() {
    let dir = folder("waits");
    let mut w = Window::open(&dir.join("dedup.window"), 10, None).unwrap();
    for n in 1..=1000u128 {
        assert!(w.first(id(n), n as u64));
        // Nothing is ever safe.
        w.persist(0).unwrap();
    }
    let unsaved = w.journal.as_ref().map(|j| j.unsaved.len());
    assert_eq!(unsaved, Some(10));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_crash_before_a_rotation_keeps_what_the_write_carried() {
    let dir = folder("rotated");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    // Rotates after 20 bytes, once the window is saved.
    let (mut sink, _) = Sink::open(&records, Some(20)).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 3);
    sink.write_out().unwrap();
    // Killed before the identities were saved.
    drop((w, sink));
    let (mut sink, _) = Sink::open(&records, Some(20)).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=3 {
        assert!(!w.first(id(n), 0), "{n} was written");
    }
    // Saved, then rotated: the list is of the old file, and the ring holds what it listed.
    take(&mut w, &mut sink, 4, 6);
    sink.write_out().unwrap();
    w.persist(sink.done()).unwrap();
    sink.rotate_if_due().unwrap();
    assert_eq!(sink.rotations(), 1);
    drop((w, sink));
    let (sink, _) = Sink::open(&records, Some(20)).unwrap();
    assert_eq!(sink.place().map(|p| p.offset), Some(0));
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    for n in 1..=6 {
        assert!(!w.first(id(n), 0), "{n} was written before the rotation");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_list_of_another_file_keeps_nothing() {
    let dir = folder("moved");
    let window = dir.join("dedup.window");
    // Records listed and held back (a failing disk), then a crash, and the next start writes
    // to another file, long enough that the listed ends would all be inside it.
    let records = dir.join("records.jsonl");
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 3);
    drop((w, sink));
    let elsewhere = dir.join("elsewhere.jsonl");
    std::fs::write(&elsewhere, "other line\n".repeat(10)).unwrap();
    let (sink, _) = Sink::open(&elsewhere, None).unwrap();
    assert!(sink.place().is_some_and(|p| p.offset > 30));
    let mut w = Window::open(&window, 100, Some(&elsewhere)).unwrap();
    for n in 1..=3 {
        assert!(w.first(id(n), 0), "{n} was never written: its replay is");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_list_cut_short_over_an_older_one_keeps_nothing() {
    let dir = folder("short");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    let pending = dir.join("dedup.pending");
    // Run 1: 400 records listed, the first 100 written, then a crash.
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 1000, Some(&records)).unwrap();
    take(&mut w, &mut sink, 1, 400);
    let text: String = (1..=100).map(|n| format!("record{n:03}\n")).collect();
    std::fs::write(&records, text).unwrap();
    drop((w, sink));
    // Run 2: 200 records written and saved; then 300 listed, and the list's write cut short
    // after its first page: what is past it is of the lists before, run 1's among them.
    let (mut sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 1000, Some(&records)).unwrap();
    take(&mut w, &mut sink, 401, 600);
    sink.write_out().unwrap();
    w.persist(sink.done()).unwrap();
    let before = std::fs::read(&pending).unwrap();
    take(&mut w, &mut sink, 601, 900);
    let mut after = std::fs::read(&pending).unwrap();
    after[4096..before.len()].copy_from_slice(&before[4096..]);
    std::fs::write(&pending, &after).unwrap();
    drop((w, sink));

    let (_sink, _) = Sink::open(&records, None).unwrap();
    let mut w = Window::open(&window, 1000, Some(&records)).unwrap();
    for n in (1..=100).chain(401..=600) {
        assert!(!w.first(id(n), 0), "{n} is in the file");
    }
    for n in (101..=400).chain(601..=900) {
        assert!(
            w.first(id(n), 0),
            "{n} never reached the file: its replay is written"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// From a review: a sparse `dedup.pending` of any apparent size, its header counting that many
/// entries, had the start allocate all of them (an abort at every start).
#[test]
fn a_list_longer_than_any_written_is_not_read() {
    let dir = folder("sparse");
    let (window, records) = (dir.join("dedup.window"), dir.join("records.jsonl"));
    drop(Window::open(&window, 100, Some(&records)).unwrap());
    let pending = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("dedup.pending"))
        .unwrap();
    pending.set_len(1 << 40).unwrap();
    let mut header = b"ZTELDP02".to_vec();
    header.extend_from_slice(&(1u64 << 36).to_le_bytes());
    std::os::unix::fs::FileExt::write_all_at(&pending, &header, 0).unwrap();
    drop(pending);
    let mut w = Window::open(&window, 100, Some(&records)).unwrap();
    assert!(w.first(id(1), 0));
    std::fs::remove_dir_all(&dir).unwrap();
}
