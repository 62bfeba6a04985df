//! The receipts of batches whose senders wait for their records to be safe (see
//! [`Receipt`]), signed in the order their records were taken.

use std::collections::VecDeque;

use crate::batch::receipt::Receipt;

/// Past this many receipts waiting, those no sender waits for are let go wherever they are.
const LET_GO_PAST: usize = 1024;

/// Receipts not signed yet, each with where its batch's records end in what the records sink
/// took: the records are safe once the safe bytes reach that end.
#[derive(Default)]
pub struct Receipts {
    waiting: VecDeque<(u64, Receipt)>,
}

impl Receipts {
    /// A batch whose records end at `end` of what the records sink took. Receipts whose senders
    /// gave up are let go first: while a disk stays full, Cloud NSS retries the same body every
    /// few seconds, each retry a receipt, and none is signed until the disk has room.
    pub fn push(&mut self, end: u64, receipt: Receipt) {
        while self.waiting.front().is_some_and(|(_, r)| r.is_abandoned()) {
            self.waiting.pop_front();
        }
        if self.waiting.len() >= LET_GO_PAST {
            self.waiting.retain(|(_, r)| !r.is_abandoned());
        }
        self.waiting.push_back((end, receipt));
    }

    /// Signs the receipts of the batches whose records are all in the first `safe` bytes.
    pub fn sign_through(&mut self, safe: u64) {
        while let Some((end, receipt)) = self.waiting.front() {
            if *end > safe {
                break;
            }
            receipt.sign();
            self.waiting.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_no_sender_waits_for_are_let_go() {
        let mut receipts = Receipts::default();
        for end in 0..10_000 {
            // The sender's copy dropped at once: it answered 503 and went.
            receipts.push(end, Receipt::default());
        }
        assert!(receipts.waiting.len() <= 1, "{}", receipts.waiting.len());
        let kept = Receipt::default();
        receipts.push(10_000, kept.clone());
        for end in 10_001..12_000 {
            receipts.push(end, Receipt::default());
        }
        assert!(
            receipts.waiting.len() <= LET_GO_PAST,
            "{}",
            receipts.waiting.len()
        );
        receipts.sign_through(u64::MAX);
        assert!(kept.is_signed());
    }

    #[test]
    fn a_receipt_is_signed_once_its_records_are_safe_and_not_before() {
        let mut receipts = Receipts::default();
        let (first, second) = (Receipt::default(), Receipt::default());
        receipts.push(100, first.clone());
        receipts.push(250, second.clone());
        receipts.sign_through(99);
        assert!(!first.is_signed() && !second.is_signed());
        receipts.sign_through(100);
        assert!(first.is_signed() && !second.is_signed());
        receipts.sign_through(u64::MAX);
        assert!(second.is_signed());
    }
}
