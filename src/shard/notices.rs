//! Log lines about peers (refused for their address, over the connection limit, failed TLS
//! handshakes) at most once a second per kind and shard: a flood of refused connections is when
//! an operator needs the line naming the address, and when an unlimited log would bury it.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// What a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Refused,
    OverLimit,
    Handshake,
}

const EVERY: Duration = Duration::from_secs(1);

/// Per kind: when the last line went out, and how many were held back since.
#[derive(Debug, Default)]
pub struct Notices {
    last: [Cell<Option<Instant>>; 3],
    held: [Cell<u64>; 3],
}

impl Notices {
    /// `Some(n)` when a line is due now, `n` being the events of this kind left unlogged since
    /// the last line; `None` when this one is held back (and counted for the next line).
    pub fn due(&self, notice: Notice) -> Option<u64> {
        self.due_at(notice, Instant::now())
    }

    fn due_at(&self, notice: Notice, now: Instant) -> Option<u64> {
        let i = notice as usize;
        let due = self.last[i]
            .get()
            .is_none_or(|last| now.saturating_duration_since(last) >= EVERY);
        if !due {
            self.held[i].set(self.held[i].get() + 1);
            return None;
        }
        self.last[i].set(Some(now));
        Some(self.held[i].replace(0))
    }
}

/// The tail of a line that stood for others: "" or " (and 41 more since the last line)".
pub fn and_more(held: u64) -> String {
    if held == 0 {
        String::new()
    } else {
        format!(" (and {held} more since the last line)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_per_kind_carrying_what_it_held_back() {
        let notices = Notices::default();
        let t0 = Instant::now();
        assert_eq!(notices.due_at(Notice::Refused, t0), Some(0));
        for ms in [1, 500, 999] {
            assert_eq!(
                notices.due_at(Notice::Refused, t0 + Duration::from_millis(ms)),
                None
            );
        }
        // Another kind has its own second.
        assert_eq!(notices.due_at(Notice::Handshake, t0), Some(0));
        assert_eq!(notices.due_at(Notice::Refused, t0 + EVERY), Some(3));
        assert_eq!(notices.due_at(Notice::Refused, t0 + EVERY * 3), Some(0));
        assert_eq!(and_more(0), "");
        assert_eq!(and_more(3), " (and 3 more since the last line)");
    }
}
