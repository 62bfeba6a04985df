//! Criterion benchmarks of the shard's hot path: framing alone, parsing per dialect, record building,
//! and the whole path from a read buffer to serialised records, on ~1 KB NSS web lines (three
//! templates) and on LSS User Activity lines, in bytes and in events per second.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jiff::Timestamp;
use wire::event::{ActivityEvent, Context, WebEvent};
use wire::fields::{Fields, Scratch};
use wire::format::json::{flat, tape};
use wire::frame::{Framer, Next};
use wire::header;
use wire::record::Writer;
use wire::synth::{ActivityGenerator, Cardinality, Dialect, WebGenerator};
use ztel::batch::{Batch, Origin, Source};
use ztel::pipeline::Pipeline;

const LINES: usize = 1000;

/// The inputs: a name and LF-terminated lines.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let web = |dialect| {
        WebGenerator::new(42, dialect, Cardinality::default())
            .lines(LINES)
            .into_bytes()
    };
    vec![
        ("nss_ztel", web(Dialect::Ztel)),
        ("nss_elastic", web(Dialect::Elastic)),
        ("nss_sekoia", web(Dialect::Sekoia)),
        (
            "lss",
            ActivityGenerator::new(42, Cardinality::default())
                .lines(LINES)
                .into_bytes(),
        ),
    ]
}

/// The JSON of each line: from its first `{` (past any syslog header) to its end.
fn json_of_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| &l[memchr::memchr(b'{', l).unwrap_or(0)..])
}

fn framing(c: &mut Criterion) {
    let (_, data) = &inputs()[0];
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

/// Field extraction alone, per dialect: the fast path that plain frames take, and simd-json, which
/// reads everything the fast path declines (escapes, nesting, odd numbers).
fn parsing(c: &mut Criterion) {
    let mut buffers = simd_json::Buffers::new(4096);
    let mut scratch = flat::Scratch::default();
    for (name, data) in inputs() {
        let lines: Vec<Vec<u8>> = json_of_lines(&data).map(<[u8]>::to_vec).collect();
        let mut g = c.benchmark_group("parse_flat");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for line in &lines {
                    let mut fields = Fields::default();
                    let read = flat::extract(line, &mut scratch, &mut fields);
                    assert!(read, "the fast path declined a synthetic line");
                    black_box(fields.votes.zia);
                }
            })
        });
        g.finish();
        let mut g = c.benchmark_group("parse_simd_json");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || lines.clone(),
                |copies| {
                    let mut tape = simd_json::Tape::null().reset();
                    for (copy, line) in copies.iter_mut().zip(&lines) {
                        let mut fields = Fields::default();
                        let ok =
                            tape::extract(copy, line, &mut buffers, &mut tape, &mut fields).is_ok();
                        black_box((ok, fields.votes.zia));
                        tape = tape.reset();
                    }
                },
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

/// Record building alone: the ZIA web and ZPA events of parsed lines, written as JSON Lines.
fn records(c: &mut Criterion) {
    let received = Timestamp::now();
    let zone = jiff::tz::TimeZone::UTC;
    let times = std::cell::RefCell::default();
    let context = Context {
        zone: &zone,
        received,
        header: header::split(b"").0,
        times: &times,
        took_header_time: std::cell::Cell::new(false),
    };
    let mut g = c.benchmark_group("record");
    for (name, data) in inputs() {
        let lines: Vec<&[u8]> = json_of_lines(&data).collect();
        let mut scratch = flat::Scratch::default();
        let fields: Vec<Fields> = lines
            .iter()
            .map(|line| {
                let mut f = Fields::default();
                assert!(flat::extract(line, &mut scratch, &mut f));
                f
            })
            .collect();
        let mut writer = Writer::default();
        let mut out = Vec::with_capacity(data.len() * 2);
        g.throughput(Throughput::Elements(lines.len() as u64));
        if name == "lss" {
            let events: Vec<ActivityEvent> = fields
                .iter()
                .map(|f| ActivityEvent::from_fields(f, &context).unwrap())
                .collect();
            g.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    for ev in &events {
                        writer.zpa_user_activity(ev, true, &mut out);
                    }
                    black_box(out.len())
                })
            });
        } else {
            // Each event may borrow its decoded user and hostname from a scratch of its own.
            let mut scratches: Vec<Scratch> = fields.iter().map(|_| Scratch::default()).collect();
            let events: Vec<WebEvent> = fields
                .iter()
                .zip(&mut scratches)
                .map(|(f, scratch)| WebEvent::from_fields(f, &context, scratch).unwrap())
                .collect();
            g.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    for ev in &events {
                        writer.zia_web(ev, true, &mut out);
                    }
                    black_box(out.len())
                })
            });
        }
    }
    g.finish();
}

/// What a connection's reads hand the shard: the input cut into blocks of whole lines of at most
/// 64 KiB, as a connection's 64 KiB buffer holds them.
fn reads(data: &[u8]) -> Vec<Vec<u8>> {
    const READ: usize = 64 << 10;
    let mut blocks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(READ)];
        let cut = match window.iter().rposition(|b| *b == b'\n') {
            Some(i) if window.len() == READ => i + 1,
            _ => window.len(),
        };
        blocks.push(rest[..cut].to_vec());
        rest = &rest[cut..];
    }
    blocks
}

/// Frame, parse, build and serialise: what a shard does with each read, a batch per read. Never
/// inlined, so that `perf/instructions.sh` can count inside it.
#[inline(never)]
fn run_shard_path(pipeline: &mut Pipeline, origin: &Origin, reads: &[Vec<u8>]) -> usize {
    let mut records = 0;
    for buf in reads {
        let mut batch = Batch::for_read(0, ztel::batch::Source::Tcp, buf.len());
        let mut framer = Framer::new(262_144);
        let mut at = 0;
        while let Next::Frame { payload, consumed } = framer.next(&buf[at..]) {
            pipeline.process(
                &buf[at + payload.start..at + payload.end],
                origin,
                &mut batch,
            );
            at += consumed;
        }
        assert!(batch.dead.is_empty());
        records += batch.records_made();
        black_box(batch);
    }
    records as usize
}

fn shard_path(c: &mut Criterion) {
    let origin = Origin {
        peer: "127.0.0.1:1514".parse().unwrap(),
        received: Timestamp::now(),
        source: Source::Tcp,
    };
    for (unit, throughput) in [
        ("bytes", None),
        ("events", Some(Throughput::Elements(LINES as u64))),
    ] {
        let mut g = c.benchmark_group(format!("shard_path_{unit}"));
        for (name, data) in inputs() {
            g.throughput(
                throughput
                    .clone()
                    .unwrap_or(Throughput::Bytes(data.len() as u64)),
            );
            let reads = reads(&data);
            let mut pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
            g.bench_function(name, |b| {
                b.iter(|| black_box(run_shard_path(&mut pipeline, &origin, &reads)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, framing, parsing, records, shard_path);
criterion_main!(benches);
