//! Appending short byte strings to a record's buffer without a call to libc.
//!
//! A record is a few dozen appends of a key, a number's digits or a value of a few bytes, each of
//! a length known only at run time: `extend_from_slice` makes every one a call to `memcpy` (in
//! glibc, `__memmove_*_unaligned_erms`), whose dispatch on the length costs more than the copy
//! (about 4 % of the CPU on Sekoia's lines, `perf/README.md`). Up to 32 bytes, two loads and two
//! stores of 4, 8 or 16 bytes that overlap (or meet) in the middle copy any length in one step,
//! three single bytes below 4; longer ones go to `extend_from_slice`.
//!
//! This executes more instructions than the call (callgrind: 17,026 → 17,100 a Sekoia record)
//! and took fewer cycles in quiet runs (the shard 1.35 → 1.30 µs an event; within the noise on a
//! busier host, `perf/README.md`): an earlier trial judged by instructions alone was dropped
//! ("Tried and dropped" there).

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
    // SAFETY: `reserve` made room for `n` bytes after `len`, and `dst` is taken after it. Each
    // load reads inside `bytes` and each store writes inside `len..len + n`: a `W`-byte copy is
    // taken only when `W <= n <= 2 * W`, from offset 0 and from `n - W`, which together cover all
    // `n` bytes; below 4, bytes 0, `n / 2` and `n - 1` do. So the `n` bytes are initialised
    // before `set_len`. `bytes` cannot point into `out`'s buffer, which `out` borrows mutably.
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
        const FILLER: u8 = 0xa5;
        for before in [0, 1, 7, 100] {
            for n in 0..=80usize {
                // A source of exactly `n` bytes of its own (no byte of it equals the filler, and
                // none is what the same place held for the length before): a byte not copied,
                // or copied from the wrong place, shows.
                let source: Box<[u8]> = (0..n).map(|i| (i * 37 + n * 11) as u8 % 0x80).collect();
                let mut theirs = vec![b'x'; before];
                theirs.extend_from_slice(&source);
                // No spare room, so that `reserve` must grow it...
                let mut tight = vec![b'x'; before];
                tight.shrink_to_fit();
                put(&mut tight, &source);
                assert_eq!(tight, theirs, "{before} {n}");
                // ...and room to spare, holding the filler: nothing past the end is written.
                let mut roomy = vec![FILLER; 300];
                roomy[..before].fill(b'x');
                roomy.truncate(before);
                put(&mut roomy, &source);
                assert_eq!(roomy, theirs, "{before} {n}");
                // SAFETY: the 300 bytes were initialised before the truncate; only the length
                // changed since, and `put` wrote inside the length.
                let spare = unsafe { std::slice::from_raw_parts(roomy.as_ptr(), 300) };
                assert!(
                    spare[roomy.len()..].iter().all(|&b| b == FILLER),
                    "{before} {n}"
                );
            }
        }
    }
}
