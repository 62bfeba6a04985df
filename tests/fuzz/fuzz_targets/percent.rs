//! The record writer's percent decoding (`record::json::write_percent`, a word at a time on plain
//! frames) against the slow decoder it must agree with (`value::percent_decode_with`), for the
//! escapes of URLs and of names: whatever it writes is one JSON string, and that string reads
//! back as the decoding, or as the value sent when the decoding is not UTF-8. And the plain
//! string writer (`write_str`, which copies a value that needs no escaping with `record/put.rs`'s
//! short copies, up to 32 bytes): any text, after any bytes, reads back as itself. A read past
//! the value is caught only under AddressSanitizer (run.sh's default), which also fills fresh
//! memory, so that a byte the copy leaves out shows there too.
#![no_main]

use wire::record::json::{write_percent, write_str};
use wire::value::{percent_decode_with, Escapes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // A plain frame's values hold nothing a JSON string must escape; any value may be written
    // the general way.
    let plain = !raw.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
    // 0 to 7 bytes before it, as the input's length says: the copy lands at offsets 1 to 8.
    let before = &data[..data.len() % 8];
    let mut out = before.to_vec();
    write_str(&mut out, raw);
    assert_eq!(&out[..before.len()], before, "the writer touched what was before");
    let back: String = serde_json::from_slice(&out[before.len()..])
        .unwrap_or_else(|e| panic!("not one JSON string ({e}): {raw:?}"));
    assert_eq!(back, raw);
    for escapes in [Escapes::Nss, Escapes::All] {
        for as_plain in [plain, false] {
            let mut out = b"{".to_vec();
            write_percent(&mut out, raw, escapes, as_plain);
            assert_eq!(out[0], b'{', "the writer touched what was before");
            let back: String = serde_json::from_slice(&out[1..])
                .unwrap_or_else(|e| panic!("not one JSON string ({e}): {raw:?}"));
            let want = percent_decode_with(raw, escapes);
            assert_eq!(back, want, "{raw:?} ({escapes:?}, plain: {as_plain})");
        }
    }
});
