use super::*;
use crate::sink::{Mended, Repair};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::MetadataExt;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ztel-readback-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lines of about 200 bytes, numbered from `from`: more than one piece of `WRITE_AT` in all.
fn lines(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(180)))
        .collect()
}

#[test]
fn a_spill_is_appended_whole_then_removed() {
    let dir = temp("whole");
    let (path, spill) = (dir.join("out.jsonl"), dir.join("spill-records-1.jsonl"));
    std::fs::write(&path, lines(0, 2)).unwrap();
    let spilled = lines(2, 3000);
    assert!(spilled.len() > 2 * WRITE_AT);
    std::fs::write(&spill, &spilled).unwrap();
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&spill).unwrap();
    assert_eq!((read.lines, read.bytes), (3000, spilled.len() as u64));
    assert!(read.torn.is_none());
    assert!(!spill.exists());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 3002));
    // The lines are the file's, as an earlier run's are: what this run takes starts after them.
    assert_eq!((sink.taken(), sink.backlog()), (0, 0));
    sink.write(lines(3002, 1).as_bytes()).unwrap();
    sink.flush().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 3003));
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(sink.place().map(|p| p.offset), Some(len));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_last_line_is_kept_apart_not_read() {
    let dir = temp("torn");
    let (path, spill) = (dir.join("out.jsonl"), dir.join("spill-devices-1.jsonl"));
    std::fs::write(&spill, format!("{}{{\"n\":", lines(0, 2))).unwrap();
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&spill).unwrap();
    assert_eq!(read.lines, 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 2));
    let torn = read.torn.expect("a fragment").expect("kept");
    assert_eq!(std::fs::read_to_string(torn).unwrap(), "{\"n\":\n");
    assert!(!spill.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_last_line_that_cannot_be_kept_does_not_hold_the_read_back() {
    // A folder in `.torn`'s way, as a full disk would be.
    let dir = temp("torn-unkept");
    let (path, spill) = (dir.join("out.jsonl"), dir.join("spill-records-1.jsonl"));
    std::fs::write(&spill, format!("{}{{\"n\":", lines(0, 2))).unwrap();
    std::fs::create_dir(dir.join("spill-records-1.jsonl.torn")).unwrap();
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&spill).unwrap();
    assert_eq!(read.lines, 2);
    let err = read.torn.expect("a fragment").expect_err("not kept");
    assert!(err.to_string().contains(".torn"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 2));
    assert!(spills(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spill_into_an_output_that_cannot_take_it_stays() {
    let dir = temp("full");
    let spill = dir.join("spill-records-1.jsonl");
    std::fs::write(&spill, lines(0, 10)).unwrap();
    // Not even tried: a device or a pipe cannot be cut back, and a pipe takes part of a line.
    let (mut sink, _) = Sink::open(Path::new("/dev/full"), None).unwrap();
    let err = sink.read_back(&spill).unwrap_err();
    assert!(err.to_string().contains("no regular file"), "{err}");
    assert_eq!(std::fs::read_to_string(&spill).unwrap(), lines(0, 10));
    // Nothing of it is left to be written later: it would be twice, once from the spill.
    assert_eq!((sink.backlog(), sink.taken()), (0, 0));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A file output that fills part way through (here: a file size limit, which a child process
/// sets on itself, as a full disk would stop the write) is cut back to what it held before.
#[test]
fn a_read_back_that_fails_part_way_takes_back_what_it_wrote() {
    const CHILD: &str = "ZTEL_READBACK_CHILD";
    let name = "sink::readback::tests::a_read_back_that_fails_part_way_takes_back_what_it_wrote";
    let Ok(dir) = std::env::var(CHILD) else {
        let dir = temp("partway");
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new(exe)
            .args(["--exact", name, "--nocapture", "--test-threads", "1"])
            .env(CHILD, &dir)
            .status()
            .unwrap();
        assert!(status.success(), "the child's test failed");
        std::fs::remove_dir_all(dir).unwrap();
        return;
    };
    let dir = PathBuf::from(dir);
    let (path, spill) = (dir.join("out.jsonl"), dir.join("spill-records-1.jsonl"));
    let before = lines(0, 5);
    std::fs::write(&path, &before).unwrap();
    std::fs::write(&spill, lines(5, 5000)).unwrap();
    let size_limit = |bytes: u64| {
        let rlimit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: a plain system call with a value that lives through it, in a process of its
        // own.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) }, 0);
    };
    // SAFETY: as above; past the limit a write fails (EFBIG) instead of killing the process.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    size_limit((before.len() + 2 * WRITE_AT + 1000) as u64);
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let err = sink.read_back(&spill).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EFBIG), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!((sink.backlog(), sink.taken()), (0, 0));
    let len = before.len() as u64;
    assert_eq!(sink.place().map(|p| p.offset), Some(len));
    // The spill stays, whole, its name saying where its lines go; this run writes on.
    let marked = spills(&dir);
    assert_eq!(marked.len(), 1);
    assert_eq!(std::fs::read_to_string(&marked[0]).unwrap(), lines(5, 5000));
    sink.write(lines(9000, 1).as_bytes()).unwrap();
    sink.flush().unwrap();
    drop(sink);
    // The next start, with room: the whole spill after what that run wrote.
    size_limit(libc::RLIM_INFINITY);
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&marked[0]).unwrap();
    assert_eq!((read.lines, read.found), (5000, 0));
    let want = [before, lines(9000, 1), lines(5, 5000)].concat();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
    assert!(spills(&dir).is_empty());
}

/// The spills in `dir`, by their names now.
fn spills(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.to_string_lossy().ends_with(".jsonl")
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("spill-")
        })
        .collect();
    found.sort();
    found
}

/// A spill named as a read-back names it before it starts, for the file at `path` as it is.
fn marked_spill(dir: &Path, path: &Path, text: &str) -> PathBuf {
    let meta = std::fs::metadata(path).unwrap();
    let spill = dir.join(format!(
        "spill-records-7{AT}{}-{}-{}.jsonl",
        meta.dev(),
        meta.ino(),
        meta.len()
    ));
    std::fs::write(&spill, text).unwrap();
    spill
}

#[test]
fn a_read_back_a_crash_cut_short_is_finished_not_repeated() {
    let dir = temp("resume");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, lines(0, 3)).unwrap();
    let spill = marked_spill(&dir, &path, &lines(3, 3000));
    // The crash came after 1,000 lines and half of the next: the start rotates the file away
    // as it is, torn, and the read-back goes on in a new one from the line it tore.
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(lines(3, 1000).as_bytes()).unwrap();
    file.write_all(b"{\"n\":10").unwrap();
    drop(file);
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    let Some(Repair {
        mended: Mended::Rotated(to),
        ..
    }) = repair
    else {
        panic!("not rotated away");
    };
    let read = sink.read_back(&spill).unwrap();
    assert_eq!(read.lines, 2000);
    assert_eq!(read.found, lines(3, 1000).len() as u64);
    let rotated = std::fs::read_to_string(&to).unwrap();
    assert_eq!(rotated, lines(0, 1003) + "{\"n\":10");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(1003, 2000));
    assert!(spills(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_read_back_torn_twice_goes_on_from_where_the_new_file_ends() {
    // After the rotation above, the read-back into the new file is itself cut short by a
    // crash: its spill, marked for the new file with how much went to the rotated one, goes on
    // from where the new file ends.
    let dir = temp("resume-again");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, "").unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    let before = lines(3, 1000).len();
    let spill = dir.join(format!(
        "spill-records-7{AT}{}-{}-0-{before}.jsonl",
        meta.dev(),
        meta.ino()
    ));
    std::fs::write(&spill, lines(3, 3000)).unwrap();
    std::fs::write(&path, lines(1003, 500)).unwrap();
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    assert!(repair.is_none());
    let read = sink.read_back(&spill).unwrap();
    assert_eq!(
        (read.lines, read.found),
        (1500, lines(3, 1500).len() as u64)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(1003, 2000));
    assert!(spills(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spill_whose_lines_are_all_in_the_file_is_only_removed() {
    // A crash between the read-back's sync and the spill's removal.
    let dir = temp("done");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, lines(0, 3)).unwrap();
    let spill = marked_spill(&dir, &path, &lines(3, 10));
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(lines(3, 10).as_bytes()).unwrap();
    drop(file);
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&spill).unwrap();
    assert_eq!((read.lines, read.found), (0, lines(3, 10).len() as u64));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 13));
    assert!(spills(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_marked_spill_of_another_file_is_read_whole() {
    // The output was replaced since (rotated, moved): its lines cannot be looked for there.
    let dir = temp("other");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, lines(3, 2)).unwrap();
    let spill = marked_spill(&dir, &path, &lines(3, 2));
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, lines(0, 1)).unwrap();
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let read = sink.read_back(&spill).unwrap();
    assert_eq!((read.lines, read.found), (2, 0));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        [lines(0, 1), lines(3, 2)].concat()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spill_name_says_where_its_lines_go() {
    assert_eq!(
        unmarked("spill-records-17.jsonl"),
        ("spill-records-17.jsonl".into(), None)
    );
    let place = Place {
        dev: 2049,
        ino: 77,
        offset: 12345,
    };
    let name = "spill-dead-letters-17.at-2049-77-12345.jsonl";
    let mark = Mark { place, from: 0 };
    assert_eq!(
        unmarked(name),
        ("spill-dead-letters-17.jsonl".into(), Some(mark))
    );
    // With how much of it went to a file rotated away since.
    let name = "spill-dead-letters-17.at-2049-77-12345-678.jsonl";
    let mark = Mark { place, from: 678 };
    assert_eq!(
        unmarked(name),
        ("spill-dead-letters-17.jsonl".into(), Some(mark))
    );
    // Anything else is a name of its own.
    for name in [
        "spill-records-17.at-1-2.jsonl",
        "spill-records-17.at-1-2-x.jsonl",
        "spill-records-17.at-1-2-3-x.jsonl",
        "spill-records-17.at-1-2-3-4-5.jsonl",
    ] {
        assert_eq!(unmarked(name), (name.into(), None), "{name}");
    }
}

#[test]
fn what_a_mark_says_went_before_is_not_written_again_when_the_rest_is_not_found() {
    // A read-back torn, resumed in the new file, then failing (a disk still full) and cut back;
    // records written to the file since. Its mark no longer matches the file's end, and the
    // whole spill was read back: its first lines, already in the rotated file, a second time.
    let dir = temp("mark-from");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, "{\"other\":1}\n{\"other\":2}\n").unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    let before = lines(3, 2);
    std::fs::write(
        dir.join("out-20261201T000000.000000000Z.jsonl"),
        before.clone() + "{\"n\":5",
    )
    .unwrap();
    let spill = dir.join(format!(
        "spill-records-7{AT}{}-{}-0-{}.jsonl",
        meta.dev(),
        meta.ino(),
        before.len()
    ));
    std::fs::write(&spill, lines(3, 4)).unwrap();
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    assert!(repair.is_none());
    let read = sink.read_back(&spill).unwrap();
    assert_eq!(read.lines, 2);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"other\":1}\n{\"other\":2}\n".to_owned() + &lines(5, 2)
    );
    assert!(spills(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}
