//! A hot connection's hand-off (`shard::handoff`), both sides: the reading shard lends the whole
//! frames of a large read to another shard ([`lend`]), which parses them as if it had read them
//! itself and sends the records to the aggregator ([`serve`]).

use std::rc::Rc;
use std::time::Instant;

use wire::frame::Framer;

use super::{process_frames, whole_frames};
use crate::batch::{Batch, Origin};
use crate::shard::handoff::{Chunk, Inbox, Turns};
use crate::shard::Shard;

/// A read of fewer bytes is parsed where it was read: it is no sign of a hot connection, and a
/// hop to another shard would only add to its latency.
const LEND_AT_LEAST: usize = 32 << 10;

/// Parses what other shards hand this one until none may any more (every shard has drained).
pub async fn serve(shard: Rc<Shard>, inbox: Inbox) {
    while let Some(chunk) = inbox.take().await {
        let batch = parse(&shard, &chunk);
        // The buffer goes home before the wait for the channel.
        drop(chunk);
        shard.send(batch).await;
        glommio::yield_if_needed().await;
    }
}

/// Frames and parses a chunk into a batch of this shard's. A chunk begins and ends at frame
/// boundaries (its reader framed it first, `whole_frames`), so a framer that resumes the
/// reader's where it begins cuts it, oversize frames included, exactly as the reader's would
/// have.
pub fn parse(shard: &Shard, chunk: &Chunk) -> Batch {
    let started = Instant::now();
    let mut batch = shard.batch(chunk.source, chunk.bytes.len());
    batch.read_at = Some(chunk.read_at);
    let origin = Origin {
        peer: chunk.peer,
        received: chunk.received,
        source: chunk.source,
    };
    let mut framer = Framer::resume(shard.limits.max_frame_bytes, chunk.counted);
    process_frames(
        &mut framer,
        &mut shard.pipeline.borrow_mut(),
        &chunk.bytes,
        &origin,
        &mut batch,
    );
    batch.parse_time += started.elapsed();
    batch
}

/// What became of a read offered to another shard.
pub enum Lent {
    /// Not this read's turn, or nobody to lend to: parse it here.
    No,
    /// Its complete frames went (or were parsed here after all); the buffer is a new one whose
    /// first `left` bytes are the unfinished frame. `handed`: another shard took them.
    Yes { left: usize, handed: bool },
    /// The aggregator is gone.
    Stopped,
}

/// Lends the complete frames of a large `buf[unread]` to another shard that keeps up with what
/// it is given (`Turns`). The buffer itself goes, reference-counted: `buf` becomes one of the
/// shard's blocks with only the unfinished frame at the end copied over.
pub async fn lend(
    shard: &Shard,
    turns: &mut Turns,
    framer: &mut Framer,
    buf: &mut Vec<u8>,
    unread: std::ops::Range<usize>,
    origin: &Origin,
    read_at: Instant,
) -> Lent {
    let Some(exchange) = &shard.exchange else {
        return Lent::No;
    };
    if unread.len() < LEND_AT_LEAST || !shard.blocks.may_lend() {
        return Lent::No;
    }
    let Some(to) = turns.next(exchange) else {
        return Lent::No;
    };
    let end = unread.end;
    // An oversize frame still being discarded stays here with the framer that discards it; and
    // what is left must be only the unfinished frame, for the end of the connection and the
    // idle deadline to see it as such.
    let Some((whole, after)) = whole_frames(framer, &buf[unread.clone()]) else {
        return Lent::No;
    };
    let whole = unread.start..unread.start + whole;
    if whole.is_empty() {
        return Lent::No;
    }
    let left = end - whole.end;
    let mut next = shard.blocks.take(buf.len());
    next[..left].copy_from_slice(&buf[whole.end..end]);
    let lent = shard.blocks.lend(std::mem::replace(buf, next));
    let chunk = Chunk {
        bytes: lent.slice(whole),
        peer: origin.peer,
        source: origin.source,
        received: origin.received,
        read_at,
        counted: std::mem::replace(framer, after).counted(),
    };
    drop(lent);
    let Err(chunk) = exchange.offer(to, chunk) else {
        return Lent::Yes { left, handed: true };
    };
    // Its inbox filled meanwhile: the frames are out of this buffer already, so parse them here
    // from the chunk.
    let batch = parse(shard, &chunk);
    drop(chunk);
    if !shard.send(batch).await {
        return Lent::Stopped;
    }
    Lent::Yes {
        left,
        handed: false,
    }
}
