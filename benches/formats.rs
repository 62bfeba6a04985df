//! Criterion benchmarks of decoding one feed format: the same synthetic web records written as
//! JSON (ztel's template, the fast path) and in each text format (LEEF, CEF, key=value, CSV), each
//! decoded frame by frame into records, per byte and per record. DESIGN §3.2 asks that a text
//! format cost at most 1.5 times JSON's per byte.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use wire::decode::Decoder;
use wire::synth::{Cardinality, Dialect, WebGenerator};

const LINES: usize = 1000;

const FORMATS: [(&str, Dialect); 5] = [
    ("json", Dialect::Ztel),
    ("leef", Dialect::Leef),
    ("cef", Dialect::Cef),
    ("kv", Dialect::Kv),
    ("csv", Dialect::Csv),
];

fn decode(c: &mut Criterion) {
    let received = Timestamp::from_second(1_763_800_000).expect("in range");
    for (name, dialect) in FORMATS {
        let text = WebGenerator::new(42, dialect, Cardinality::default()).lines(LINES);
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        assert_eq!(lines.len(), LINES, "{name}: the generator wrote no records");
        // For perf/format-instructions.sh, which divides instructions by bytes.
        eprintln!("format {name}: {LINES} lines, {} bytes", text.len());
        let mut decoder = Decoder::new(TimeZone::UTC);
        let mut out = Vec::with_capacity(text.len() * 2);
        for line in &lines {
            if let Err(reason) = decoder.decode(line, received, &mut out) {
                panic!("{name}: {reason:?}: {}", String::from_utf8_lossy(line));
            }
        }
        for (group, throughput) in [
            ("format_bytes", Throughput::Bytes(text.len() as u64)),
            ("format_records", Throughput::Elements(LINES as u64)),
        ] {
            let mut g = c.benchmark_group(group);
            g.throughput(throughput);
            g.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    for line in &lines {
                        let decoded = decoder.decode(line, received, &mut out);
                        black_box(decoded.is_ok());
                    }
                    black_box(out.len())
                })
            });
            g.finish();
        }
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
