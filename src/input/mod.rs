//! Inputs (DESIGN §3): each binds on every shard with SO_REUSEPORT so the kernel spreads peers over
//! cores. TCP and TLS carry syslog frames ([`conn`] reads them), UDP datagrams, HTTP(S) Cloud NSS
//! batches of JSON records. Every peer passes its input's allow-list first.

pub mod allow;
pub mod certs;
pub mod conn;
pub mod handoff;
pub mod handshake;
pub mod hold;
pub mod http;
pub mod live;
mod nap;
mod sockopt;
pub mod tcp;
pub mod tls;
pub mod udp;

use wire::frame::{Framer, Next};

use crate::batch::counters::Counter;
use crate::batch::{Batch, Origin};
use crate::pipeline::Pipeline;

/// Frames what `buf` holds and parses every complete frame where it lies; returns the bytes
/// consumed (an incomplete frame at the end is left for the next read).
pub(crate) fn process_frames(
    framer: &mut Framer,
    pipeline: &mut Pipeline,
    buf: &[u8],
    origin: &Origin,
    batch: &mut Batch,
) -> usize {
    let mut start = 0;
    loop {
        match framer.next(&buf[start..]) {
            Next::Frame { payload, consumed } => {
                pipeline.process(
                    &buf[start + payload.start..start + payload.end],
                    origin,
                    batch,
                );
                start += consumed;
            }
            Next::Oversize { consumed } => {
                batch.counters.incr(Counter::OversizeFrames);
                start += consumed;
            }
            Next::Skipped { consumed } => start += consumed,
            Next::Incomplete => return start,
        }
    }
}

/// How many bytes at the front of `buf` are complete frames, found without parsing them and
/// without moving `framer` on (a scan stops at the first thing that is not a whole frame: the
/// framer's own state, an oversize frame, the unfinished frame at the end).
pub(crate) fn whole_frames(framer: &Framer, buf: &[u8]) -> usize {
    let mut scan = framer.clone();
    let mut end = 0;
    while let Next::Frame { consumed, .. } = scan.next(&buf[end..]) {
        end += consumed;
    }
    end
}
