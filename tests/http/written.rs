//! A request's 200 comes once its records are written (its dead letters too): Cloud NSS does not
//! send again what it got a 200 for. A records output that cannot write gets a 503.

use crate::common::http::{array, Client};
use crate::common::{self, zia_line, Collector, Options};
use crate::{start, KEYS};

#[test]
fn a_200_comes_once_the_records_are_in_their_file() {
    // Cloud NSS does not send again what it got a 200 for: the records must be in the file
    // (where a crash of the collector leaves them) before the answer, not only in its memory.
    let (collector, addr) = start("http-written", KEYS);
    let file = collector.data_dir().join("connections.jsonl");
    let mut client = Client::connect(addr);
    for round in 0..20u64 {
        let lines: Vec<String> = (1..=50)
            .map(|i| zia_line(round * 100 + i, "pc-written"))
            .collect();
        let answer = client.post(Some("k1"), &array(&lines));
        assert_eq!(answer.status, 200, "{answer:?}");
        let in_file = common::count_lines(&file);
        assert_eq!(
            in_file as u64,
            (round + 1) * 50,
            "round {round}: answered before written"
        );
    }
    // A body of bad lines only: its dead letters are what the sender will not send again.
    let dead_file = collector.data_dir().join("dead-letter.jsonl");
    let bad: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"sourcetype":"zscalernss-nope","event":{{"x":"{i}"}}}}"#))
        .collect();
    let answer = client.post(Some("k1"), &array(&bad));
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        common::count_lines(&dead_file),
        30,
        "answered before the dead letters were written"
    );
    drop(client);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1000);
}

#[test]
fn records_that_cannot_be_written_get_a_503_and_their_retry_is_no_second_copy() {
    let collector = Collector::start_with(
        "http-unwritable",
        Options {
            config: Some(KEYS.to_owned()),
            args: ["--http", "127.0.0.1:0", "--records", "/dev/full"]
                .map(String::from)
                .to_vec(),
            ..Options::default()
        },
    );
    let addr = collector.listening["http"];
    let lines: Vec<String> = (1..=5).map(|i| zia_line(i, "pc-full")).collect();
    let answer = Client::connect(addr).post(Some("k1"), &array(&lines));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(
        answer.body.contains("cannot write its records"),
        "{answer:?}"
    );
    // The sender retries: the same records, dropped as repeats, and answered 503 again while
    // the first copy is still unwritten.
    let answer = Client::connect(addr).post(Some("k1"), &array(&lines));
    assert_eq!(answer.status, 503, "{answer:?}");
    let outcome = collector.stop();
    assert_eq!(outcome.counter("duplicates"), 5);
    let spilled: usize = std::fs::read_dir(&outcome.data)
        .expect("data dir")
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("spill-records-") && name.ends_with(".jsonl")
        })
        .map(|e| common::count_lines(&e.path()))
        .sum();
    assert_eq!(spilled, 5, "each record once, in the spill");
}
