//! `--source FILE`: a file's lines replayed as they are, looped to the count asked, spread over
//! every connection; for HTTP each line must be a JSON object.

use crate::support::{loadgen_with, over_tcp_with, Scratch};

#[test]
fn file_is_replayed_line_by_line_and_looped() {
    let dir = Scratch::new("file");
    let file = dir.write("feed.log", "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}");
    let (_, received) = over_tcp_with(1, "--count 7", &["--source", &file]);
    assert_eq!(
        String::from_utf8(received[0].clone()).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"a\":1}\n"
    );
    dir.remove();
}

#[test]
fn a_short_file_still_feeds_every_connection() {
    let dir = Scratch::new("short");
    let file = dir.write("one.log", "only line\n");
    let (_, received) = over_tcp_with(3, "--count 9 --connections 3", &["--source", &file]);
    for bytes in received {
        assert_eq!(bytes, b"only line\nonly line\nonly line\n");
    }
    dir.remove();
}

#[test]
fn a_file_line_that_is_not_a_json_object_is_refused_for_http() {
    let dir = Scratch::new("http-file");
    let file = dir.write(
        "feed.log",
        "{\"a\":1}\n<134>Nov 22 10:00:00 nss {\"a\":2}\n",
    );
    let run = loadgen_with(
        "--target 127.0.0.1:1 --proto http --http-key k --count 2",
        &["--source", &file],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.assert_stderr_has("record 2 of the source is not a JSON object");
    dir.remove();
}

#[test]
fn the_result_line_says_the_file_decides_the_header() {
    let dir = Scratch::new("file-header");
    let file = dir.write("feed.log", "{\"a\":1}\n");
    let (run, _) = over_tcp_with(1, "--count 2", &["--source", &file]);
    // What the file holds is sent as it is: no template of loadgen's puts a header on it.
    assert_eq!(run.result("header"), "file");
    assert_eq!(run.result("format"), "file");
    dir.remove();
}
