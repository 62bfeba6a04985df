//! The memory pages of the cache, each written before it is first read
//! ([`DeviceCache::touch`]), so that the kernel hands it over without a TLB flush on every
//! core. Apart from the lookup because it is about the OS's pages, not about devices.

use super::{DeviceCache, BUCKET, WAYS, WORDS};

/// Bytes of a memory page.
pub(super) const PAGE: usize = 4096;

/// The pages bucket `index` of buckets from address `base` lies on: each page's number, and
/// its bit in `written`.
fn pages(base: usize, index: usize) -> impl Iterator<Item = (usize, usize, u64)> {
    let first = (base + index * BUCKET) / PAGE;
    let last = (base + index * BUCKET + BUCKET - 1) / PAGE;
    (first..=last).map(move |page| {
        let bit = page - base / PAGE;
        (page, bit / 64, 1u64 << (bit % 64))
    })
}

impl DeviceCache {
    /// Writes a zero to each page of bucket `index` not written before, before the bucket is
    /// read. A page the OS has not handed over yet, read first, is mapped to its shared zero
    /// page, and the first write then replaces that mapping, which makes the kernel flush the
    /// TLB of every core running a thread of ztel (an inter-processor interrupt each, costly in
    /// a VM): that took a third of a shard's CPU while 10,000 devices arrived. Written first,
    /// the page is simply handed over.
    pub(super) fn touch(&mut self, index: usize) {
        let base = self.buckets.as_ptr() as usize;
        for (page, word, mask) in pages(base, index) {
            if self.written[word] & mask != 0 {
                continue;
            }
            self.written[word] |= mask;
            // The page's first word of the cache: zero, since nothing wrote that page yet.
            let at = (page * PAGE).max(base) - base;
            let w = at / 8;
            let per_bucket = WAYS * WORDS;
            self.buckets[w / per_bucket][w % per_bucket / WORDS][w % WORDS] = 0;
        }
    }

    /// Whether every page of bucket `index` was written first ([`touch`](Self::touch)).
    pub(super) fn is_written(&self, index: usize) -> bool {
        pages(self.buckets.as_ptr() as usize, index)
            .all(|(_, word, mask)| self.written[word] & mask != 0)
    }
}
