//! Criterion benchmarks of what a `/devices` request costs the aggregator: the time the
//! registry's lock is held, which every shard's batch waits for. With 1,000,000 devices:
//! - `largest_page`: the last page of 1,000 devices from the admin index (DESIGN §2.3,
//!   issue 14), the page's lookups under the lock;
//! - `index_chunk`: one chunk of new devices taken into the index under the lock, the most a
//!   refresh holds it at a time;
//! - `sort_under_lock`: what a page cost before the index, the registry collected and sorted
//!   under the lock.
//!
//! Under `cargo test --bench admin` (CI, once each), 10,000 devices, so that the debug build
//! stays quick.

use std::hint::black_box;
use std::sync::Mutex;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use jiff::Timestamp;
use wire::device::{device_id, Tag};
use ztel::aggregate::registry::{Device, Registry};
use ztel::batch::DeviceNews;
use ztel::obs::device_index::{DeviceIndex, CHUNK};

fn devices() -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        10_000
    }
}

fn registry(n: u64) -> Registry {
    let mut registry = Registry::default();
    for i in 0..n {
        // Hostnames in no order, as devices arrive.
        let host = format!("host-{:07}", i.wrapping_mul(2_654_435_761) % n);
        let ip = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
        let user = format!("user{}@example.com", i % 5000);
        registry.apply(&DeviceNews {
            id: device_id(&host),
            key: &host,
            tag: Tag::Zia,
            ip: Some(&ip),
            user: Some(&user),
            seen: Timestamp::UNIX_EPOCH,
        });
    }
    registry
}

fn admin(c: &mut Criterion) {
    let n = devices();
    let shared = Mutex::new(registry(n));
    let mut index = DeviceIndex::default();
    assert!(index.refresh(&shared), "a registry");
    let mut g = c.benchmark_group(format!("devices_{n}"));
    g.sample_size(20);
    g.bench_function("largest_page", |b| {
        b.iter(|| {
            let registry = shared.lock().expect("a registry");
            let mut bytes = 0;
            for id in index.page(index.len() - 1000, 1000) {
                bytes += registry.get(id).map_or(0, |d| d.hostname.len());
            }
            black_box(bytes)
        })
    });
    g.bench_function("index_chunk", |b| {
        // The registry and what was taken from it are dropped outside the measurement.
        b.iter_batched_ref(
            || (registry(CHUNK as u64), Vec::with_capacity(CHUNK)),
            |(fresh, into)| {
                fresh.take_created(CHUNK, into);
                black_box(into.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sort_under_lock", |b| {
        b.iter(|| {
            let registry = shared.lock().expect("a registry");
            let mut all: Vec<(u64, Device)> = registry.iter().collect();
            all.sort_unstable_by(|a, b| a.1.hostname.cmp(b.1.hostname).then(a.0.cmp(&b.0)));
            black_box(all.len())
        })
    });
    g.finish();
}

criterion_group!(benches, admin);
criterion_main!(benches);
