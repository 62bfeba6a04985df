//! What the aggregator shares with the admin endpoint and the shutdown path: the device registry,
//! the attribution table and a snapshot of the counters and latency, each behind its own lock.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use super::attribution::Attribution;
use super::latency::Percentiles;
use super::registry::Registry;
use crate::batch::counters::Counters;

/// The aggregator's state as others may read it.
pub struct Shared {
    pub attribution: Mutex<Attribution>,
    /// The device registry: the aggregator merges into it, `/devices` reads it.
    pub registry: Mutex<Registry>,
    /// Counters and latency, as the aggregator last published them.
    pub snapshot: Mutex<Snapshot>,
    /// Set while the collector drains: /healthz answers 503.
    pub draining: AtomicBool,
}

impl Shared {
    pub fn new(attribution: Attribution, registry: Registry) -> Self {
        Shared {
            attribution: Mutex::new(attribution),
            registry: Mutex::new(registry),
            snapshot: Mutex::new(Snapshot::default()),
            draining: AtomicBool::new(false),
        }
    }
}

/// What the admin endpoint shows: published by the aggregator a few times a second.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Counts per shard, by shard index.
    pub shards: Vec<Counters>,
    pub totals: Counters,
    pub devices: usize,
    pub channel_depth: usize,
    pub channel_capacity: usize,
    pub attribution_entries: usize,
    /// Devices changed since the registry was last saved: what a crash now would lose.
    pub devices_unsaved: usize,
    pub interval_secs: u64,
    /// Per measure: since start, and over the last completed interval.
    pub latency: Vec<LatencySummary>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencySummary {
    pub name: &'static str,
    pub unit: &'static str,
    pub since_start: Percentiles,
    pub last_interval: Percentiles,
}
