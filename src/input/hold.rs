//! When a stream connection keeps a read's records back instead of handing them over at once.
//!
//! Every batch costs both threads a fixed amount (a channel hand-off, often a wake-up, clock
//! reads, a sink write), and every read costs the shard a system call. A peer that sends a line
//! per packet would pay both per line. Holding amortises that, but a held record is a late one:
//! a fixed hold of milliseconds cost the p99 of read→sink at moderate rates. So the hold follows
//! the peer's rate:
//!
//! - a batch is held only while the peer sends fast enough that more bytes are due well within
//!   [`AT_MOST`] (a lone record, or a slow feed, goes at once: waiting would gain nothing);
//! - a batch goes once it holds [`FULL`] bytes of records, or its first record is [`AT_MOST`]
//!   old, or no bytes came within what is left of that;
//! - after a small read (a peer that sends a record per packet, read as fast as it sends) the
//!   connection pauses about as long as the peer takes to send a [`FULL`] batch, never past
//!   [`AT_MOST`], so that the next read takes many packets in one system call.
//!
//! At a high rate reads fill the buffer, batches are [`FULL`] at once and nothing waits; at a low
//! one every read is its own batch, which costs little because there are few. In between the
//! wait is bounded by [`AT_MOST`].

use std::time::{Duration, Instant};

/// A batch with this many bytes of records goes at once: its fixed cost is already small
/// against its records'.
pub const FULL: usize = 32 << 10;
/// The longest a held batch's first record waits. Part of the read→sink budget (p99 ≤ 1 ms at
/// half load, issue 12), with the channel, the aggregator and the sink write.
pub const AT_MOST: Duration = Duration::from_micros(250);
/// A read of fewer bytes than this (a few records) is followed by a pause before the next:
/// reading packet by packet cost loggen's one-line packets a quarter of the events per CPU-second
/// (perf/README.md).
pub const SMALL_READ: usize = 4 << 10;
/// A batch is held only when at least this many bytes are due from the peer before [`AT_MOST`]:
/// about a record. Less, and the hold would only delay what is held.
const WORTH: f64 = 1024.0;
/// The shortest wait for bytes worth setting a read timeout for: a shorter one goes at once.
const MIN_WAIT: Duration = Duration::from_micros(20);
/// Longer gaps between reads count as this long: one quiet hour must not take the estimate
/// dozens of reads to forget once the peer is busy again.
const GAP_CAP: Duration = Duration::from_millis(10);
/// Weight of the newest read in the smoothed figures.
const ALPHA: f64 = 0.25;

/// What to do with the batch after a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it over now.
    Send,
    /// Keep it: sleep `pause` (zero for none), then wait at most `wait` for more bytes, and send
    /// it if none come.
    Hold { pause: Duration, wait: Duration },
}

/// One connection's recent rate, and the policy that follows from it.
#[derive(Debug, Clone, Default)]
pub struct Hold {
    last_read: Option<Instant>,
    /// Smoothed bytes per read and seconds between reads; their ratio is the peer's rate.
    bytes: f64,
    gap: f64,
}

impl Hold {
    /// Notes a read of `n` bytes that completed at `now`.
    pub fn read(&mut self, n: usize, now: Instant) {
        let Some(last) = self.last_read.replace(now) else {
            // A first read says nothing about the rate: it stays zero, and the batch goes.
            return;
        };
        let gap = now
            .saturating_duration_since(last)
            .min(GAP_CAP)
            .as_secs_f64();
        if self.bytes == 0.0 {
            self.bytes = n as f64;
            self.gap = gap;
        } else {
            self.bytes += ALPHA * (n as f64 - self.bytes);
            self.gap += ALPHA * (gap - self.gap);
        }
    }

    /// The peer's recent rate in bytes per second; zero until two reads were seen.
    pub fn rate(&self) -> f64 {
        if self.gap > 0.0 {
            self.bytes / self.gap
        } else if self.bytes > 0.0 {
            // Two reads at the same instant: as fast as it gets.
            f64::INFINITY
        } else {
            0.0
        }
    }

    /// Whether to send or hold a batch of `held` bytes of records whose first bytes were read
    /// `age` ago, after a read of `n` bytes.
    pub fn verdict(&self, n: usize, held: usize, age: Duration) -> Verdict {
        if held >= FULL {
            return Verdict::Send;
        }
        let left = AT_MOST.saturating_sub(age);
        if left < MIN_WAIT {
            return Verdict::Send;
        }
        let rate = self.rate();
        if rate * left.as_secs_f64() < WORTH {
            return Verdict::Send;
        }
        let pause = if n < SMALL_READ {
            // Long enough for the peer to send the rest of a full batch, if it keeps its rate.
            let rest = FULL.saturating_sub(held.max(n));
            Duration::from_secs_f64(rest as f64 / rate).min(left)
        } else {
            Duration::ZERO
        };
        Verdict::Hold {
            pause,
            wait: left.saturating_sub(pause).max(MIN_WAIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    /// A hold that saw reads of `n` bytes every `every`, `reads` times, starting at `t0`.
    fn after(t0: Instant, n: usize, every: Duration, reads: u32) -> (Hold, Instant) {
        let mut hold = Hold::default();
        let mut t = t0;
        for _ in 0..reads {
            hold.read(n, t);
            t += every;
        }
        (hold, t - every)
    }

    #[test]
    fn a_first_read_goes_at_once() {
        let mut hold = Hold::default();
        hold.read(300, Instant::now());
        assert_eq!(hold.rate(), 0.0);
        assert_eq!(hold.verdict(300, 500, Duration::ZERO), Verdict::Send);
    }

    #[test]
    fn a_lone_record_after_a_quiet_spell_goes_at_once() {
        let t0 = Instant::now();
        // Busy once, then a second of silence, then one record.
        let (mut hold, t) = after(t0, 8 << 10, 50 * US, 40);
        hold.read(700, t + Duration::from_secs(1));
        assert_eq!(hold.verdict(700, 1000, Duration::ZERO), Verdict::Send);
    }

    #[test]
    fn a_slow_feed_is_never_held() {
        // A record of 700 bytes every 2 ms: 350 KB/s, under a record per AT_MOST.
        let (hold, _) = after(Instant::now(), 700, 2000 * US, 20);
        assert_eq!(hold.verdict(700, 1000, Duration::ZERO), Verdict::Send);
    }

    #[test]
    fn a_busy_peer_is_held_without_a_pause_while_its_reads_are_large() {
        // 8 KB every 50 µs: 160 MB/s, the half-load case of issue 12.
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert!(
            (hold.rate() - 8192.0 / 50e-6).abs() < 1.0,
            "{}",
            hold.rate()
        );
        assert_eq!(
            hold.verdict(8 << 10, 12 << 10, 50 * US),
            Verdict::Hold {
                pause: Duration::ZERO,
                wait: 200 * US
            }
        );
    }

    #[test]
    fn a_full_batch_goes_whatever_the_rate() {
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert_eq!(hold.verdict(8 << 10, FULL, Duration::ZERO), Verdict::Send);
    }

    #[test]
    fn no_record_is_held_past_at_most() {
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert_eq!(hold.verdict(8 << 10, 1000, AT_MOST), Verdict::Send);
        assert_eq!(
            hold.verdict(8 << 10, 1000, AT_MOST - MIN_WAIT / 2),
            Verdict::Send
        );
        // Whatever the pause and the wait, they end by AT_MOST (or MIN_WAIT after it).
        for age in [0, 10, 100, 200, 229] {
            let age = age * US;
            match hold.verdict(100, 1000, age) {
                Verdict::Hold { pause, wait } => {
                    assert!(age + pause + wait <= AT_MOST + MIN_WAIT, "{age:?}")
                }
                Verdict::Send => panic!("sent at {age:?}"),
            }
        }
    }

    #[test]
    fn a_record_per_packet_pauses_for_the_rest_of_a_full_batch() {
        // 1 KB every 4 µs (250,000 lines a second, a packet each): the 30 KB a batch lacks take
        // about 120 µs.
        let (hold, _) = after(Instant::now(), 1024, 4 * US, 20);
        let Verdict::Hold { pause, wait } = hold.verdict(1024, 2048, Duration::ZERO) else {
            panic!("sent");
        };
        assert!(pause > 115 * US && pause < 125 * US, "{pause:?}");
        assert_eq!(pause + wait, AT_MOST);
    }

    #[test]
    fn a_pause_never_outlasts_the_hold() {
        // 1 KB every 200 µs: 5 MB/s, worth holding for, but a full batch would take 6 ms.
        let (hold, _) = after(Instant::now(), 1024, 200 * US, 20);
        assert_eq!(
            hold.verdict(1024, 1500, Duration::ZERO),
            Verdict::Hold {
                pause: AT_MOST,
                wait: MIN_WAIT
            }
        );
    }

    #[test]
    fn the_rate_forgets_a_quiet_hour_within_a_few_reads() {
        let t0 = Instant::now();
        let (mut hold, t) = after(t0, 8 << 10, 50 * US, 40);
        let mut t = t + Duration::from_secs(3600);
        hold.read(8 << 10, t);
        for _ in 0..12 {
            t += 50 * US;
            hold.read(8 << 10, t);
        }
        assert!(matches!(
            hold.verdict(8 << 10, 8 << 10, Duration::ZERO),
            Verdict::Hold { .. }
        ));
    }

    #[test]
    fn reads_at_the_same_instant_count_as_fast() {
        let t = Instant::now();
        let mut hold = Hold::default();
        hold.read(100, t);
        hold.read(100, t);
        assert_eq!(hold.rate(), f64::INFINITY);
        assert_eq!(
            hold.verdict(100, 200, Duration::ZERO),
            Verdict::Hold {
                pause: Duration::ZERO,
                wait: AT_MOST
            }
        );
    }
}
