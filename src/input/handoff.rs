//! The parsing side of a hot connection's hand-off (`shard::handoff`): a shard parses the chunks
//! other shards lent it, as if it had read them itself, and sends the records to the aggregator.

use std::rc::Rc;
use std::time::Instant;

use wire::frame::Framer;

use super::process_frames;
use crate::batch::{Batch, Origin};
use crate::shard::handoff::{Chunk, Inbox};
use crate::shard::Shard;

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
