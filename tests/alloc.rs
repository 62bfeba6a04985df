//! The per-event path allocates nothing once a shard is warm, unless a value needs decoding
//! (DESIGN §4). Counted with a global allocator that counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use wire::frame::{Framer, Next};
use wire::synth::{Cardinality, Dialect, WebGenerator};
use ztel::batch::{Batch, Origin, Source};
use ztel::pipeline::Pipeline;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Frames and processes `data` the way a connection does; returns allocations made.
fn allocations_for(pipeline: &mut Pipeline, data: &mut [u8]) -> (usize, usize) {
    let origin = Origin {
        peer: "127.0.0.1:1514".parse().unwrap(),
        received: Timestamp::now(),
        source: Source::Tcp,
    };
    let mut batch = Batch::new(0, ztel::batch::Source::Tcp);
    batch.records.reserve(data.len() * 2);
    let mut framer = Framer::new(262_144);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut at = 0;
    while let Next::Frame { payload, consumed } = framer.next(&data[at..]) {
        pipeline.process(
            &data[at + payload.start..at + payload.end],
            &origin,
            &mut batch,
        );
        at += consumed;
    }
    let made = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(batch.dead.is_empty());
    let records = batch.records.iter().filter(|b| **b == b'\n').count();
    (made, records)
}

#[test]
fn warm_shard_path_does_not_allocate_per_event() {
    // One device and one user, so that after warming up there is no device news to send.
    let one = Cardinality {
        devices: 1,
        users: 1,
        servers: 100,
    };
    let mut generator = WebGenerator::new(3, Dialect::Elastic, one);
    let mut pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
    let mut warm = generator.lines(200).into_bytes();
    allocations_for(&mut pipeline, &mut warm);
    // Values that need decoding may allocate: leave them out here.
    let text = generator.lines(6000);
    let mut data: Vec<u8> = text
        .lines()
        .filter(|l| !l.contains('%'))
        .take(5000)
        .flat_map(|l| l.bytes().chain([b'\n']))
        .collect();
    let (made, records) = allocations_for(&mut pipeline, &mut data);
    assert_eq!(records, 5000);
    eprintln!("{made} allocations for {records} records");
    // Allowed: a device "still here" delta per minute of feed time (the generator's clock runs
    // about 2500 s over these records, so ~40 deltas of a few allocations each).
    assert!(
        made < records / 20,
        "{made} allocations for {records} records"
    );
}
