//! Appending short byte strings to a record's buffer without a call to `memcpy`.
//!
//! A record is a few dozen appends of a key, a number's digits or a value of a few bytes, each of
//! a length known only at run time: `extend_from_slice` makes every one a call into libc's
//! `memmove`, whose dispatch on the length costs more than the copy (about 4 % of the CPU on
//! Sekoia's lines, `perf/README.md`). Up to 32 bytes, two loads and two stores that overlap in
//! the middle copy any length in one step; longer ones go to `extend_from_slice`.

/// Appends `bytes` to `out`.
#[inline(always)]
pub fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n > 32 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(n);
    let len = out.len();
    let src = bytes.as_ptr();
    // SAFETY: `reserve` made room for `n` bytes after `len`, and every load below reads inside
    // `bytes` (each starts at 0 or ends at `n`, and is taken only when `n` is at least its
    // width), every store writes inside `len..len + n`; `bytes` cannot be inside `out`'s spare
    // room, which `out` borrows mutably. The `n` bytes are then initialised.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        if n >= 16 {
            copy_ends::<16>(src, dst, n);
        } else if n >= 8 {
            copy_ends::<8>(src, dst, n);
        } else if n >= 4 {
            copy_ends::<4>(src, dst, n);
        } else if n > 0 {
            // 1 to 3 bytes: the first, the middle and the last (some of them the same byte).
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// Copies `n` bytes (`W <= n <= 2 * W`) as the first `W` and the last `W`.
///
/// # Safety
/// `src` must be readable and `dst` writable for `n` bytes, with `W <= n <= 2 * W`.
#[inline(always)]
unsafe fn copy_ends<const W: usize>(src: *const u8, dst: *mut u8, n: usize) {
    let head = src.cast::<[u8; W]>().read_unaligned();
    let tail = src.add(n - W).cast::<[u8; W]>().read_unaligned();
    dst.cast::<[u8; W]>().write_unaligned(head);
    dst.add(n - W).cast::<[u8; W]>().write_unaligned(tail);
}

#[cfg(test)]
mod tests {
    use super::put;

    #[test]
    fn appends_every_length_as_extend_from_slice_does() {
        let source: Vec<u8> = (0..80u8).map(|b| b.wrapping_mul(37)).collect();
        for before in [0, 1, 7, 100] {
            for n in 0..=source.len() {
                let mut ours = vec![b'x'; before];
                // No spare room, so that `reserve` must grow it; and with room to spare.
                ours.shrink_to_fit();
                let mut roomy = Vec::with_capacity(256);
                roomy.extend_from_slice(&ours);
                let mut theirs = ours.clone();
                put(&mut ours, &source[..n]);
                put(&mut roomy, &source[..n]);
                theirs.extend_from_slice(&source[..n]);
                assert_eq!(ours, theirs, "{before} {n}");
                assert_eq!(roomy, theirs, "{before} {n}");
            }
        }
    }
}
