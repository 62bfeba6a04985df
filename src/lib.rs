//! ztel: a thread-per-core collector for Zscaler telemetry.
//!
//! ```text
//!  NSS (ZIA web) ──┐ TCP 1514    ┌─ shard k: one glommio executor pinned to core k ───────────────┐
//!  LSS (ZPA)    ───┼──────────▶  │ accept (SO_REUSEPORT) → allow-list → read into the connection's │
//!                  │             │ buffer → frame (memchr) → header → JSON read in place → record  │
//!                  │             │ serialised → device cache (deltas only) → batch                 │
//!                  │             └──────────────────────────────┬──────────────────────────────────┘
//!                  │                  bounded crossbeam channel │ batches, never single events
//!                  │             ┌──────────────────────────────▼──────────────────────────────────┐
//!                  │             │ aggregator: device registry, records / devices / dead letters    │
//!                  │             └─────────────────────────────────────────────────────────────────┘
//! ```
//!
//! `frame` splits the byte stream, `parse` reads a frame (plain JSON objects where they lie, the rest
//! with simd-json), `record` and `device` build what comes
//! out, `pipeline` ties them together for one frame, `shard` and `listen` run the executors and
//! sockets, `aggregate` and `sink` write the results.

pub mod admin;
pub mod aggregate;
pub mod attribution;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod device;
pub mod feed_format;
pub mod frame;
pub mod hist;
pub mod json;
pub mod latency;
pub mod listen;
pub mod live;
pub mod metrics;
pub mod parse;
pub mod pipeline;
pub mod record;
pub mod run;
pub mod shard;
pub mod sink;
pub mod store;
pub mod synth;
pub mod tls;
