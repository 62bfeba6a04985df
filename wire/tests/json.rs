//! The fast path (`format::json::flat`) against simd-json (`format::json::tape`), the parser of
//! record: whenever the fast path reads a frame, simd-json must read it too, into the same fields;
//! whenever simd-json refuses a frame, the fast path must have declined it. Checked on the corpus,
//! on every synthetic dialect, and on generated and mutated objects.

mod common;

use std::path::Path;

use common::CORPUS;
use proptest::prelude::*;
use wire::fields::Fields;
use wire::format::json::{flat, tape};
use wire::synth::{ActivityGenerator, Cardinality, Dialect, WebGenerator};

thread_local! {
    /// One scratch for every text a test reads, as a shard keeps one: the fast path compares each
    /// key with the one at its position in the text before, so that memory is tested too.
    static SCRATCH: std::cell::RefCell<flat::Scratch> = Default::default();
}

/// What each path made of one JSON text: `None` when the fast path declined.
fn both(json: &[u8]) -> (Option<Fields<'_>>, Result<String, String>) {
    let mut fast = Fields::default();
    let read = SCRATCH.with_borrow_mut(|scratch| flat::extract(json, scratch, &mut fast));
    let fast = read.then_some(fast);
    let mut copy = json.to_vec();
    let mut buffers = simd_json::Buffers::new(json.len());
    let mut tape = simd_json::Tape::null().reset();
    let mut slow = Fields::default();
    let slow = match tape::extract(&mut copy, json, &mut buffers, &mut tape, &mut slow) {
        Ok(_) => Ok(format!("{slow:?}")),
        Err(reason) => Err(format!("{reason:?}")),
    };
    (fast, slow)
}

/// The property: the fast path agrees with simd-json whenever it does not decline. Returns
/// whether it read the text.
fn agrees(json: &[u8]) -> Result<bool, TestCaseError> {
    let (fast, slow) = both(json);
    let Some(fast) = fast else {
        return Ok(false);
    };
    let text = String::from_utf8_lossy(json);
    match slow {
        Ok(slow) => prop_assert_eq!(format!("{fast:?}"), slow, "fields differ for {}", text),
        Err(reason) => prop_assert!(
            false,
            "simd-json refused ({}) what the fast path read: {}",
            reason,
            text
        ),
    }
    Ok(true)
}

fn json_of(line: &str) -> &[u8] {
    let start = line.find('{').unwrap_or(0);
    &line.as_bytes()[start..]
}

#[test]
fn synthetic_dialects_take_the_fast_path_and_agree() {
    let mut lines = Vec::new();
    for dialect in [Dialect::Ztel, Dialect::Elastic, Dialect::Sekoia] {
        lines.push(WebGenerator::new(7, dialect, Cardinality::default()).lines(200));
    }
    lines.push(ActivityGenerator::new(7, Cardinality::default()).lines(200));
    for block in &lines {
        for line in block.lines() {
            assert!(agrees(json_of(line)).unwrap(), "declined: {line}");
        }
    }
}

#[test]
fn corpus_agrees_and_plain_records_take_the_fast_path() {
    let mut fast = 0;
    let mut plain_json = 0;
    for entry in std::fs::read_dir(Path::new(CORPUS)).unwrap() {
        let path = entry.unwrap().path();
        // Lines that are not JSON as published are kept in files of their own.
        let malformed = path.to_string_lossy().ends_with("-malformed.log");
        if path.extension().is_none_or(|e| e != "log") || malformed {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| l.contains('{')) {
            let json = json_of(line);
            let read = agrees(json).unwrap();
            fast += usize::from(read);
            // Lines without escapes, tabs, nesting beyond the envelope or numbers with a fraction
            // (a connector's latitude, left to simd-json by design) are what the fast path is
            // for: it must not decline them.
            let nested = line.matches('{').count() > 1 + usize::from(line.contains("\"event\""));
            let fraction = line.split(',').any(|member| {
                member.split_once(':').is_some_and(|(_, v)| {
                    let v = v.trim();
                    v.starts_with(|c: char| c == '-' || c.is_ascii_digit()) && v.contains('.')
                })
            });
            let plain = !line.contains('\\') && !line.contains('\t') && !line.contains('[');
            if plain && !nested && !fraction {
                plain_json += 1;
                assert!(read, "declined a plain line of {}: {line}", path.display());
            }
        }
    }
    assert!(
        plain_json >= 5 && fast >= plain_json,
        "{fast} fast of {plain_json} plain"
    );
}

/// Keys the records use, the envelope's, and some no record uses.
const KEYS: &[&str] = &[
    "cip",
    "sip",
    "eurl",
    "url",
    "reqsize",
    "respsize",
    "respcode",
    "epochtime",
    "time",
    "recordid",
    "devicehostname",
    "login",
    "elogin",
    "action",
    "proto",
    "event",
    "sourcetype",
    "Username",
    "ConnectorPort",
    "ServerIP",
    "LogTimestamp",
    "ClientLatitude",
    "x",
    "appname",
    "",
];

/// Values the fast path reads.
const VALUES: &[&str] = &[
    "\"10.0.0.1\"",
    "\"None\"",
    "\"\"",
    "\" N/A \"",
    "\"600\"",
    "\"www.example.com/a?b=c\"",
    "\"é ü 日本\"",
    "600",
    "0",
    "-7",
    "123456789012345678",
    "true",
    "false",
    "null",
    "\"zscalernss-web\"",
    "1.5",
    "-2.25",
];

/// Values it must leave to simd-json, valid JSON or not.
const ODD_VALUES: &[&str] = &[
    "-0",
    "007",
    "1e5",
    "1E-2",
    "12345678901234567890",
    "tru",
    "nul",
    "[]",
    "[1,\"a\"]",
    "{}",
    "{\"cip\":\"1.1.1.1\"}",
    "{\"event\":{}}",
    "\"a\\\"b\"",
    "\"a\\u0041\"",
    "\"tab\there\"",
    "\"x",
    "-",
    "1.",
    ".5",
    "+1",
    "NaN",
    "",
];

fn value() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        20 => prop::sample::select(VALUES),
        1 => prop::sample::select(ODD_VALUES),
    ]
}

fn object(members: Vec<(&str, &str)>, spaced: bool) -> String {
    let sep = if spaced { " , " } else { "," };
    let colon = if spaced { " : " } else { ":" };
    let body: Vec<String> = members
        .into_iter()
        .map(|(k, v)| format!("\"{k}\"{colon}{v}"))
        .collect();
    format!("{{{}}}", body.join(sep))
}

fn documents() -> impl Strategy<Value = String> {
    let member = || (prop::sample::select(KEYS), value());
    let flat = (prop::collection::vec(member(), 0..12), any::<bool>())
        .prop_map(|(m, spaced)| object(m, spaced));
    let enveloped = (
        prop::collection::vec(member(), 0..12),
        any::<bool>(),
        value(),
    )
        .prop_map(|(m, spaced, sourcetype)| {
            format!(
                "{{\"sourcetype\":{sourcetype},\"event\":{}}}",
                object(m, spaced)
            )
        });
    prop_oneof![flat, enveloped]
}

/// A byte-level edit that may break the JSON anywhere.
fn mutate(mut bytes: Vec<u8>, at: usize, edit: u8, byte: u8) -> Vec<u8> {
    let at = at % (bytes.len() + 1);
    const ALPHABET: &[u8] = b"{}[]\":, \\0123456789.-eEtfnula\t\x01\xc3\xa9\xff";
    let b = ALPHABET[byte as usize % ALPHABET.len()];
    match edit % 3 {
        0 => bytes.insert(at, b),
        1 if at < bytes.len() => {
            bytes.remove(at);
        }
        _ if at < bytes.len() => bytes[at] = b,
        _ => bytes.push(b),
    }
    bytes
}

#[test]
fn the_generated_objects_exercise_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = documents();
    let (mut read, mut declined) = (0, 0);
    for _ in 0..2000 {
        let doc = strategy.new_tree(&mut runner).unwrap().current();
        match agrees(doc.as_bytes()).unwrap() {
            true => read += 1,
            false => declined += 1,
        }
    }
    // Otherwise the properties below would hold vacuously.
    assert!(
        read > 600 && declined > 400,
        "{read} read, {declined} declined"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn generated_objects_agree(doc in documents()) {
        agrees(doc.as_bytes())?;
    }

    #[test]
    fn mutated_objects_agree(
        doc in documents(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = doc.into_bytes();
        for (at, edit, byte) in edits {
            bytes = mutate(bytes, at, edit, byte);
        }
        agrees(&bytes)?;
    }
}
