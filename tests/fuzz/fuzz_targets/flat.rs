//! The fast path against simd-json: whenever `parse::flat` reads a JSON text, simd-json must read
//! it too, into the same fields; seeded with the ZIA and ZPA seeds.
#![no_main]

use wire::fields::Fields;
use wire::format::json::{flat, tape};

thread_local! {
    /// Kept between inputs, as a shard keeps it: each key is compared with the one at its
    /// position in the input before.
    static SCRATCH: std::cell::RefCell<flat::Scratch> = Default::default();
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut fast = Fields::default();
    if !SCRATCH.with_borrow_mut(|scratch| flat::extract(data, scratch, &mut fast)) {
        return;
    }
    let mut copy = data.to_vec();
    let mut buffers = simd_json::Buffers::new(data.len());
    let mut tape = simd_json::Tape::null().reset();
    let mut slow = Fields::default();
    let parsed = tape::extract(&mut copy, data, &mut buffers, &mut tape, &mut slow);
    assert!(
        parsed.is_ok(),
        "simd-json refused what the fast path read: {parsed:?}"
    );
    assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
});
