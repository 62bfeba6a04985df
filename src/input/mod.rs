//! Inputs (DESIGN §3): each binds on every shard with SO_REUSEPORT so the kernel spreads peers over
//! cores. TCP and TLS carry syslog frames ([`conn`] reads them), UDP datagrams, HTTP(S) Cloud NSS
//! batches of JSON records. Every peer passes its input's allow-list first.

pub mod allow;
pub mod certs;
pub mod conn;
pub mod handshake;
pub mod hold;
pub mod http;
pub mod live;
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
