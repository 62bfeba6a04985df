//! The receipts of batches whose senders wait for their records to be safe (see
//! [`Receipt`]), signed in the order their records were taken.

use std::collections::VecDeque;

use crate::batch::receipt::Receipt;

/// Receipts not signed yet, each with where its batch's records end in what the records sink
/// took: the records are safe once the safe bytes reach that end.
#[derive(Default)]
pub struct Receipts {
    waiting: VecDeque<(u64, Receipt)>,
}

impl Receipts {
    /// A batch whose records end at `end` of what the records sink took.
    pub fn push(&mut self, end: u64, receipt: Receipt) {
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
