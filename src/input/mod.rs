//! Inputs (DESIGN §3): each binds on every shard with SO_REUSEPORT so the kernel spreads peers over
//! cores. TCP and TLS carry syslog frames ([`conn`] reads them), UDP datagrams, HTTP(S) Cloud NSS
//! batches of JSON records. Every peer passes its input's allow-list first.

pub mod admission;
pub mod allow;
mod cert_check;
pub mod certs;
pub mod conn;
pub mod handoff;
pub mod handshake;
pub mod hold;
pub mod http;
pub mod live;
mod nap;
mod sockopt;
pub mod stream;
pub mod tcp;
pub mod tls;
pub mod udp;

use wire::event::Reason;
use wire::frame::{Framer, Next, Tail};

use crate::batch::counters::Counter;
use crate::batch::{Batch, Origin};
use crate::pipeline::Pipeline;

/// A peer as ztel names it everywhere (dead letters, log lines, allow-lists): a dual-stack
/// listener's IPv4 peer (`[::ffff:10.0.0.5]:40000`) as IPv4 (`10.0.0.5:40000`), as a socket
/// bound to IPv4 names it. The same sender was named two ways by the line and by the bind.
pub(crate) fn named(peer: std::net::SocketAddr) -> std::net::SocketAddr {
    std::net::SocketAddr::new(peer.ip().to_canonical(), peer.port())
}

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
            Next::Unframed { consumed } => {
                batch.counters.incr(Counter::Frames);
                batch.dead_letter(Reason::Unframed, origin, &buf[start..start + consumed]);
                start += consumed;
            }
            Next::Skipped { consumed } => start += consumed,
            Next::Incomplete => return start,
        }
    }
}

/// What a stream left unconsumed when it ended (`buf`, which `framer` last called incomplete):
/// a record, or a dead letter that says the frame was cut short. `peer_closed`: the peer
/// itself ended the stream, and with it a last line that has no LF (a file replayed as is).
/// Cut off any other way (a timeout, a reset, the drain), half a KV, CEF or CSV line would
/// still parse, as a record that says what the sender never said.
pub(crate) fn process_end(
    framer: &mut Framer,
    pipeline: &mut Pipeline,
    buf: &[u8],
    peer_closed: bool,
    origin: &Origin,
    batch: &mut Batch,
) {
    match framer.finish(buf) {
        Tail::Clean => {}
        Tail::Unterminated { payload } if peer_closed => {
            pipeline.process_tail(&buf[payload], origin, batch);
        }
        Tail::Unterminated { payload: cut } | Tail::Truncated { partial: cut } => {
            batch.counters.incr(Counter::Frames);
            batch.dead_letter(Reason::Truncated, origin, &buf[cut]);
        }
    }
}

/// How many bytes at the front of `buf` `framer` cuts into whole frames (complete frames,
/// oversize frames that end in `buf`, unframed bytes, blank lines), found without parsing them
/// and without moving `framer` on, and a copy of `framer` after them (it knows whether the
/// stream is octet-counted); what follows is an unfinished frame. `None` when `framer` is
/// discarding an oversize frame at the start or the end of `buf`: only `framer` knows where that
/// one ends.
pub(crate) fn whole_frames(framer: &Framer, buf: &[u8]) -> Option<(usize, Framer)> {
    let mut scan = framer.clone();
    let mut end = 0;
    while scan.at_boundary() {
        match scan.next(&buf[end..]) {
            Next::Incomplete => return Some((end, scan)),
            Next::Frame { consumed, .. }
            | Next::Oversize { consumed }
            | Next::Unframed { consumed }
            | Next::Skipped { consumed } => end += consumed,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lendable_prefix_runs_through_oversize_frames_to_the_unfinished_one() {
        let framer = Framer::new(8);
        let buf = b"one\n\nxxxxxxxxxxxx\ntwo\npart";
        assert_eq!(
            whole_frames(&framer, buf).map(|(end, _)| end),
            Some(buf.len() - 4)
        );
        // What is left, a fresh framer sees as one unfinished frame.
        assert_eq!(Framer::new(8).next(b"part"), Next::Incomplete);
    }

    #[test]
    fn nothing_is_lendable_around_an_oversize_frame_still_being_discarded() {
        let framer = Framer::new(8);
        assert_eq!(whole_frames(&framer, b"one\nxxxxxxxxxxxx"), None);
        let mut skipping = Framer::new(8);
        assert!(matches!(
            skipping.next(b"xxxxxxxxxxxx"),
            Next::Oversize { .. }
        ));
        assert_eq!(whole_frames(&skipping, b"xx\ntwo\n"), None);
    }
}
