//! ZPA (LSS) User Activity records through the pipeline; seeded with LSS lines.
#![no_main]

mod shared;

libfuzzer_sys::fuzz_target!(|data: &[u8]| shared::run(data));
