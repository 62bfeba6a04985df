use super::*;

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
    assert_eq!(read.torn, None);
    assert!(!spill.exists());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(0, 3002));
    // The sink counts the lines as its own: what it writes next lands after them.
    assert_eq!(sink.taken(), spilled.len() as u64);
    assert_eq!(sink.backlog(), 0);
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
    let torn = read.torn.expect("the fragment is kept");
    assert_eq!(std::fs::read_to_string(torn).unwrap(), "{\"n\":\n");
    assert!(!spill.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spill_into_an_output_that_cannot_take_it_stays() {
    let dir = temp("full");
    let spill = dir.join("spill-records-1.jsonl");
    std::fs::write(&spill, lines(0, 10)).unwrap();
    let (mut sink, _) = Sink::open(Path::new("/dev/full"), None).unwrap();
    assert!(sink.read_back(&spill).is_err());
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
    let limit = (before.len() + 2 * WRITE_AT + 1000) as u64;
    // SAFETY: plain system calls with values that live through them, in a process of its own.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let rlimit = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit), 0);
    }
    let (mut sink, _) = Sink::open(&path, None).unwrap();
    let err = sink.read_back(&spill).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EFBIG), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&spill).unwrap(), lines(5, 5000));
    assert_eq!((sink.backlog(), sink.taken()), (0, 0));
    let len = before.len() as u64;
    assert_eq!(sink.place().map(|p| p.offset), Some(len));
}
