//! A file a crash left ending in a torn line, repaired as it opens.

use super::*;

#[test]
fn torn_tail_is_cut_and_kept() {
    let dir = temp("torn");
    let path = dir.join("connections.jsonl");
    std::fs::write(&path, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    let repair = repair.expect("repaired");
    assert_eq!(repair.removed, 5);
    sink.write(b"{\"d\":4}\n").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n"
    );
    assert_eq!(
        std::fs::read_to_string(repair.kept_in.as_ref().unwrap()).unwrap(),
        "{\"c\":\n"
    );
    let (_, again) = Sink::open(&path, None).unwrap();
    assert!(again.is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_tail_that_cannot_be_kept_is_cut_all_the_same() {
    // Where `.torn` cannot be written (here a folder is in its way; in the field a full disk),
    // the output still opens: a collector that could not would not start until there was room.
    let dir = temp("torn-unkept");
    let path = dir.join("connections.jsonl");
    std::fs::write(&path, "{\"a\":1}\n{\"c\":").unwrap();
    std::fs::create_dir(dir.join("connections.jsonl.torn")).unwrap();
    let (_, repair) = Sink::open(&path, None).unwrap();
    let repair = repair.expect("repaired");
    assert_eq!(repair.removed, 5);
    let err = repair.kept_in.expect_err("not kept");
    assert!(err.to_string().contains("connections.jsonl.torn"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_with_no_line_at_all_is_emptied() {
    let dir = temp("nolf");
    let path = dir.join("x.jsonl");
    std::fs::write(&path, "partial").unwrap();
    let (_, repair) = Sink::open(&path, None).unwrap();
    assert_eq!(repair.unwrap().removed, 7);
    assert_eq!(std::fs::read(&path).unwrap(), b"");
    std::fs::remove_dir_all(dir).unwrap();
}
