// Each test binary uses a different part of this harness.
#![allow(dead_code)]
//! The harness of the wire tests: lines through a [`Decoder`], as a shard's pipeline runs them,
//! into records and dead letters; the corpus against its golden files.
//!
//! The corpus (`tests/corpus`) and the golden files (`tests/golden`) are the project's, at the
//! root of the repository.

mod shared;

use std::path::Path;

use jiff::Timestamp;
use serde_json::Value;
use wire::decode::Decoder;
use wire::event::{Facts, Reason};
use wire::time::parse_zone;

// Not every test binary uses them.
#[allow(unused_imports)]
pub use shared::*;

/// The project's sample corpus.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus");
/// The records of the corpus, checked by hand: one `.jsonl` file per `.log` file of the corpus.
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden");

/// What lines became.
pub struct Run {
    /// The records, parsed.
    pub records: Vec<Value>,
    /// The records as written: one JSON line each.
    pub text: String,
    /// The lines that did not become records: why, and the line. A line whose record left out
    /// a contested field is here too (`RepeatedKey`), as a shard keeps it.
    pub dead: Vec<(Reason, Vec<u8>)>,
    /// What the collector would do with each record besides writing it.
    pub facts: Vec<Facts<'static>>,
}

/// Runs lines (syslog header included) through one decoder and one writer, with `zone` the
/// zone of feed times that carry none.
pub fn run(zone: &str, lines: &[&[u8]]) -> Run {
    let zone = parse_zone(zone).expect("a valid zone");
    let mut decoder = Decoder::new(zone.clone());
    let received: Timestamp = RECEIVED.parse().unwrap();
    let mut out = Vec::new();
    let mut dead = Vec::new();
    let mut facts = Vec::new();
    // The devices the decoder noted ahead of each record (a shard's cache prefetches them).
    let mut noted = Vec::new();
    for line in lines {
        let before = out.len();
        noted.clear();
        let note = &mut |id| noted.push(id);
        match decoder.decode_noting(line, received, &zone, &mut out, note) {
            Ok(decoded) => {
                assert_eq!(out[before..].iter().filter(|&&b| b == b'\n').count(), 1);
                let device: Vec<u64> = decoded.facts.device.iter().map(|d| d.id).collect();
                assert_eq!(noted, device, "the device noted is the record's");
                if decoded.contested {
                    dead.push((Reason::RepeatedKey, line.to_vec()));
                }
                facts.push(owned(decoded.facts));
            }
            Err(reason) => {
                assert_eq!(out.len(), before, "a refused line writes nothing");
                dead.push((reason, line.to_vec()));
            }
        }
    }
    let text = String::from_utf8(out).expect("records are UTF-8");
    let records = text
        .lines()
        .map(|l| {
            assert_schema(l);
            serde_json::from_str(l).expect("a record is valid JSON")
        })
        .collect();
    Run {
        records,
        text,
        dead,
        facts,
    }
}

/// Dead letters as text: why, and the line.
pub fn describe(dead: &[(Reason, Vec<u8>)]) -> String {
    dead.iter()
        .map(|(r, l)| format!("\n{r:?}: {}", String::from_utf8_lossy(l)))
        .collect()
}

/// Facts that own their text, to outlive the decoder.
fn owned(f: Facts<'_>) -> Facts<'static> {
    let own = |c: std::borrow::Cow<'_, str>| std::borrow::Cow::Owned(c.into_owned());
    Facts {
        kind: f.kind,
        ts: f.ts,
        device: f.device.map(|d| wire::event::Device {
            id: d.id,
            key: own(d.key),
            tag: d.tag,
            ip: d.ip.map(own),
            user: d.user.map(own),
        }),
        flow: f.flow.map(|w| wire::event::Flow {
            user: own(w.user),
            device: w.device.map(own),
            session_id: w.session_id.map(own),
            connection_id: w.connection_id.map(own),
            ..w
        }),
    }
}

/// The record of one line, which must make one.
pub fn one(zone: &str, line: &str) -> Value {
    let Run { records, dead, .. } = run(zone, &[line.as_bytes()]);
    assert!(dead.is_empty(), "dead letter {:?} for {line}", dead[0].0);
    assert_eq!(records.len(), 1);
    records.into_iter().next().unwrap()
}

/// The record of one line that names one of its keys twice with two values: made without that
/// field, and the line kept as a `repeated_key` dead letter too.
pub fn contested(zone: &str, line: &str) -> Value {
    let Run { records, dead, .. } = run(zone, &[line.as_bytes()]);
    assert_eq!(
        records.len(),
        1,
        "no record for {line}: {}",
        describe(&dead)
    );
    let reasons: Vec<Reason> = dead.iter().map(|d| d.0).collect();
    assert_eq!(reasons, [Reason::RepeatedKey], "{line}");
    records.into_iter().next().unwrap()
}

/// Why one line makes no record.
pub fn dead_reason(zone: &str, line: &[u8]) -> Reason {
    let Run { records, dead, .. } = run(zone, &[line]);
    assert!(records.is_empty(), "unexpected record {records:?}");
    assert_eq!(dead.len(), 1);
    dead[0].0
}

/// A file of the corpus.
pub fn corpus(name: &str) -> Vec<u8> {
    let path = Path::new(CORPUS).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Zscaler's example of a ZIA log type's default output (one line).
pub fn csv_example(log_type: &str) -> String {
    let input = corpus(&format!("zscaler-helpdoc-zia-{log_type}-csv.log"));
    String::from_utf8(lines(&input)[0].to_vec()).unwrap()
}

/// A frame's quoted fields, each changed by `edit`, written back as the NSS default output.
pub fn csv_edited(line: &str, edit: impl Fn(usize, &str) -> String) -> String {
    let inner = &line[1..line.len() - 1];
    let fields: Vec<String> = inner
        .split("\",\"")
        .enumerate()
        .map(|(i, f)| edit(i, f))
        .collect();
    format!("\"{}\"", fields.join("\",\""))
}

/// The lines of a file (LF-terminated, empty ones left out).
pub fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// Compares the records of a corpus file, read in `zone`, with its golden file. `ZTEL_BLESS=1`
/// rewrites the golden file; a rewritten one must be checked by hand before it is committed.
pub fn check_golden(corpus_name: &str, zone: &str) {
    let input = corpus(corpus_name);
    let run = run(zone, &lines(&input));
    assert!(
        run.dead.is_empty(),
        "{corpus_name}: dead letters {}",
        describe(&run.dead)
    );
    let golden = Path::new(GOLDEN).join(corpus_name.replace(".log", ".jsonl"));
    if std::env::var_os("ZTEL_BLESS").is_some() {
        std::fs::write(&golden, &run.text).unwrap();
    }
    let want = std::fs::read_to_string(&golden)
        .unwrap_or_else(|e| panic!("golden file {}: {e}", golden.display()));
    assert_eq!(
        run.text,
        want,
        "{corpus_name} differs from {}",
        golden.display()
    );
}
