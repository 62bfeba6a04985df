use super::*;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::time::Duration;

mod stream;
mod torn;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ztel-sink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn rotates_at_a_line_boundary() {
    let dir = temp("rotate");
    let path = dir.join("connections.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    for i in 0..30 {
        sink.write(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        sink.flush().unwrap();
    }
    let mut lines = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        lines += text.lines().count();
        files += 1;
    }
    assert_eq!(lines, 30);
    assert!(files >= 3, "{files} files");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn keeps_only_the_newest_rotated_files() {
    let dir = temp("keep");
    let path = dir.join("dead-letter.jsonl");
    // Not a rotated file of this sink: never removed.
    std::fs::write(dir.join("dead-letter-spill.jsonl"), "x\n").unwrap();
    let (sink, _) = Sink::open(&path, Some(100)).unwrap();
    let mut sink = sink.keep_rotated(2);
    for i in 0..100 {
        sink.write(format!("{{\"n\":{i:04}}}\n").as_bytes())
            .unwrap();
        sink.flush().unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"dead-letter-spill.jsonl".to_string()));
    assert!(names.contains(&"dead-letter.jsonl".to_string()));
    // The newest lines survive, the oldest are gone.
    let text: String = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect();
    assert!(text.contains("{\"n\":0099}\n"));
    assert!(!text.contains("{\"n\":0000}\n"));
    let kept = text.lines().count() - 1;
    assert!(kept < 100 && kept > 10, "{kept} lines kept");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A file named without an extension rotates to `<name>-<time>.jsonl`, and those are its
/// rotated files: they were not (found by a tester: the devices file's merge after a crash
/// found no rotated file of a `devices = "devs"`, and announced devices again).
#[test]
fn a_file_without_extension_finds_its_rotated_files() {
    let dir = temp("noext");
    let path = dir.join("devs");
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    for i in 0..20 {
        sink.write(format!("{{\"n\":{i:04}}}\n").as_bytes())
            .unwrap();
        sink.flush().unwrap();
    }
    let rotated = super::rotated::rotated_files(&path);
    assert!(rotated.len() >= 2, "{rotated:?}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "devs")
        .collect();
    names.sort();
    let found: Vec<String> = rotated
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(found, names);
    // `devs-20261205T013139.665824090Z.jsonl`: the same length whatever the time.
    assert!(names
        .iter()
        .all(|n| n.len() == "devs-20261205T013139.665824090Z.jsonl".len()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_full_disk_keeps_the_backlog_and_spills_it() {
    let dir = temp("full");
    let (mut sink, _) = Sink::open(Path::new("/dev/full"), None).unwrap();
    sink.write(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
    assert!(sink.flush().is_err());
    assert_eq!(sink.backlog(), 16);
    assert!(
        sink.flush().is_err(),
        "retries fail the same way, nothing is lost"
    );
    let spill = dir.join("spill.jsonl");
    assert_eq!(sink.spill(&spill).unwrap(), 16);
    assert_eq!(
        std::fs::read_to_string(&spill).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n"
    );
    assert_eq!(sink.backlog(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_line_spilled_in_part_is_not_cut_from_the_file_but_rotated_away_at_the_next_start() {
    // Cut at the spill, the file shrank under a shipper following it (which then read it all
    // again, or joined what it held to later bytes).
    let dir = temp("spill-torn");
    let path = dir.join("records.jsonl");
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    sink.write(&b"{\"a\":1}\n".repeat(100)).unwrap();
    sink.flush().unwrap();
    // A short write (a disk that filled up): part of a line is in the file, all of it pending.
    // A real short write needs a full disk; its outcome is set up here.
    let line = b"{\"b\":2}\n";
    sink.take(line);
    let Target::File { file, size, .. } = &mut sink.target else {
        panic!("a file sink");
    };
    file.as_ref().write_all(&line[..3]).unwrap();
    *size += 3;
    sink.torn = 3;
    let spill = dir.join("spill.jsonl");
    assert_eq!(sink.spill(&spill).unwrap(), line.len());
    assert_eq!(std::fs::read(&spill).unwrap(), line);
    drop(sink);
    let written = [b"{\"a\":1}\n".repeat(100), line[..3].to_vec()].concat();
    assert_eq!(std::fs::read(&path).unwrap(), written, "the file as it was");
    // The next start: the file rotated away as it is, the spill read back into a new one.
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    let Some(Repair {
        mended: Mended::Rotated(to),
        ..
    }) = repair
    else {
        panic!("not rotated away");
    };
    assert_eq!(std::fs::read(&to).unwrap(), written);
    sink.read_back(&spill).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), line);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_directory_at_the_path_is_never_rotated_and_the_reopen_waits_for_it_to_go() {
    let dir = temp("obstacle");
    let path = dir.join("records.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    let lines = |from: u32, to: u32| -> Vec<u8> {
        (from..to)
            .flat_map(|n| format!("{{\"n\":{n:03}}}\n").into_bytes())
            .collect()
    };
    sink.write(&lines(0, 5)).unwrap();
    sink.flush().unwrap();
    // The state a rotation whose reopen failed leaves: the file renamed and still written to,
    // and in its place something that cannot be opened for appending.
    let aside = dir.join("records-20260101T000000Z.jsonl");
    std::fs::rename(&path, &aside).unwrap();
    std::fs::create_dir(&path).unwrap();
    sink.write(&lines(5, 10)).unwrap();
    let e = sink
        .flush()
        .expect_err("a directory is no file to append to");
    assert_eq!(e.kind(), io::ErrorKind::IsADirectory, "{e}");
    // The directory stays where it is, and the lines went on to the renamed file.
    assert!(path.is_dir());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(std::fs::read(&aside).unwrap(), lines(0, 10));
    assert_eq!(sink.rotations(), 0);

    std::fs::remove_dir(&path).unwrap();
    sink.write(&lines(10, 12)).unwrap();
    sink.flush().unwrap();
    sink.write(&lines(12, 14)).unwrap();
    sink.flush().unwrap();
    assert_eq!(std::fs::read(&aside).unwrap(), lines(0, 12));
    assert_eq!(std::fs::read(&path).unwrap(), lines(12, 14));
    assert_eq!(
        sink.rotations(),
        0,
        "the file renamed by another was not rotated"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Regression: the reopen after a rotation opened whatever was at the path, a FIFO too, without
/// `O_NONBLOCK` and as a file: writes that block when nobody reads, and the FIFO renamed at the
/// next rotation. It is refused like the directory above, and the reopen waits for it to go.
#[test]
fn a_fifo_at_the_path_is_not_taken_for_the_records_file() {
    let dir = temp("fifo-in-the-way");
    let path = dir.join("records.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    sink.write(&[b'x'; 59]).unwrap();
    sink.write(b"\n").unwrap();
    sink.flush().unwrap();
    // The state a rotation whose reopen failed leaves, and a FIFO put at the path since.
    let aside = dir.join("records-20260101T000000Z.jsonl");
    std::fs::rename(&path, &aside).unwrap();
    let fifo = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path that `fifo` owns.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    sink.write(&[b'y'; 59]).unwrap();
    sink.write(b"\n").unwrap();
    let e = sink.flush().expect_err("a FIFO is no records file");
    assert!(e.to_string().contains("other than a file"), "{e}");
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_fifo());
    std::fs::remove_file(&path).unwrap();
    sink.write(b"last\n").unwrap();
    sink.flush().unwrap();
    assert!(path.is_file());
    assert_eq!(sink.rotations(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Regression: after logrotate's `copytruncate` the sink still counted the bytes written before
/// the cut, and the next flush past the limit renamed the file just emptied.
#[test]
fn a_file_cut_by_copytruncate_is_not_rotated_before_it_is_full() {
    let dir = temp("copytruncate-not-full");
    let path = dir.join("records.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    let line = |b: u8| {
        let mut l = vec![b; 59];
        l.push(b'\n');
        l
    };
    sink.write(&line(b'a')).unwrap();
    sink.flush().unwrap();
    // copytruncate: the file is copied aside, then cut to nothing in place.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    sink.write(&line(b'b')).unwrap();
    sink.flush().unwrap();
    assert_eq!(sink.rotations(), 0, "60 bytes in the file, of 100");
    assert_eq!(std::fs::read(&path).unwrap(), line(b'b'));
    // Full for real: rotated.
    sink.write(&line(b'c')).unwrap();
    sink.flush().unwrap();
    assert_eq!(sink.rotations(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Regression (black-box tester): a file moved away (logrotate without `copytruncate`, with or
/// without its `create`) took the lines until it was full, up to `rotate_bytes` (1 GiB by
/// default). A new file is started at the path within a second, nothing lost or doubled, and
/// the move is no rotation of ours.
#[test]
fn a_file_moved_away_is_followed_by_a_new_one_at_its_path() {
    for create in [false, true] {
        let dir = temp(&format!("moved-{create}"));
        let path = dir.join("connections.jsonl");
        let moved = dir.join("connections.jsonl.1");
        let (mut sink, _) = Sink::open(&path, Some(1 << 30)).unwrap();
        let mut n = 0;
        let mut line = |sink: &mut Sink| {
            n += 1;
            sink.write(format!("{{\"n\":{n}}}\n").as_bytes()).unwrap();
            sink.flush().unwrap();
        };
        for _ in 0..3 {
            line(&mut sink);
        }
        std::fs::rename(&path, &moved).unwrap();
        if create {
            std::fs::write(&path, b"").unwrap();
        }
        // A line every 10 ms until one lands in the file at the path (3 s at most).
        let deadline = Instant::now() + Duration::from_secs(3);
        while std::fs::metadata(&path).map_or(0, |m| m.len()) == 0 {
            assert!(Instant::now() < deadline, "still writing the moved file");
            line(&mut sink);
            std::thread::sleep(Duration::from_millis(10));
        }
        line(&mut sink);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let all = read(&moved) + &read(&path);
        let want: String = (1..=n).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        assert_eq!(all, want, "every line once, in order");
        assert!(read(&path).lines().count() >= 2);
        assert_eq!(sink.rotations, 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// Writes a line and flushes, `n` times, and returns the lines written.
fn lines_flushed(sink: &mut Sink, from: usize, n: usize) -> String {
    let mut all = String::new();
    for i in from..from + n {
        let line = format!("{{\"n\":{i}}}\n");
        sink.write(line.as_bytes()).unwrap();
        sink.flush().expect("a flush");
        all.push_str(&line);
    }
    all
}

/// Regression (review): where no new file can be opened at the path of one moved away (its
/// directory moved aside, as a data_dir can be), every look counted a failing output and said
/// it, once a second, where the lines had gone on quietly to the moved file: they still do,
/// said once, and a new file is started once the path can take one.
#[test]
fn a_file_whose_directory_moved_away_goes_on_until_the_path_takes_a_new_one() {
    let dir = temp("moved-dir");
    let path = dir.join("data").join("connections.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(1 << 30)).unwrap();
    let mut want = lines_flushed(&mut sink, 0, 3);
    std::fs::rename(dir.join("data"), dir.join("aside")).unwrap();
    // More than a second of flushes: each look finds nothing at the path, and no flush fails.
    let until = Instant::now() + LOOK_EVERY + Duration::from_millis(200);
    let mut n = 3;
    while Instant::now() < until {
        want += &lines_flushed(&mut sink, n, 1);
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let moved = dir.join("aside").join("connections.jsonl");
    assert_eq!(std::fs::read_to_string(&moved).unwrap(), want);
    // The path can take a file again: the next look starts one.
    std::fs::create_dir(dir.join("data")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no new file at the path");
        want += &lines_flushed(&mut sink, n, 1);
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    want += &lines_flushed(&mut sink, n, 1);
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&moved) + &read(&path), want);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The descriptors of this process open on a file named `name` that was removed.
fn held_removed(name: &str) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| {
            let target = target.to_string_lossy();
            target.contains(name) && target.ends_with(" (deleted)")
        })
        .count()
}

/// Regression (review): a file removed by someone else stayed open in the page-cache releaser
/// until the new file had taken 8 MiB, its disk space held all that time.
#[test]
fn a_removed_file_is_let_go_once_followed() {
    let dir = temp("removed-held");
    let path = dir.join("held-then-removed.jsonl");
    let (mut sink, _) = Sink::open(&path, Some(1 << 30)).unwrap();
    // Past a step of the releaser, so that its thread holds the file too.
    let line = format!("{}\n", "x".repeat(1023));
    for _ in 0..9 * 1024 {
        sink.write(line.as_bytes()).unwrap();
    }
    sink.flush().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(held_removed("held-then-removed.jsonl") >= 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while held_removed("held-then-removed.jsonl") > 0 {
        assert!(Instant::now() < deadline, "the removed file is still held");
        sink.write(b"{}\n").unwrap();
        sink.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Regression (output files audit): rotated names were the wall clock's alone. With the clock
/// set back they sorted before the last run's, so "keep the newest" removed each new one as it
/// was made and shippers reading in name order skipped them; with a clock that stood still every
/// rotation took the same name, and the rename replaced the file before it, lines and all.
#[test]
fn rotated_names_follow_the_newest_there_whatever_the_clock() {
    let dir = temp("clock");
    let path = dir.join("dead-letter.jsonl");
    // A rotated file from a clock a century ahead: the last run's, before the clock was set back.
    let ahead = dir.join("dead-letter-21261201T000000.000000000Z.jsonl");
    std::fs::write(&ahead, "{\"n\":\"ahead\"}\n").unwrap();
    let (sink, _) = Sink::open(&path, Some(100)).unwrap();
    let mut sink = sink.keep_rotated(4);
    for i in 0..40 {
        sink.write(format!("{{\"n\":{i:04}}}\n").as_bytes())
            .unwrap();
        sink.flush().unwrap();
    }
    let rotated = rotated::rotated_files(&path);
    assert_eq!(rotated.len(), 4, "{rotated:?}");
    // The newest four are this run's, in the order written, after the one ahead (removed).
    assert!(!ahead.exists());
    let first: Vec<String> = rotated
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for pair in first.windows(2) {
        assert!(pair[0] < pair[1], "{first:?}");
    }
    assert!(rotated[0]
        .to_str()
        .unwrap()
        .contains("21261201T000000.0000000"));
    let all: String = first.concat() + &std::fs::read_to_string(&path).unwrap();
    assert!(all.contains("{\"n\":0039}\n"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// From a review: a rotated name at the end of jiff's time made the next rotation panic (an
/// abort, at every start while the file stayed over its size).
#[test]
fn a_rotated_name_at_the_end_of_time_is_no_panic() {
    let dir = temp("end");
    let path = dir.join("records.jsonl");
    let last = dir.join("records-99991230T220000.999999999Z.jsonl");
    std::fs::write(&last, "{}\n").unwrap();
    let (mut sink, _) = Sink::open(&path, Some(10)).unwrap();
    for _ in 0..3 {
        sink.write(b"{\"n\":1234567}\n").unwrap();
        sink.flush().unwrap();
    }
    let rotated = rotated::rotated_files(&path);
    assert_eq!(rotated.len(), 4, "{rotated:?}");
    assert_eq!(std::fs::read_to_string(&last).unwrap(), "{}\n");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Review of 11d9395: `records = "dead-letter-2.jsonl"` rotates to
/// `dead-letter-2-<time>.jsonl`, which the dead-letter file's list took for its own (any middle
/// starting with a digit and ending in `Z`), and its keep-four removal would have taken them.
#[test]
fn another_outputs_rotated_files_are_not_this_ones() {
    let dir = temp("family");
    let path = dir.join("dead-letter.jsonl");
    let other = dir.join("dead-letter-2-20261205T013139.665824090Z.jsonl");
    let own = dir.join("dead-letter-20261205T013139.665824090Z.jsonl");
    for p in [&other, &own] {
        std::fs::write(p, "{}\n").unwrap();
    }
    assert_eq!(rotated::rotated_files(&path), vec![own]);
    std::fs::remove_dir_all(dir).unwrap();
}
