//! Observability: what an operator reads while ztel runs. `metrics` renders the aggregator's
//! snapshot for Prometheus; `admin` serves it, the registry and the attribution table over HTTP.

pub mod admin;
pub mod device_index;
pub mod metrics;
pub mod process;
