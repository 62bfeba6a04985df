//! loadgen seen from outside: the real binary against receivers the test runs on loopback
//! (plain TCP and UDP sockets, a rustls server, a fake Cloud NSS receiver, a fake admin
//! endpoint), on OS-chosen ports. Every record received must be one that ztel's own pipeline
//! turns into a record. (loadgen against the real collector, gzip included, is in the
//! workspace's tests/loadgen.rs.)
//!
//! One test binary, one module per concern:
//! - `framing`: newline-ended and octet-counted records over TCP, records packed into UDP
//!   datagrams;
//! - `sources`: the synthetic sources, dialects and formats;
//! - `files`: a file's lines replayed;
//! - `pacing`: send lateness and its interval log, timed runs;
//! - `tls` and `http`: the other transports, and refusals by the receiver; `mtls`: client
//!   certificates;
//! - `admin`: what the collector's admin endpoint says it received;
//! - `cli`: --help, configuration errors and exit statuses;
//! - `support`: running loadgen, the TCP and UDP receivers, and checking what they got.

mod admin;
mod cli;
mod files;
mod framing;
mod http;
mod mtls;
mod pacing;
mod sources;
mod support;
mod tls;
