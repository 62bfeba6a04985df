//! A rotation whose reopen fails: the full file is renamed, and opening a new one at the
//! configured path fails, here for want of a file descriptor (a real EMFILE, which the file
//! system gives whatever the user, root included). A binary of its own: the test lowers the
//! process's limit of open files, which would fail any test running beside it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use ztel::sink::Sink;

/// The process's limit of open files, lowered while it lives, and back as it was on drop (a
/// failing assertion included).
struct Lowered(libc::rlimit);

impl Lowered {
    /// Lowers the limit to a few descriptors above those open now.
    fn new() -> Lowered {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) }, 0);
        let highest = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max()
            .unwrap();
        let new = libc::rlimit {
            rlim_cur: highest + 8,
            rlim_max: old.rlim_max,
        };
        // SAFETY: setrlimit reads the struct it is given.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) }, 0);
        Lowered(old)
    }
}

impl Drop for Lowered {
    fn drop(&mut self) {
        // SAFETY: setrlimit reads the struct it is given.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.0) };
    }
}

/// Opens `/dev/null` until no descriptor is left, and keeps them: those below the lowered limit
/// that are free, however many (a parent can leave a high descriptor open, and holes below it).
fn every_descriptor() -> Vec<File> {
    let mut held = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return held,
            Err(e) => panic!("{e}"),
        }
        assert!(held.len() < 100_000, "the limit was not lowered");
    }
}

fn line(n: u32) -> Vec<u8> {
    format!("{{\"n\":{n:03}}}\n").into_bytes()
}

fn write(sink: &mut Sink, lines: std::ops::Range<u32>) {
    for n in lines {
        sink.take(&line(n));
    }
}

/// The files in `dir`, sorted: the rotated ones (`records-<UTC time>.jsonl`) before
/// `records.jsonl`, oldest first.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_failed_reopen_after_a_rotation_is_retried_at_the_next_flush_and_nothing_is_lost() {
    let dir = std::env::temp_dir().join(format!("ztel-rotation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("records.jsonl");
    // Lines of 12 bytes: rotated at the flush that takes the file to 100 bytes or more.
    let (mut sink, _) = Sink::open(&path, Some(100)).unwrap();
    write(&mut sink, 0..5);
    sink.flush().unwrap();

    let lowered = Lowered::new();
    let held = every_descriptor();
    write(&mut sink, 5..10);
    let failed: io::Result<()> = sink.flush();
    // The full file was renamed; no new one could be opened.
    let e = failed
        .expect_err("no descriptor for the new file")
        .to_string();
    assert!(
        e.starts_with("cannot open it again after renaming it to "),
        "{e}"
    );
    assert!(e.ends_with("(os error 24)"), "{e}");
    assert!(!path.exists());
    // Meanwhile the lines go on to the rotated file, and each flush tries the reopen again.
    write(&mut sink, 10..12);
    let again = sink.flush().expect_err("still no descriptor").to_string();
    assert!(
        again.starts_with("cannot open it again after a rotation "),
        "{again}"
    );
    assert!(again.ends_with("(os error 24)"), "{again}");
    assert_eq!(sink.backlog(), 0);

    drop(held);
    drop(lowered);
    write(&mut sink, 12..14);
    sink.flush().expect("the reopen once a descriptor is free");
    assert!(path.is_file());
    // One rotation, counted when the file was renamed; the renamed file is not rotated again.
    assert_eq!(sink.rotations(), 1);
    write(&mut sink, 14..16);
    sink.flush().unwrap();

    // Every line, once and in order: the rotated file up to the reopen, then the new one.
    let files = files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[1], path);
    let all: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(all, (0..16).flat_map(line).collect::<Vec<u8>>());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        (14..16).flat_map(line).collect::<Vec<u8>>()
    );
    std::fs::remove_dir_all(dir).unwrap();
}
