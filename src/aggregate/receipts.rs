//! The receipts of batches whose senders wait for their records to be safe (see
//! [`Receipt`]), signed in the order their records were taken.

use std::collections::VecDeque;

use crate::batch::receipt::Receipt;

/// Past this many receipts waiting, those no sender waits for are let go wherever they are.
const LET_GO_PAST: usize = 1024;

/// Receipts not signed yet, each with where its batch's records end in what the records sink
/// took and its dead letters in what the dead-letter sink took: the batch is safe once the safe
/// bytes of both reach those ends (a body of bad lines only is acknowledged all the same, and
/// Cloud NSS will not send it again either).
#[derive(Default)]
pub struct Receipts {
    waiting: VecDeque<(Ends, Receipt)>,
}

/// Where a batch ends in what the records sink and the dead-letter sink took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Ends {
    pub records: u64,
    pub dead_letters: u64,
}

impl Ends {
    /// Whether everything up to these ends is within `safe`.
    fn within(self, safe: Ends) -> bool {
        self.records <= safe.records && self.dead_letters <= safe.dead_letters
    }
}

impl Receipts {
    /// A batch whose records end at `end` of what the records sink took. Receipts whose senders
    /// gave up are let go first: while a disk stays full, Cloud NSS retries the same body every
    /// few seconds, each retry a receipt, and none is signed until the disk has room.
    pub fn push(&mut self, end: Ends, receipt: Receipt) {
        while self.waiting.front().is_some_and(|(_, r)| r.is_abandoned()) {
            self.waiting.pop_front();
        }
        if self.waiting.len() >= LET_GO_PAST {
            self.waiting.retain(|(_, r)| !r.is_abandoned());
        }
        self.waiting.push_back((end, receipt));
    }

    /// Signs the receipts of the batches whose records and dead letters are all within `safe`.
    /// Both ends only grow from one batch to the next: the front is the first to be safe.
    pub fn sign_through(&mut self, safe: Ends) {
        while let Some((end, receipt)) = self.waiting.front() {
            if !end.within(safe) {
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
        let at = |records| Ends {
            records,
            dead_letters: 0,
        };
        for end in 0..10_000 {
            // The sender's copy dropped at once: it answered 503 and went.
            receipts.push(at(end), Receipt::default());
        }
        assert!(receipts.waiting.len() <= 1, "{}", receipts.waiting.len());
        let kept = Receipt::default();
        receipts.push(at(10_000), kept.clone());
        for end in 10_001..12_000 {
            receipts.push(at(end), Receipt::default());
        }
        assert!(
            receipts.waiting.len() <= LET_GO_PAST,
            "{}",
            receipts.waiting.len()
        );
        receipts.sign_through(at(u64::MAX));
        assert!(kept.is_signed());
    }

    #[test]
    fn a_receipt_is_signed_once_its_records_are_safe_and_not_before() {
        let mut receipts = Receipts::default();
        let (first, second) = (Receipt::default(), Receipt::default());
        let at = |records, dead_letters| Ends {
            records,
            dead_letters,
        };
        receipts.push(at(100, 0), first.clone());
        receipts.push(at(250, 40), second.clone());
        receipts.sign_through(at(99, 40));
        assert!(!first.is_signed() && !second.is_signed());
        receipts.sign_through(at(100, 0));
        assert!(first.is_signed() && !second.is_signed());
        receipts.sign_through(at(u64::MAX, 39));
        assert!(!second.is_signed(), "its dead letters are not written yet");
        receipts.sign_through(at(u64::MAX, 40));
        assert!(second.is_signed());
    }
}
