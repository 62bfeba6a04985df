//! The fast path's one pass over a frame: where its quotes are, and whether it is plain (valid
//! UTF-8 with no backslash and no control character), 64 bytes at a time with SSE2 or AVX2.
//! [`super::flat`] reads the frame from the quotes this finds.

/// One pass over the frame: where its quotes are (bit `i % 64` of word `i / 64`), and whether it
/// is plain: valid UTF-8 with no backslash (so no escapes) and no control character (invalid
/// inside a string; outside one only tabs and line ends, which feeds do not send).
pub(super) fn scan(json: &[u8], quotes: &mut Vec<u64>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, as just checked (std caches the answer).
        return unsafe { scan_avx2(json, quotes) };
    }
    scan_with(json, quotes, block_masks)
}

/// [`scan`] with AVX2's 32-byte comparisons: half the instructions of SSE2's on every frame.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_avx2(json: &[u8], quotes: &mut Vec<u64>) -> bool {
    // A closure here inherits AVX2, so the masks inline into the loop.
    scan_with(json, quotes, |block| block_masks_avx2(block))
}

#[inline(always)]
fn scan_with(json: &[u8], quotes: &mut Vec<u64>, masks_of: impl Fn(&[u8; 64]) -> Masks) -> bool {
    quotes.clear();
    quotes.reserve(json.len().div_ceil(64));
    let mut bad = 0;
    let mut high = 0;
    let mut blocks = json.chunks_exact(64);
    for block in &mut blocks {
        // Every chunk is 64 bytes long (`as_chunks` would say so in the type, but needs 1.88).
        let Ok(block) = block.try_into() else {
            return false;
        };
        let masks = masks_of(block);
        quotes.push(masks.quotes);
        bad |= masks.bad;
        high |= masks.high;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // Spaces are neither quotes nor bad bytes.
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        let masks = masks_of(&last);
        quotes.push(masks.quotes);
        bad |= masks.bad;
        high |= masks.high;
    }
    // All ASCII is valid UTF-8; only a frame with other bytes needs checking.
    bad == 0 && (high == 0 || std::str::from_utf8(json).is_ok())
}

/// What [`scan`] learns from 64 bytes, one bit per byte.
#[derive(Debug, PartialEq)]
struct Masks {
    quotes: u64,
    /// Backslashes and control characters.
    bad: u64,
    /// Bytes of 0x80 and above (not ASCII).
    high: u64,
}

/// SSE2, which every x86-64 processor has: 16 bytes per comparison.
#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for i in 0..4 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; bytes
        // 16 i to 16 i + 15 of a 64-byte block are readable, and an unaligned load has no
        // alignment requirement.
        let (quotes, bad, high) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let quotes = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            (
                _mm_movemask_epi8(quotes),
                _mm_movemask_epi8(_mm_or_si128(control, backslash)),
                _mm_movemask_epi8(v),
            )
        };
        let bits = |m: i32| u64::from(m as u16) << (16 * i);
        masks.quotes |= bits(quotes);
        masks.bad |= bits(bad);
        masks.high |= bits(high);
    }
    masks
}

/// AVX2: 32 bytes per comparison.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for i in 0..2 {
        // SAFETY: bytes 32 i to 32 i + 31 of a 64-byte block are readable, and an unaligned load
        // has no alignment requirement.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * i).cast()) };
        let quotes = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let bits = |m: i32| u64::from(m as u32) << (32 * i);
        masks.quotes |= bits(_mm256_movemask_epi8(quotes));
        masks.bad |= bits(_mm256_movemask_epi8(_mm256_or_si256(control, backslash)));
        masks.high |= bits(_mm256_movemask_epi8(v));
    }
    masks
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64]) -> Masks {
    block_masks_scalar(block)
}

/// The same masks a byte at a time: the definition the SIMD version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(block: &[u8; 64]) -> Masks {
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        masks.quotes |= u64::from(b == b'"') << i;
        masks.bad |= u64::from(b < 0x20 || b == b'\\') << i;
        masks.high |= u64::from(b >= 0x80) << i;
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_masks_are_the_scalar_masks() {
        let mut block = [0u8; 64];
        for seed in 0..2000u64 {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly the bytes that matter, and their neighbours.
                *b = [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x00, x as u8]
                    [(x >> 8) as usize % 9];
            }
            assert_eq!(block_masks(&block), block_masks_scalar(&block));
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, as just checked.
                assert_eq!(
                    unsafe { block_masks_avx2(&block) },
                    block_masks_scalar(&block)
                );
            }
        }
    }
}
