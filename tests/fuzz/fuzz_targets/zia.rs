//! ZIA (NSS) web records through the pipeline; seeded with NSS lines in every dialect.
#![no_main]

mod shared;

libfuzzer_sys::fuzz_target!(|data: &[u8]| shared::run(data));
