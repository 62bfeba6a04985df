//! What the aggregator shares with the admin endpoint and the shutdown path: the device registry,
//! the attribution table and a snapshot of the counters and latency, each behind its own lock.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};

use super::attribution::Attribution;
use super::latency::LatencyView;
use super::registry::Registry;
use crate::batch::counters::Counters;
use crate::batch::{PerInput, Source};

/// The aggregator's state as others may read it.
pub struct Shared {
    pub attribution: Mutex<Attribution>,
    /// While the aggregator loads the table saved at the last clean stop: lookups wait for it.
    pub attribution_loading: Loading,
    /// The device registry: the aggregator merges into it, `/devices` reads it.
    pub registry: Mutex<Registry>,
    /// Counters and latency, as the aggregator last published them.
    pub snapshot: Mutex<Snapshot>,
    /// Set once every shard listens on every input: before, /healthz answers 503, so that a
    /// load balancer sends nothing to inputs that would refuse it.
    pub listening: AtomicBool,
    /// Set while the collector drains: /healthz answers 503.
    pub draining: AtomicBool,
    /// Since when (Unix milliseconds; 0: not) the records output has failed to write what it
    /// holds (past 16 MiB of it the aggregator takes no batch): /healthz answers 503 past a few
    /// seconds.
    pub stalled_since_ms: AtomicU64,
    /// The inputs that listen: `/metrics` has series for these.
    pub inputs: Vec<Source>,
    /// `[output.nats]`, when on: `/devices/{hostname}` reads the shared registry through it and
    /// `/healthz` says when NATS is down.
    pub nats: std::sync::OnceLock<Arc<crate::sink::nats::Link>>,
    /// SIGHUP reloads that applied, and that failed (the settings stayed as they were).
    pub reloads: [AtomicU64; 2],
    /// Whether the last reload failed: until one applies, what the operator meant to change
    /// (a renewed certificate) is not in force.
    pub reload_failed: AtomicBool,
    /// When the server certificates of input.tls and input.http expire, and the last CA of
    /// input.tls's client CA file (Unix seconds; 0: none).
    pub cert_expiry: [std::sync::atomic::AtomicI64; 3],
}

impl Shared {
    pub fn new(attribution: Attribution, registry: Registry, inputs: Vec<Source>) -> Self {
        Shared {
            attribution: Mutex::new(attribution),
            attribution_loading: Loading::default(),
            registry: Mutex::new(registry),
            snapshot: Mutex::new(Snapshot::default()),
            listening: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            stalled_since_ms: AtomicU64::new(0),
            inputs,
            nats: std::sync::OnceLock::new(),
            reloads: Default::default(),
            reload_failed: AtomicBool::new(false),
            cert_expiry: Default::default(),
        }
    }
}

impl Shared {
    /// The same, with lookups waiting until the aggregator has loaded the saved table.
    pub fn loading_attribution(mut self) -> Self {
        self.attribution_loading = Loading {
            loading: Mutex::new(true),
            done: Condvar::new(),
        };
        self
    }
}

/// Whether something is still being loaded, for those who wait for it: the attribution table,
/// which the aggregator loads while the inputs start listening. A lookup made meanwhile waits
/// rather than answering "not found" for a connection the table is about to know.
#[derive(Debug, Default)]
pub struct Loading {
    loading: Mutex<bool>,
    done: Condvar,
}

impl Loading {
    pub fn finish(&self) {
        let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        *loading = false;
        self.done.notify_all();
    }

    /// Returns once loaded.
    pub fn wait(&self) {
        let loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        let _loaded = self
            .done
            .wait_while(loading, |loading| *loading)
            .unwrap_or_else(|p| p.into_inner());
    }
}

/// What the admin endpoint shows: published by the aggregator a few times a second.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Counts per shard (by shard index) and input (by `Source as usize`).
    pub shards: Vec<PerInput>,
    pub totals: Counters,
    /// When the aggregator last handed a record from each input to the sink (Unix seconds).
    pub last_record: [Option<f64>; Source::COUNT],
    pub outputs: OutputCounts,
    pub devices: usize,
    pub channel_depth: usize,
    pub channel_capacity: usize,
    pub attribution_entries: usize,
    /// Devices changed since the registry was last saved: what a crash now would lose.
    pub devices_unsaved: usize,
    /// What the registry holds in memory by its own count ([`Registry::heap_bytes`]).
    pub registry_bytes: usize,
    /// Devices committed to `devices.redb` since start.
    pub devices_saved: u64,
    /// Changes of devices left out since start: the registry held `limits.max_devices`.
    pub devices_refused: u64,
    pub interval_secs: u64,
    /// Per measure: since start, and over the last completed interval.
    pub latency: LatencyView,
    /// `[output.nats]`'s counts, when it is on.
    pub nats: Option<crate::sink::nats::Figures>,
}

/// Where the aggregator writes, for the `output` label of its error, rotation and spill counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Records,
    Devices,
    DeadLetters,
    /// The device registry's store (`devices.redb`).
    Registry,
    /// The latency interval log (`.hlog`).
    Histograms,
    /// The identities of recent records (`dedup.window`).
    DedupWindow,
}

impl Output {
    pub const COUNT: usize = 6;
    pub const ALL: [Output; Output::COUNT] = [
        Output::Records,
        Output::Devices,
        Output::DeadLetters,
        Output::Registry,
        Output::Histograms,
        Output::DedupWindow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Output::Records => "records",
            Output::Devices => "devices",
            Output::DeadLetters => "dead_letters",
            Output::Registry => "registry",
            Output::Histograms => "histograms",
            Output::DedupWindow => "dedup_window",
        }
    }
}

/// Per output (by `Output as usize`): writes that failed, files rotated, backlogs spilled, and
/// spills read back or waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputCounts {
    pub write_errors: [u64; Output::COUNT],
    pub rotations: [u64; Output::COUNT],
    pub spills: [u64; Output::COUNT],
    /// Spills of earlier runs read back into their outputs at start...
    pub read_back: [u64; Output::COUNT],
    /// ...and those left waiting in `data_dir` (their output failing, or no regular file).
    pub waiting: [u64; Output::COUNT],
    /// Bytes that could be neither written nor spilled at shutdown: lost.
    pub lost_bytes: u64,
}

impl OutputCounts {
    pub fn errors(&self) -> u64 {
        self.write_errors.iter().sum()
    }
}
