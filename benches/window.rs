//! Criterion benchmark of the duplicate window (`src/aggregate/dedup.rs`, DESIGN §3
//! "Duplicates"), per record offered: `window_first` offers new identities to a full window of
//! the default size (2^20), in memory only (the journal of `Window::open` is left out), which
//! the aggregator does for every record, one batch at a time, fetching the table eight records
//! ahead. A full window is the steady state: each new identity pushes out the oldest. Its
//! tables are tens of MiB, so what this measures is mostly memory latency.
//!
//! Under `cargo test --bench window` (CI, once each), with a window of 2^12.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ztel::aggregate::dedup::Window;

/// Identities a batch offers: a read's batch holds some hundreds of records.
const BATCH: usize = 512;
/// How far ahead the table is fetched, as the aggregator's `PREFETCH_AHEAD`.
const AHEAD: usize = 8;

fn capacity() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1 << 20
    } else {
        1 << 12
    }
}

/// Distinct identities, as the payload hashes they are: four windows' worth, so that one
/// offered again has long left the window and is new again.
fn identities(n: usize) -> Vec<u128> {
    (0..n as u64)
        .map(|i| {
            let lo = xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
            let hi = xxhash_rust::xxh3::xxh3_64(&lo.to_le_bytes());
            u128::from(hi) << 64 | u128::from(lo)
        })
        .collect()
}

fn window_first(c: &mut Criterion) {
    let capacity = capacity();
    let ids = identities(4 * capacity);
    let mut window = Window::new(capacity);
    for &id in &ids[..capacity] {
        window.first(id, 0);
    }
    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut at = capacity;
    group.bench_function("window_first", |b| {
        b.iter(|| {
            if at + BATCH > ids.len() {
                at = 0;
            }
            let batch = &ids[at..at + BATCH];
            at += BATCH;
            let mut new = 0;
            for (i, &id) in batch.iter().enumerate() {
                // As the aggregator does (`Aggregator::write_records`).
                if let Some(&ahead) = batch.get(i + AHEAD) {
                    window.prefetch(ahead, AHEAD);
                }
                new += usize::from(window.first(black_box(id), 0));
            }
            assert_eq!(new, BATCH, "every identity offered is new");
        })
    });
    group.finish();
}

criterion_group!(benches, window_first);
criterion_main!(benches);
