//! Criterion benchmarks of the device path (DESIGN §4 "Device maps"), per device delta:
//! - `shard_cache`: what a delta costs the shard: the device cache's lookup, and the delta made
//!   and pushed into the batch, with churn (every record of a device brings a new IP, every
//!   other one a new user, so that every record is a delta);
//! - `registry_apply`: what the same deltas cost the aggregator's registry;
//! - `store_save`: what saving a changed device costs, in one transaction for all of them.
//!
//! Under `cargo test --bench devices` (CI, once each), with fewer devices.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jiff::Timestamp;
use wire::device::{device_id, Tag};
use ztel::aggregate::registry::Registry;
use ztel::aggregate::store::{Encoded, Store};
use ztel::batch::{Batch, Source};
use ztel::pipeline::devices::DeviceCache;

/// Records per device in one pass: each brings a new IP, within the registry's cap.
const PER_DEVICE: usize = 32;

fn devices() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        100
    }
}

/// The sightings of one pass, device-interleaved as a feed brings them: (id, host, ip, user).
struct Feed {
    hosts: Vec<(u64, String)>,
    ips: Vec<String>,
    users: Vec<String>,
}

impl Feed {
    fn new(devices: usize) -> Feed {
        Feed {
            hosts: (0..devices)
                .map(|d| {
                    let host = format!("host-{d:07}.corp.example.com");
                    (device_id(&host), host)
                })
                .collect(),
            ips: (0..devices * PER_DEVICE)
                .map(|i| format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255))
                .collect(),
            users: (0..devices * PER_DEVICE / 2)
                .map(|u| format!("user{u}@example.com"))
                .collect(),
        }
    }

    fn len(&self) -> usize {
        self.hosts.len() * PER_DEVICE
    }

    /// Sighting `i`: device `i % devices`, its record number `i / devices`.
    fn get(&self, i: usize) -> (u64, &str, &str, &str) {
        let n = self.hosts.len();
        let (device, k) = (i % n, i / n);
        let (id, host) = &self.hosts[device];
        let ip = &self.ips[device * PER_DEVICE + k];
        let user = &self.users[(device * PER_DEVICE + k) / 2];
        (*id, host, ip, user)
    }
}

/// A batch with room for a pass's deltas: a shard's batches are reused, so the room is there.
fn batch(feed: &Feed) -> Batch {
    let mut batch = Batch::new(0, Source::Tcp);
    batch.devices.reserve(feed.len());
    batch.flow_text.reserve(feed.len() * 64);
    batch
}

fn seen(i: usize) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + (i / 1000) as i64).expect("a time")
}

fn shard_cache(c: &mut Criterion) {
    let feed = Feed::new(devices());
    let mut g = c.benchmark_group(format!("devices_{}", feed.hosts.len()));
    g.throughput(Throughput::Elements(feed.len() as u64));
    g.sample_size(20);
    g.bench_function("shard_cache", |b| {
        b.iter_batched_ref(
            || (DeviceCache::new(1 << 20), batch(&feed)),
            |(cache, batch)| {
                for i in 0..feed.len() {
                    let (id, host, ip, user) = feed.get(i);
                    cache.observe(id, host, Tag::Zia, Some(ip), Some(user), seen(i), batch);
                }
                black_box(batch.devices.len())
            },
            BatchSize::LargeInput,
        )
    });
    let deltas = {
        let mut cache = DeviceCache::new(1 << 20);
        let mut deltas = batch(&feed);
        for i in 0..feed.len() {
            let (id, host, ip, user) = feed.get(i);
            cache.observe(
                id,
                host,
                Tag::Zia,
                Some(ip),
                Some(user),
                seen(i),
                &mut deltas,
            );
        }
        deltas
    };
    assert_eq!(deltas.devices.len(), feed.len(), "every record is a delta");
    g.bench_function("registry_apply", |b| {
        b.iter_batched_ref(
            Registry::default,
            |registry| {
                for d in &deltas.devices {
                    black_box(registry.apply(&d.read(&deltas.flow_text)));
                }
            },
            BatchSize::LargeInput,
        )
    });
    let mut registry = Registry::default();
    for d in &deltas.devices {
        registry.apply(&d.read(&deltas.flow_text));
    }
    g.throughput(Throughput::Elements(registry.len() as u64));
    let dir = std::env::temp_dir().join(format!("ztel-bench-devices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let mut store = Store::open(&dir.join("devices.redb")).expect("a store");
    g.bench_function("store_save", |b| {
        // Encoding included, as the aggregator and the saving thread do it between them.
        b.iter(|| {
            let mut encoded = Encoded::default();
            encoded.extend(registry.iter());
            store.save(&encoded).expect("saved")
        })
    });
    g.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, shard_cache);
criterion_main!(benches);
