//! When a stream connection keeps a read's records back instead of handing them over at once,
//! and when it waits before its next read.
//!
//! Every batch costs both threads a fixed amount (a channel hand-off, often a wake-up, clock
//! reads, a sink write), and every read costs the shard a wake-up and system calls: on the 2-core
//! VM of perf/README.md about 35 µs of shard CPU and 15 µs of aggregator CPU, 30 times a record's
//! parsing. A peer that sends a few records per packet would pay that per packet: at 10,000
//! records a second ztel then spent 23 µs of CPU per record. Waiting amortises it, but a record
//! that waits is a late one: a fixed hold of milliseconds cost the p99 of read→sink at moderate
//! rates. So the wait follows the peer's rate:
//!
//! - a peer has a rate only once it has sent for [`AT_MOST`] without a pause of [`QUIET`]: a
//!   lone record, even in pieces, or a slow feed, goes at once (waiting would gain nothing);
//! - a batch is held only while more bytes are due well within [`AT_MOST`];
//! - a batch goes once it was read from [`FULL`] bytes, or its first record is [`AT_MOST`] old,
//!   or no bytes came within what is left of that;
//! - while a batch is held, and after a batch went, the connection sleeps until the peer has
//!   sent a little more than a [`FULL`] batch since the last read (the parsing in between
//!   counts), never past [`AT_MOST`] after it, and then reads what came: one wake-up and one
//!   read for many packets, where waiting for readiness would wake the shard for every packet.
//!   Not after a read that filled the buffer: the kernel may hold more already.
//!
//! At a high rate reads fill the buffer, batches are [`FULL`] at once and nothing waits; at a low
//! one every read is its own batch, which costs little because there are few. In between the
//! wait is bounded by [`AT_MOST`]. A batch's clock starts when its first bytes could have come:
//! at the read before the sleep, which emptied the kernel's queue (see `conn.rs`, which lets a
//! TLS connection sleep only once rustls, which reads 4 KiB at a time, has taken all of it).

use std::time::{Duration, Instant};

/// A batch read from this many bytes goes at once: its fixed cost is already small against its
/// records'. It also sets the sleep at half load, where it is the larger part of read→sink:
/// at half of one shard's maximum on the 2-core VM of perf/README.md (120 to 125 MB/s) the aim
/// comes in about 250 µs. With 32 KiB read→sink p99 was 700 to 860 µs on quiet runs, and over
/// 1 ms on Sekoia-template lines; with 24 KiB 530 to 720 µs, for a third more batches at that
/// rate and no CPU per event that the VM's noise lets one see (perf/README.md, "Latency").
pub const FULL: usize = 24 << 10;
/// What a sleep before a read aims to find: a little more than [`FULL`], so that the read after
/// it usually completes a batch, where the rate's jitter would otherwise leave it a little short
/// and cost a second sleep for the rest.
const AIM: usize = FULL + FULL / 4;
/// The longest a batch's first record waits on the shard. Part of the read→sink budget (p99 ≤
/// 1 ms, issue 12), with parsing, the channel and the aggregator: at 50,000 Sekoia-template
/// records a second with device churn, p99 is about 1 ms with 500 µs here, and was 1.0 to
/// 1.5 ms with 700 µs (a clock from the sleep's start, which counts less).
/// At half load a batch is [`FULL`] well before; below it this bounds how often a busy
/// connection wakes the shard (perf/README.md, "Where the time goes").
pub const AT_MOST: Duration = Duration::from_micros(500);
/// A batch is held only when at least this many bytes are due from the peer before [`AT_MOST`]:
/// about a record. Less, and the hold would only delay what is held.
const WORTH: f64 = 1024.0;
/// The shortest wait for bytes worth setting a read timeout for: a shorter one goes at once.
const MIN_WAIT: Duration = Duration::from_micros(20);
/// A longer gap between reads means the peer paused: the estimate starts over, so that a lone
/// record after a busy spell goes at once (a steady peer is read at least every [`AT_MOST`]).
const QUIET: Duration = AT_MOST.saturating_mul(2);
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
    /// The first read since the peer last paused.
    busy_since: Option<Instant>,
    /// Smoothed bytes per read and seconds between reads; their ratio is the peer's rate.
    bytes: f64,
    gap: f64,
}

impl Hold {
    /// Notes a read of `n` bytes that completed at `now`.
    pub fn read(&mut self, n: usize, now: Instant) {
        let gap = match self.last_read.replace(now) {
            Some(last) if now.saturating_duration_since(last) <= QUIET => {
                now.saturating_duration_since(last).as_secs_f64()
            }
            // A first read, or the first after a pause, says nothing about the rate.
            _ => {
                (self.bytes, self.gap) = (0.0, 0.0);
                self.busy_since = Some(now);
                return;
            }
        };
        if self
            .busy_since
            .is_some_and(|t| now.saturating_duration_since(t) < AT_MOST)
        {
            // Reads close together for less than AT_MOST are no rate yet: the pieces of a lone
            // record, or of a short burst, go at once.
            return;
        }
        if self.bytes == 0.0 {
            self.bytes = n as f64;
            self.gap = gap;
        } else {
            self.bytes += ALPHA * (n as f64 - self.bytes);
            self.gap += ALPHA * (gap - self.gap);
        }
    }

    /// Time the connection spent not reading for reasons of its own (a full channel): not a
    /// pause of the peer's.
    pub fn waited(&mut self, d: Duration) {
        if let Some(last) = &mut self.last_read {
            *last += d;
        }
    }

    /// The peer's recent rate in bytes per second; zero until it has sent for [`AT_MOST`]
    /// without pausing.
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

    /// Whether to send or hold a batch read from `held` bytes whose first bytes were read (or
    /// could have come) `age` ago, after a read that `filled` the buffer or not and ended
    /// `since_read` ago (what parsing it took).
    pub fn verdict(
        &self,
        held: usize,
        age: Duration,
        filled: bool,
        since_read: Duration,
    ) -> Verdict {
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
        let pause = if filled {
            // The kernel may hold more already.
            Duration::ZERO
        } else {
            // Until the peer has sent the rest of a full batch, if it keeps its rate: counted
            // from the read, which emptied the kernel's queue, not from now.
            let rest = AIM.saturating_sub(held);
            Duration::from_secs_f64(rest as f64 / rate)
                .saturating_sub(since_read)
                .min(left)
        };
        Verdict::Hold {
            pause,
            wait: left.saturating_sub(pause).max(MIN_WAIT),
        }
    }

    /// How long to sleep before the next read, after a batch went whose last read ended
    /// `since_read` ago. Zero when that read `filled` the buffer (the kernel may hold more
    /// already), or the peer's rate brings less than a record within [`AT_MOST`] (then the read
    /// waits for bytes as usual), or a full batch has come already.
    ///
    /// The bytes of the next batch have been coming since that read emptied the kernel's queue,
    /// through the parsing and the hand-off: a sleep of the whole [`AIM`] from now made batches
    /// of [`AIM`] plus a parse's worth, and each waited that much longer (with 32 KiB batches at
    /// 145,000 records a second: 61 KB and read→sink p50 890 µs, where 40 KB were aimed at).
    pub fn next_read(&self, filled: bool, since_read: Duration) -> Duration {
        let rate = self.rate();
        if filled || rate * AT_MOST.as_secs_f64() < WORTH {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(AIM as f64 / rate)
            .min(AT_MOST)
            .saturating_sub(since_read)
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
        // (And the reads after it, until the peer has sent for AT_MOST: see below.)
        let mut hold = Hold::default();
        hold.read(300, Instant::now());
        assert_eq!(hold.rate(), 0.0);
        assert_eq!(
            hold.verdict(500, Duration::ZERO, false, Duration::ZERO),
            Verdict::Send
        );
    }

    #[test]
    fn a_lone_record_after_a_quiet_spell_goes_at_once() {
        let t0 = Instant::now();
        // Busy once, then silence a little longer than a steady peer's reads are apart, then
        // one record: it goes, and the read after it waits for bytes.
        for silence in [QUIET + US, Duration::from_secs(1)] {
            let (mut hold, t) = after(t0, 8 << 10, 50 * US, 40);
            hold.read(700, t + silence);
            assert_eq!(
                hold.verdict(1000, Duration::ZERO, false, Duration::ZERO),
                Verdict::Send
            );
            assert_eq!(hold.next_read(false, Duration::ZERO), Duration::ZERO);
        }
    }

    #[test]
    fn a_slow_feed_is_never_held() {
        // A record of 700 bytes every 2 ms: 350 KB/s, under a record per AT_MOST.
        let (hold, _) = after(Instant::now(), 700, 2000 * US, 20);
        assert_eq!(
            hold.verdict(1000, Duration::ZERO, false, Duration::ZERO),
            Verdict::Send
        );
    }

    #[test]
    fn a_busy_peer_is_read_again_once_the_rest_of_a_batch_is_due() {
        // 6 KiB every 50 µs: 123 MB/s, the half-load case of issue 12. The 18 KiB that a batch
        // read from 12 KiB lacks to the aim take 150 µs.
        let (hold, _) = after(Instant::now(), 6 << 10, 50 * US, 20);
        assert!(
            (hold.rate() - 6144.0 / 50e-6).abs() < 1.0,
            "{}",
            hold.rate()
        );
        assert_eq!(
            hold.verdict(12 << 10, 50 * US, false, Duration::ZERO),
            Verdict::Hold {
                pause: 150 * US,
                wait: AT_MOST - 50 * US - 150 * US
            }
        );
    }

    #[test]
    fn after_a_batch_a_steady_peer_is_read_once_the_next_is_due() {
        // 6 KiB every 50 µs: a full batch every 200 µs, the aim every 250 µs.
        let (hold, _) = after(Instant::now(), 6 << 10, 50 * US, 20);
        assert_eq!(hold.next_read(false, Duration::ZERO), 250 * US);
        // A read that filled the buffer left more in the kernel: read on at once.
        assert_eq!(hold.next_read(true, Duration::ZERO), Duration::ZERO);
        // 1 KiB every 100 µs: a full batch would take 2.4 ms, so the sleep ends at AT_MOST.
        let (hold, _) = after(Instant::now(), 1024, 100 * US, 20);
        assert_eq!(hold.next_read(false, Duration::ZERO), AT_MOST);
        // Slower than a record per AT_MOST, or a first read: wait for bytes as usual.
        let (hold, _) = after(Instant::now(), 700, 2000 * US, 20);
        assert_eq!(hold.next_read(false, Duration::ZERO), Duration::ZERO);
        let (hold, _) = after(Instant::now(), 6 << 10, 50 * US, 1);
        assert_eq!(hold.next_read(false, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn the_sleeps_count_from_the_read_not_from_the_end_of_its_parsing() {
        // 6 KiB every 50 µs, as above. Parsing and handing over the batch took 100 µs after its
        // read emptied the kernel's queue: the next batch is due 150 µs later, not 250.
        let (hold, _) = after(Instant::now(), 6 << 10, 50 * US, 20);
        assert_eq!(hold.next_read(false, 100 * US), 150 * US);
        // The aim was reached while parsing: read at once.
        assert_eq!(hold.next_read(false, 300 * US), Duration::ZERO);
        // A slow peer's sleep ends at AT_MOST after the read, wherever the parsing ended.
        let (slow, _) = after(Instant::now(), 1024, 100 * US, 20);
        assert_eq!(slow.next_read(false, 100 * US), AT_MOST - 100 * US);
        // A held batch lacks 18 KiB (150 µs), and its read was 75 µs ago: 75 µs to go.
        assert_eq!(
            hold.verdict(12 << 10, 50 * US, false, 75 * US),
            Verdict::Hold {
                pause: 75 * US,
                wait: AT_MOST - 50 * US - 75 * US
            }
        );
    }

    #[test]
    fn a_full_batch_goes_whatever_the_rate() {
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert_eq!(
            hold.verdict(FULL, Duration::ZERO, false, Duration::ZERO),
            Verdict::Send
        );
    }

    #[test]
    fn a_read_that_filled_the_buffer_is_followed_by_another_at_once() {
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert_eq!(
            hold.verdict(1000, Duration::ZERO, true, Duration::ZERO),
            Verdict::Hold {
                pause: Duration::ZERO,
                wait: AT_MOST
            }
        );
    }

    #[test]
    fn no_record_is_held_past_at_most() {
        let (hold, _) = after(Instant::now(), 8 << 10, 50 * US, 20);
        assert_eq!(
            hold.verdict(1000, AT_MOST, false, Duration::ZERO),
            Verdict::Send
        );
        assert_eq!(
            hold.verdict(1000, AT_MOST - MIN_WAIT / 2, false, Duration::ZERO),
            Verdict::Send
        );
        // Whatever the pause and the wait, they end by AT_MOST (or MIN_WAIT after it).
        let last = AT_MOST - MIN_WAIT - US;
        for age in [Duration::ZERO, 10 * US, 100 * US, AT_MOST / 2, last] {
            match hold.verdict(1000, age, false, Duration::ZERO) {
                Verdict::Hold { pause, wait } => {
                    assert!(age + pause + wait <= AT_MOST + MIN_WAIT, "{age:?}")
                }
                Verdict::Send => panic!("sent at {age:?}"),
            }
        }
    }

    #[test]
    fn a_record_per_packet_pauses_for_the_rest_of_a_full_batch() {
        // 1 KiB every 4 µs (250,000 lines a second, a packet each): the 28 KiB a batch lacks
        // to the aim take about 112 µs.
        let (hold, _) = after(Instant::now(), 1024, 4 * US, 200);
        let Verdict::Hold { pause, wait } =
            hold.verdict(2048, Duration::ZERO, false, Duration::ZERO)
        else {
            panic!("sent");
        };
        assert!(pause > 107 * US && pause < 117 * US, "{pause:?}");
        assert_eq!(pause + wait, AT_MOST);
    }

    #[test]
    fn a_pause_never_outlasts_the_hold() {
        // 1 KiB every 200 µs: 5 MB/s, worth holding for, but a full batch would take 4.8 ms.
        let (hold, _) = after(Instant::now(), 1024, 200 * US, 20);
        assert_eq!(
            hold.verdict(1500, Duration::ZERO, false, Duration::ZERO),
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
            hold.verdict(8 << 10, Duration::ZERO, false, Duration::ZERO),
            Verdict::Hold { .. }
        ));
    }

    #[test]
    fn a_lone_record_in_pieces_goes_at_once() {
        // From idle, a record in three packets 12 µs apart: no rate yet.
        let t = Instant::now();
        let mut hold = Hold::default();
        for i in 0..3 {
            hold.read(600, t + i * 12 * US);
        }
        assert_eq!(hold.rate(), 0.0);
        assert_eq!(
            hold.verdict(1800, Duration::ZERO, false, Duration::ZERO),
            Verdict::Send
        );
        assert_eq!(hold.next_read(false, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_wait_on_a_full_channel_is_no_pause_of_the_peer() {
        let t = Instant::now();
        let mut hold = Hold::default();
        hold.read(100, t);
        // The channel kept the connection from reading for longer than a pause would take.
        hold.waited(QUIET * 2);
        hold.read(100, t + QUIET * 2);
        // Not reset, and what piled up meanwhile came at once: as fast as it gets.
        assert_eq!(hold.rate(), f64::INFINITY);
        assert_eq!(
            hold.verdict(200, Duration::ZERO, false, Duration::ZERO),
            Verdict::Hold {
                pause: Duration::ZERO,
                wait: AT_MOST
            }
        );
    }
}
