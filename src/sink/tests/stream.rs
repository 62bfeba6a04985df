//! Pipes: a FIFO output, written without blocking and never rotated, and the wait at shutdown
//! for a pipe's reader.

use super::*;

/// A FIFO `records.pipe` in `dir`.
fn fifo(dir: &Path) -> PathBuf {
    let path = dir.join("records.pipe");
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path it is given.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    path
}

#[test]
fn a_fifo_is_written_and_never_rotated() {
    use std::os::unix::fs::FileTypeExt;
    // A FIFO rather than /dev/null: were this to fail, it would rename the machine's
    // /dev/null and put a plain file in its place (what happened before the fix).
    let dir = temp("fifo");
    let path = fifo(&dir);
    let (mut sink, repair) = Sink::open(&path, Some(100)).unwrap();
    assert!(repair.is_none());
    assert_eq!(sink.place(), None, "no offsets to list ahead of a write");
    // Opened here, where the sink's end already is: it does not wait for a writer.
    let mut pipe = File::open(&path).unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).unwrap();
        text
    });
    for i in 0..30 {
        sink.write(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        sink.flush().unwrap();
    }
    assert_eq!(sink.rotations(), 0);
    drop(sink);
    assert_eq!(reader.join().unwrap().lines().count(), 30);
    let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
    assert!(kind.is_fifo(), "still the FIFO");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no rotated file"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_full_fifo_is_a_backlog_not_a_blocked_write() {
    let dir = temp("full-fifo");
    let path = fifo(&dir);
    // Nobody reads: the pipe fills. On a thread, so that a blocking write fails the test
    // rather than hanging it.
    let (done, finished) = std::sync::mpsc::channel();
    let spill = dir.join("spill.jsonl");
    let on = {
        let (path, spill) = (path.clone(), spill.clone());
        std::thread::spawn(move || {
            let (mut sink, _) = Sink::open(&path, Some(1 << 20)).unwrap();
            let line = format!("{}\n", "x".repeat(999));
            for _ in 0..1024 {
                sink.write(line.as_bytes()).unwrap();
            }
            sink.flush().unwrap();
            let backlog = sink.backlog();
            let spilled = sink.spill(&spill).unwrap();
            done.send((backlog, spilled)).unwrap();
        })
    };
    let (backlog, spilled) = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("a write to a full FIFO blocked");
    on.join().unwrap();
    // What the pipe could not take is spilled, whole lines.
    assert!(backlog > 0 && backlog < 1024 * 1000, "backlog {backlog}");
    assert!(
        spilled >= backlog && spilled % 1000 == 0,
        "spilled {spilled}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Regression (review of the non-blocking stdout pipe): at shutdown one flush filled the pipe
/// and the rest, a line in part among it, was spilled though the reader was alive and reading
/// (every restart of `ztel serve --records - | reader` tore a line). The drain waits for a
/// reader that keeps taking, and not for one that stopped.
#[test]
fn a_pipes_live_reader_is_waited_for_at_shutdown_and_a_stopped_one_is_not() {
    let dir = temp("drain-fifo");
    let path = fifo(&dir);
    let (mut sink, _) = Sink::open(&path, Some(1 << 20)).unwrap();
    let pipe = File::open(&path).unwrap();
    let line = format!("{}\n", "x".repeat(999));
    for _ in 0..2048 {
        sink.write(line.as_bytes()).unwrap();
    }
    sink.flush().unwrap();
    assert!(sink.backlog() > 0, "the pipe took everything at once");
    // A slow reader: it starts a moment after the drain does, then reads to the end.
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut all = Vec::new();
        let mut pipe = pipe;
        pipe.read_to_end(&mut all).unwrap();
        all
    });
    sink.drain_stream(Duration::from_secs(1), Duration::from_secs(10));
    assert_eq!(sink.backlog(), 0);
    drop(sink);
    let all = reader.join().unwrap();
    assert_eq!(all.len(), 2048 * 1000);
    assert!(all.ends_with(b"\n"));

    // Nobody reads: the drain gives up after `quiet`, the rest left to spill.
    let (mut sink, _) = Sink::open(&path, Some(1 << 20)).unwrap();
    let _held = File::open(&path).unwrap();
    for _ in 0..2048 {
        sink.write(line.as_bytes()).unwrap();
    }
    let started = Instant::now();
    sink.drain_stream(Duration::from_millis(300), Duration::from_secs(10));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(sink.backlog() > 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_files_a_list_may_be_of_are_looked_for_without_opening_a_fifo() {
    // Opening a FIFO to read waits for a writer: the duplicate window's search for the file its
    // list was of would have held the start for ever on a records path that is one.
    let dir = temp("fifo-whole");
    let path = fifo(&dir);
    let (done, said) = std::sync::mpsc::channel();
    let looked = path.clone();
    std::thread::spawn(move || {
        let _ = done.send(whole_lines_of(&looked, 1, 2));
    });
    let found = said.recv_timeout(Duration::from_secs(10));
    assert_eq!(found, Ok(None), "the search waited on the FIFO");
    std::fs::remove_dir_all(dir).unwrap();
}
