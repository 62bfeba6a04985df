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
//! `keys` names the fields every published feed template uses, `value` and `time` decode what
//! feeds write, `device` is the identity every collector agrees on. `synth` (feature `synth`)
//! generates realistic feeds.

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
pub mod reason;
pub mod record;
#[cfg(feature = "synth")]
pub mod synth;
pub mod time;
pub mod value;
