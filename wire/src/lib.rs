//! What the bytes of a Zscaler feed mean, with no I/O: the collector, loadgen, the benches and
//! the fuzz targets share it, so that every one of them agrees on the wire format.
//!
//! ```text
//! bytes ─▶ frame ─▶ header ─▶ format ──▶ fields ─▶ event ─▶ record
//!          (LF or   (PRI,     (json: the  (slots    (a log   (the JSON line
//!          octet-   RFC 3164  fast path,  by key    type's   ztel writes)
//!          counted) or 5424)  simd-json)  name)     values)
//! ```
//!
//! [`decode::Decoder`] runs one frame from header to event; [`record::Writer`] writes it out.
//! Below them all: `kind` names the log types (a format, a key or a sourcetype may already
//! tell one), `keys` names the fields every published feed template uses, `value` and `time`
//! decode what feeds write, `device` is the identity every collector agrees on. One edge runs
//! back: `frame` looks for a header where a frame was lost, to find where the next one starts.
//! `synth` (feature `synth`) generates realistic feeds, and `hdr` (feature `hdr`) reads the
//! histograms ztel writes.

pub mod decode;
pub mod device;
pub mod event;
pub mod fields;
pub mod format;
pub mod frame;
#[cfg(feature = "hdr")]
pub mod hdr;
pub mod header;
pub mod keys;
pub mod kind;
pub mod reason;
pub mod record;
#[cfg(feature = "synth")]
pub mod synth;
pub mod time;
pub mod value;
