//! Reading one stream connection (plain TCP or TLS) to its end: bytes into the connection's own
//! buffer, frames out of it with no copy, each frame parsed where it lies.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use futures_lite::{AsyncRead, AsyncReadExt};
use jiff::Timestamp;

use super::process_frames;
use crate::frame::{Framer, Tail};
use crate::metrics::Counter;
use crate::parse::Reason;
use crate::pipeline::{dead_letter, Batch, Origin};
use crate::shard::Shard;

/// Smallest free space a read is given: less and the buffer is compacted or grown first.
const MIN_READ: usize = 16 << 10;
/// A connection's buffer starts here and grows for frames that need it, and for a busy peer.
const INITIAL_BUFFER: usize = 64 << 10;
/// A peer whose reads fill the buffer gets a buffer up to this size: larger reads make fewer,
/// larger batches, and each batch costs both threads a fixed amount (a wake-up, clock reads, a
/// write). Idle connections keep the initial size.
const BUSY_BUFFER: usize = 256 << 10;

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The peer closed (or the drain shut the read side).
    Closed,
    /// Nothing arrived for `idle_timeout_secs`.
    Idle,
    /// A read failed (reset, TLS error).
    Error,
    /// The aggregator is gone: the collector is stopping.
    Stopped,
}

/// Reads `stream` until it ends, handing a batch to the aggregator after every read.
pub async fn read_frames<S: AsyncRead + Unpin>(
    shard: &Shard,
    stream: &mut S,
    peer: SocketAddr,
) -> End {
    let max_frame = shard.limits.max_frame_bytes;
    // The framer never holds more than a maximal frame and its octet-count header unconsumed.
    let buffer_limit = max_frame + 16 + MIN_READ;
    let mut framer = Framer::new(max_frame);
    let mut buf = vec![0u8; INITIAL_BUFFER.min(buffer_limit)];
    let (mut start, mut end) = (0usize, 0usize);
    let ended = loop {
        if buf.len() - end < MIN_READ {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            if buf.len() - end < MIN_READ && buf.len() < buffer_limit {
                buf.resize((buf.len() * 2).min(buffer_limit), 0);
            }
        }
        let n = match stream.read(&mut buf[end..]).await {
            Ok(0) => break End::Closed,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => break End::Idle,
            // A TLS peer that closes without close_notify, or a drain that shut the socket.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break End::Closed,
            Err(_) => break End::Error,
        };
        let filled = end + n == buf.len();
        end += n;
        let read_at = Instant::now();
        let origin = Origin {
            peer,
            received: Timestamp::now(),
        };
        let mut batch = Batch::for_read(shard.index, n);
        batch.read_at = Some(read_at);
        batch.counters.add(Counter::BytesRead, n as u64);
        start += process_frames(
            &mut framer,
            &mut shard.pipeline.borrow_mut(),
            &mut buf[start..end],
            &origin,
            &mut batch,
        );
        batch.parse_time = read_at.elapsed();
        if start == end {
            start = 0;
            end = 0;
        }
        if filled && buf.len() < BUSY_BUFFER.max(buffer_limit) {
            buf.resize(buf.len() * 2, 0);
        }
        if !shard.send(batch).await {
            break End::Stopped;
        }
    };
    // What is left was cut short by the peer closing (or by the drain).
    let origin = Origin {
        peer,
        received: Timestamp::now(),
    };
    let mut batch = Batch::new(shard.index);
    match framer.finish(&buf[start..end]) {
        Tail::Clean => {}
        Tail::Unterminated { payload } => {
            let frame = &mut buf[start + payload.start..start + payload.end];
            shard
                .pipeline
                .borrow_mut()
                .process_tail(frame, &origin, &mut batch);
        }
        Tail::Truncated { partial } => {
            let raw = &buf[start + partial.start..start + partial.end];
            batch.counters.incr(Counter::Frames);
            dead_letter(&mut batch, Reason::Truncated, &origin, raw);
        }
    }
    match ended {
        End::Idle => batch.counters.incr(Counter::IdleTimeouts),
        End::Error => batch.counters.incr(Counter::ReadErrors),
        End::Closed | End::Stopped => {}
    }
    batch.counters.incr(Counter::ConnectionsClosed);
    shard.send(batch).await;
    ended
}
