//! The aggregator's periodic work, in one table: what runs, how often, and when the loop must
//! wake for it. A job that declines to run (the flush, while batches are still queued) stays due.

use std::time::{Duration, Instant};

/// Something the aggregator does now and then rather than per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Write what the sinks hold, once a burst is over.
    Flush,
    /// Copy the counters and latency for the admin endpoint.
    Publish,
    /// Close the histogram interval and log it.
    Histograms,
    /// Save the devices that changed.
    Save,
    /// Drop ended ZPA connections from the attribution table.
    Expire,
    /// A progress line while data flows.
    Progress,
    /// Tell systemd's watchdog that the loop turns.
    Watchdog,
}

impl Job {
    pub const ALL: [Job; 7] = [
        Job::Flush,
        Job::Publish,
        Job::Histograms,
        Job::Save,
        Job::Expire,
        Job::Progress,
        Job::Watchdog,
    ];
}

/// Records are written when a burst is over, but not more often than this while small batches
/// keep trickling in: a write is a system call, and a peer that sends a line at a time would
/// otherwise cost one per line. It bounds how long a record waits in memory when traffic stops.
const FLUSH_EVERY: Duration = Duration::from_millis(5);
/// How stale the admin endpoint's numbers may be. Not on every idle moment: merging histograms
/// for a snapshot costs more than a batch.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// A crash loses at most this much of the registry.
const SAVE_EVERY: Duration = Duration::from_millis(200);
const EXPIRE_EVERY: Duration = Duration::from_secs(5);
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// When each job last ran.
pub struct Schedule {
    every: [Duration; Job::ALL.len()],
    last: [Instant; Job::ALL.len()],
}

impl Schedule {
    /// `histograms`: `histograms.interval_secs`; `watchdog`: how often systemd's watchdog wants
    /// a ping (`None`: never, and the loop does not wake for it).
    pub fn new(histograms: Duration, watchdog: Option<Duration>) -> Self {
        let now = Instant::now();
        let mut every = [Duration::ZERO; Job::ALL.len()];
        for job in Job::ALL {
            every[job as usize] = match job {
                Job::Flush => FLUSH_EVERY,
                Job::Publish => PUBLISH_EVERY,
                Job::Histograms => histograms,
                Job::Save => SAVE_EVERY,
                Job::Expire => EXPIRE_EVERY,
                Job::Progress => PROGRESS_EVERY,
                Job::Watchdog => watchdog.unwrap_or(Duration::MAX),
            };
        }
        Schedule {
            every,
            last: [now; Job::ALL.len()],
        }
    }

    pub fn is_due(&self, job: Job, now: Instant) -> bool {
        let i = job as usize;
        now.duration_since(self.last[i]) >= self.every[i]
    }

    pub fn ran(&mut self, job: Job, now: Instant) {
        self.last[job as usize] = now;
    }

    /// How long the loop may wait for a batch before a job is due; `flush_pending` says whether
    /// the sinks hold anything (the flush is due only then).
    pub fn wait(&self, flush_pending: bool) -> Duration {
        let now = Instant::now();
        Job::ALL
            .iter()
            .filter(|job| flush_pending || **job != Job::Flush)
            .map(|job| {
                let i = *job as usize;
                self.every[i].saturating_sub(now.duration_since(self.last[i]))
            })
            .min()
            .unwrap_or(PUBLISH_EVERY)
    }
}
