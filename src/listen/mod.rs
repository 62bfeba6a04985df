//! Inputs: each binds on every shard with SO_REUSEPORT so the kernel spreads peers over cores.

pub mod conn;
pub mod tcp;
pub mod tls;
pub mod udp;
