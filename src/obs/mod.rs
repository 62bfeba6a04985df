//! Observability: what an operator reads while ztel runs. `metrics` renders the aggregator's
//! snapshot for Prometheus; `admin` serves it, the registry and the attribution table over HTTP;
//! `logging` writes stderr as plain lines or JSON.

pub mod admin;
pub mod device_index;
pub mod logging;
pub mod metrics;
