//! Criterion benchmarks of the shard's hot path on ~1 KB NSS web lines: framing alone, parsing
//! per dialect, and the whole path from a read buffer to serialised records.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jiff::Timestamp;
use ztel::frame::{Framer, Next};
use ztel::parse::fields::{extract, Fields};
use ztel::pipeline::{Batch, Origin, Pipeline};
use ztel::synth::{Cardinality, Dialect, WebGenerator};

const LINES: usize = 1000;

fn input(dialect: Dialect) -> Vec<u8> {
    WebGenerator::new(42, dialect, Cardinality::default())
        .lines(LINES)
        .into_bytes()
}

fn framing(c: &mut Criterion) {
    let data = input(Dialect::Ztel);
    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("lf_1k_lines", |b| {
        b.iter(|| {
            let mut framer = Framer::new(262_144);
            let mut at = 0;
            let mut frames = 0;
            while let Next::Frame { consumed, .. } = framer.next(&data[at..]) {
                at += consumed;
                frames += 1;
            }
            black_box(frames)
        })
    });
    g.finish();
}

fn parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, dialect) in [
        ("ztel", Dialect::Ztel),
        ("elastic", Dialect::Elastic),
        ("sekoia", Dialect::Sekoia),
    ] {
        let data = input(dialect);
        let lines: Vec<Vec<u8>> = data
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.to_vec())
            .collect();
        g.throughput(Throughput::Bytes(data.len() as u64));
        let mut buffers = simd_json::Buffers::new(4096);
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || lines.clone(),
                |lines| {
                    for line in lines.iter_mut() {
                        let start = memchr::memchr(b'{', line).unwrap_or(0);
                        let mut fields = Fields::default();
                        let mut tape = simd_json::Tape::null().reset();
                        let ok = extract(&mut line[start..], &mut buffers, &mut tape, &mut fields)
                            .is_ok();
                        black_box((ok, fields.zia_keys));
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Frame, parse, build and serialise: what a shard does with a read buffer.
fn shard_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("shard_path");
    for (name, dialect) in [
        ("ztel", Dialect::Ztel),
        ("elastic", Dialect::Elastic),
        ("sekoia", Dialect::Sekoia),
    ] {
        let data = input(dialect);
        g.throughput(Throughput::Bytes(data.len() as u64));
        let mut pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
        let origin = Origin {
            peer: "127.0.0.1:1514".parse().unwrap(),
            received: Timestamp::now(),
        };
        g.bench_function(format!("{name}_bytes"), |b| {
            b.iter_batched_ref(
                || data.clone(),
                |buf| {
                    let mut batch = Batch::new(0);
                    let mut framer = Framer::new(262_144);
                    let mut at = 0;
                    while let Next::Frame { payload, consumed } = framer.next(&buf[at..]) {
                        let frame = &mut buf[at + payload.start..at + payload.end];
                        pipeline.process(frame, &origin, &mut batch);
                        at += consumed;
                    }
                    assert!(batch.dead.is_empty());
                    black_box(batch.records.len())
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.throughput(Throughput::Elements(LINES as u64));
    let data = input(Dialect::Ztel);
    let mut pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
    let origin = Origin {
        peer: "127.0.0.1:1514".parse().unwrap(),
        received: Timestamp::now(),
    };
    g.bench_function("ztel_events", |b| {
        b.iter_batched_ref(
            || data.clone(),
            |buf| {
                let mut batch = Batch::new(0);
                let mut framer = Framer::new(262_144);
                let mut at = 0;
                while let Next::Frame { payload, consumed } = framer.next(&buf[at..]) {
                    pipeline.process(
                        &mut buf[at + payload.start..at + payload.end],
                        &origin,
                        &mut batch,
                    );
                    at += consumed;
                }
                black_box(batch.records.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, framing, parsing, shard_path);
criterion_main!(benches);
