//! ztel: a thread-per-core collector for Zscaler telemetry.
//!
//! ```text
//!  NSS, LSS ──┐ TCP/UDP 1514,  ┌─ shard k: one glommio executor pinned to core k ───────────────┐
//!  Cloud NSS ─┘ TLS 6514,      │ input: accept (SO_REUSEPORT) → allow-list → read into the      │
//!               HTTPS          │ connection's buffer → frame → pipeline: decode in place (wire) │
//!                              │ → record serialised → device cache (deltas only) → batch       │
//!                              └──────────────────────────────┬─────────────────────────────────┘
//!                                  bounded channel of batches │ a full channel stops the reads
//!                              ┌──────────────────────────────▼─────────────────────────────────┐
//!                              │ aggregate: sinks, device registry, attribution, histograms     │
//!                              └──────────────────────────────┬─────────────────────────────────┘
//!                                                             │ shared state
//!                                                        obs: /metrics, /devices, /attribution
//! ```
//!
//! The modules, in the order the data flows. What bytes mean (framing, headers, formats, log
//! types, records) is the `wire` crate, which has no I/O. Dependencies run one way: `batch` →
//! `pipeline` → `shard` → `input` → `executor` → `run`, and `batch` → `sink` → `aggregate` →
//! `obs`; `config` (the file's keys and their checks) depends on `batch` alone, and inputs,
//! sinks and the aggregator read it; `cli` and `run` sit at the edges; `logging` (stderr as plain
//! lines or JSON) and `systemd` (readiness and watchdog) depend on nothing of ztel's, and
//! anything may use them.

pub mod aggregate;
pub mod batch;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod executor;
pub mod input;
pub mod logging;
pub mod memlock;
pub mod nofile;
pub mod obs;
pub mod pipeline;
pub mod rlimit;
pub mod run;
pub mod shard;
pub mod sink;
pub mod systemd;
