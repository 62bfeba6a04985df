//! Log lines about peers (refused for their address, over the connection limit, failed TLS
//! handshakes, TLS clients with a certificate connected, HTTP requests with a wrong or no key,
//! failed accepts)
//! at most once a second per kind, input and shard (a line that stood for others of another
//! input named the wrong one): a flood of refused connections is when an operator needs the
//! line naming the address, and when an unlimited log would bury it.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::batch::Source;

/// What a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Refused,
    /// An open connection a reload no longer admits (its address, its client certificate),
    /// ended: held apart from refusals at accept, whose held count says "not in allowed_ips".
    Cut,
    OverLimit,
    Handshake,
    /// A TLS client that showed a certificate connected.
    Connected,
    /// An HTTP request refused for its key (401 or 403).
    Unauthorized,
    /// An accept that failed (no file descriptor left): retried every few milliseconds.
    AcceptFailed,
}

const EVERY: Duration = Duration::from_secs(1);

impl Notice {
    const ALL: [Notice; 7] = [
        Notice::Refused,
        Notice::Cut,
        Notice::OverLimit,
        Notice::Handshake,
        Notice::Connected,
        Notice::Unauthorized,
        Notice::AcceptFailed,
    ];
}

/// Per kind and input.
#[derive(Debug, Default)]
pub struct Notices {
    slots: [[Slot; Source::COUNT]; Notice::ALL.len()],
}

/// When the last line of a kind and input went out, and how many were held back since.
#[derive(Debug, Default)]
struct Slot {
    last: Cell<Option<Instant>>,
    held: Cell<u64>,
}

impl Slot {
    /// Whether the last line went out `age` or more before `now` (never: `none`).
    fn older(&self, now: Instant, age: Duration, none: bool) -> bool {
        let last = self.last.get();
        last.map_or(none, |last| now.saturating_duration_since(last) >= age)
    }

    /// The count held back, taken, the line that says it going out `now`.
    fn take(&self, now: Instant) -> u64 {
        self.last.set(Some(now));
        self.held.replace(0)
    }
}

impl Notices {
    /// `Some(n)` when a line is due now, `n` being the events of this kind left unlogged since
    /// the last line; `None` when this one is held back (and counted for the next line).
    pub fn due(&self, notice: Notice, input: Source) -> Option<u64> {
        self.due_at(notice, input, Instant::now())
    }

    fn due_at(&self, notice: Notice, input: Source, now: Instant) -> Option<u64> {
        let slot = &self.slots[notice as usize][input as usize];
        if !slot.older(now, EVERY, true) {
            slot.held.set(slot.held.get() + 1);
            return None;
        }
        Some(slot.take(now))
    }

    /// Says in a line each count held back for a second or more, as the line it waited for
    /// would have: without it, events held back were said only with the next one of their kind
    /// and input, minutes later or never.
    pub fn say_overdue(&self) {
        self.say(self.overdue_at(Instant::now(), EVERY));
    }

    /// Says every count held back, however recent: the shard's last word, as it drains.
    pub fn say_held(&self) {
        self.say(self.overdue_at(Instant::now(), Duration::ZERO));
    }

    fn say(&self, overdue: Vec<(Notice, Source, u64)>) {
        for (notice, input, held) in overdue {
            let section = input.section();
            let what = match notice {
                Notice::Refused => {
                    // A refused datagram is one, whoever sent it; so is a connection.
                    let what = match input {
                        Source::Udp => "datagrams",
                        _ => "connections",
                    };
                    format!("refused {held} more {what} from peers not in {section}.allowed_ips")
                }
                Notice::Cut => {
                    format!("closed {held} more connections a reload no longer admits")
                }
                Notice::OverLimit => {
                    format!("refused {held} more connections over limits.max_connections")
                }
                Notice::Handshake => format!("{held} more TLS handshakes failed"),
                Notice::Connected => format!("{held} more TLS clients connected"),
                Notice::Unauthorized => {
                    format!("refused {held} more requests for their key (401/403)")
                }
                Notice::AcceptFailed => format!("{held} more accepts failed"),
            };
            // Connected clients are news, not trouble.
            match notice {
                Notice::Connected => tracing::info!("{section}: {what} since the last line"),
                _ => tracing::warn!("{section}: {what} since the last line"),
            }
        }
    }

    /// The counts held back whose last line is `age` old or more, each taken (and the line said
    /// now counts as the last).
    fn overdue_at(&self, now: Instant, age: Duration) -> Vec<(Notice, Source, u64)> {
        let mut overdue = Vec::new();
        for notice in Notice::ALL {
            for input in Source::ALL {
                let slot = &self.slots[notice as usize][input as usize];
                if slot.held.get() > 0 && slot.older(now, age, false) {
                    overdue.push((notice, input, slot.take(now)));
                }
            }
        }
        overdue
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
    fn one_line_a_second_per_kind_and_input_carrying_what_it_held_back() {
        let notices = Notices::default();
        let t0 = Instant::now();
        let tcp = |notice, at| notices.due_at(notice, Source::Tcp, at);
        assert_eq!(tcp(Notice::Refused, t0), Some(0));
        for ms in [1, 500, 999] {
            assert_eq!(tcp(Notice::Refused, t0 + Duration::from_millis(ms)), None);
        }
        // Another kind, or another input, has its own second: refusals on HTTP are not held
        // back into a later line about TCP (found by a tester).
        assert_eq!(tcp(Notice::Handshake, t0), Some(0));
        // A connection a reload ended is not held into a line about refusals at accept, which
        // says "not in allowed_ips" (found by a re-audit: a client cut for its certificate was
        // counted there).
        assert_eq!(tcp(Notice::Cut, t0), Some(0));
        assert_eq!(notices.due_at(Notice::Refused, Source::Http, t0), Some(0));
        let http = notices.due_at(Notice::Refused, Source::Http, t0 + Duration::from_millis(5));
        assert_eq!(http, None);
        assert_eq!(tcp(Notice::Refused, t0 + EVERY), Some(3));
        assert_eq!(tcp(Notice::Refused, t0 + EVERY * 3), Some(0));
        assert_eq!(
            notices.due_at(Notice::Refused, Source::Http, t0 + EVERY),
            Some(1)
        );
        // What is held back is said within a second or so even when nothing else comes.
        let last = t0 + EVERY;
        let http = |at| notices.due_at(Notice::Refused, Source::Http, at);
        assert_eq!(http(last + Duration::from_millis(5)), None);
        assert_eq!(notices.overdue_at(last + EVERY / 2, EVERY), vec![]);
        let overdue = vec![(Notice::Refused, Source::Http, 1)];
        assert_eq!(notices.overdue_at(last + EVERY, EVERY), overdue);
        assert_eq!(notices.overdue_at(last + EVERY * 2, EVERY), vec![]);
        assert_eq!(http(last + EVERY * 2), Some(0));
        // As the shard drains, whatever is held is said at once.
        assert_eq!(http(last + EVERY * 2), None);
        let drained = notices.overdue_at(last + EVERY * 2, Duration::ZERO);
        assert_eq!(drained, vec![(Notice::Refused, Source::Http, 1)]);
        assert_eq!(and_more(0), "");
        assert_eq!(and_more(3), " (and 3 more since the last line)");
    }
}
