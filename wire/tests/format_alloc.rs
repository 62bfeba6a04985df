//! Reading key=value and CSV frames allocates nothing per record once a decoder is warm: the
//! readers reuse their scratch space (DESIGN §3.2, "no allocation per record").

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use wire::decode::Decoder;
use wire::synth::{Cardinality, Dialect, WebGenerator};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn warm_readers_do_not_allocate_per_record() {
    let received = Timestamp::from_second(1_763_800_000).unwrap();
    for (dialect, extra) in [
        (Dialect::Kv, ""),
        // Quoted values with escapes go through the scratch copy.
        (Dialect::Kv, "\tnote=\"a \\\"b\\\"\""),
        (Dialect::Csv, ""),
    ] {
        let text = WebGenerator::new(5, dialect, Cardinality::default()).lines(3000);
        // Values that need %-decoding allocate when a record is written: leave them out.
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.contains('%'))
            .map(|l| format!("{l}{extra}"))
            .collect();
        assert!(lines.len() > 1000, "{dialect:?}: {} lines", lines.len());
        let mut decoder = Decoder::new(jiff::tz::TimeZone::UTC);
        let mut out = Vec::with_capacity(4 << 20);
        for line in &lines[..100] {
            decoder.decode(line.as_bytes(), received, &mut out).unwrap();
        }
        out.clear();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for line in &lines[100..] {
            decoder.decode(line.as_bytes(), received, &mut out).unwrap();
        }
        let made = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(made, 0, "{dialect:?}{extra:?}: {made} allocations");
    }
}
