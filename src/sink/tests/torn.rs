//! A file a crash left ending in a torn line, mended as it opens.

use super::*;
use crate::sink::torn::mend_tail_to;

/// The files in `dir`, by name, with what each holds.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_torn_file_is_rotated_away_as_it_is_and_a_new_one_started() {
    // Cut, the file shrank under a shipper following it: `tail -F` read it all again, and a
    // reader by offset joined its held fragment to the next bytes written.
    let dir = temp("torn");
    let path = dir.join("connections.jsonl");
    let torn = "{\"a\":1}\n{\"b\":2}\n{\"c\":";
    std::fs::write(&path, torn).unwrap();
    let before = std::fs::metadata(&path).unwrap();
    let (mut sink, repair) = Sink::open(&path, None).unwrap();
    let repair = repair.expect("mended");
    assert_eq!(repair.fragment, 5);
    // Where its whole lines end, found by its inode under its new name.
    let whole = whole_lines_of(&path, before.dev(), before.ino());
    assert_eq!(whole, Some(16));
    let Mended::Rotated(to) = &repair.mended else {
        panic!("not rotated: {:?}", repair.mended);
    };
    assert_eq!(std::fs::metadata(to).unwrap().ino(), before.ino());
    sink.write(b"{\"d\":4}\n").unwrap();
    sink.flush().unwrap();
    let rotated = to.file_name().unwrap().to_string_lossy().into_owned();
    assert!(rotated.starts_with("connections-"), "{rotated}");
    assert_eq!(
        files(&dir),
        [
            (rotated, torn.to_owned()),
            ("connections.jsonl".into(), "{\"d\":4}\n".into()),
        ]
    );
    let (_, again) = Sink::open(&path, None).unwrap();
    assert!(again.is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_file_that_cannot_be_rotated_is_cut_and_its_fragment_kept() {
    // Where the rename fails (here its folder is missing; in the field, a folder ztel may write
    // files in but not rename them), the file is cut back to its last whole line as before.
    let dir = temp("torn-cut");
    let path = dir.join("connections.jsonl");
    std::fs::write(&path, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
    let file = open_for_appending(&path).unwrap();
    let nowhere = |_: &Path| dir.join("missing").join("connections-1.jsonl");
    let (_, repair) = mend_tail_to(&path, file, nowhere).unwrap();
    let repair = repair.expect("mended");
    let Mended::Cut { rename, kept_in } = &repair.mended else {
        panic!("not cut: {:?}", repair.mended);
    };
    assert_eq!(rename.kind(), io::ErrorKind::NotFound);
    let kept_in = kept_in.as_ref().unwrap();
    assert_eq!(std::fs::read_to_string(kept_in).unwrap(), "{\"c\":\n");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_tail_that_can_be_neither_rotated_nor_kept_is_cut_all_the_same() {
    // Where `.torn` cannot be written either (here a folder is in its way; in the field a full
    // disk), the output still opens: a collector that could not would not start until there
    // was room.
    let dir = temp("torn-unkept");
    let path = dir.join("connections.jsonl");
    std::fs::write(&path, "{\"a\":1}\n{\"c\":").unwrap();
    std::fs::create_dir(dir.join("connections.jsonl.torn")).unwrap();
    let file = open_for_appending(&path).unwrap();
    let nowhere = |_: &Path| dir.join("missing").join("connections-1.jsonl");
    let (_, repair) = mend_tail_to(&path, file, nowhere).unwrap();
    let repair = repair.expect("mended");
    assert_eq!(repair.fragment, 5);
    let Mended::Cut { kept_in, .. } = repair.mended else {
        panic!("not cut");
    };
    let err = kept_in.expect_err("not kept");
    assert!(err.to_string().contains("connections.jsonl.torn"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_with_no_line_at_all_is_rotated_away_too() {
    let dir = temp("nolf");
    let path = dir.join("x.jsonl");
    std::fs::write(&path, "partial").unwrap();
    let (_, repair) = Sink::open(&path, None).unwrap();
    let repair = repair.expect("mended");
    assert_eq!(repair.fragment, 7);
    assert!(matches!(repair.mended, Mended::Rotated(_)));
    assert_eq!(std::fs::read(&path).unwrap(), b"");
    assert_eq!(files(&dir).len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_torn_file_rotated_away_at_start_counts_among_the_rotated_files_kept() {
    // With four rotated dead-letter files there, a torn one made five until the next rotation
    // by size, and each crash one more.
    let dir = temp("torn-keep");
    let path = dir.join("dead-letter.jsonl");
    for second in 1..=4 {
        let name = format!("dead-letter-20260101T00000{second}.000000000Z.jsonl");
        std::fs::write(dir.join(name), "{}\n").unwrap();
    }
    std::fs::write(&path, "{}\n{").unwrap();
    let (sink, repair) = Sink::open(&path, Some(1 << 20)).unwrap();
    assert!(repair.is_some());
    let _sink = sink.keep_rotated(4);
    let rotated = super::rotated::rotated_files(&path);
    assert_eq!(rotated.len(), 4, "{rotated:?}");
    let oldest = rotated[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(oldest, "dead-letter-20260101T000002.000000000Z.jsonl");
    std::fs::remove_dir_all(dir).unwrap();
}
