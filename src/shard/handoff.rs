//! Hot connections (DESIGN §4 "Hot connections"). NSS sends a feed over one long-lived
//! connection, and SO_REUSEPORT spreads connections, not bytes: one feed would keep one core busy
//! while the others idle. So a shard whose connection brings large reads hands their complete
//! frames to another shard that keeps up with what it is given ([`Turns`]), and parses them
//! itself while the others are busy.
//!
//! What crosses is a [`Chunk`]: a `bytes::Bytes` slice of the very buffer the bytes were read
//! into, reference-counted, not copied. The buffer is a [`Block`] of the reading shard's; when
//! the parsing shard drops the chunk, the block goes back to the shard that made it, to be read
//! into again. Records of one connection may then be written out of order (each shard writes
//! what it parsed when it is done); de-duplication, device deltas, counters and latency do not
//! depend on the order.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use event_listener::Event;
use jiff::Timestamp;

use crate::batch::Source;

/// Chunks that may wait in one shard's inbox: enough to keep it busy between two looks, few
/// enough that a hand-off never waits long behind the peer's own connections.
const INBOX: usize = 4;
/// A shard is given a chunk while fewer than this wait in its inbox: one to parse next while it
/// parses another keeps it busy, and a shard with more is busy enough.
const QUEUE: usize = 2;
/// Chunks of one shard that may be out at once per other shard: one being parsed, `QUEUE`
/// waiting.
pub const OUT_PER_PEER: usize = QUEUE + 1;

/// Complete frames of one read, for another shard to parse.
pub struct Chunk {
    pub bytes: Bytes,
    pub peer: SocketAddr,
    pub source: Source,
    /// When the read returned (the records' `received`).
    pub received: Timestamp,
    /// Where read→sink latency starts.
    pub read_at: Instant,
    /// Whether the reader's stream was octet-counted where the chunk starts (`Framer::counted`):
    /// it decides how the chunk is cut.
    pub counted: bool,
}

/// The shards' inboxes, shared by all of them.
pub struct Exchange {
    inboxes: Vec<Sender<Chunk>>,
    wake: Vec<Event>,
    /// Shards whose connections may still hand something off. An inbox is served until none
    /// may: a shard that drained first must not leave a chunk of another's unparsed.
    present: AtomicUsize,
}

/// A shard's own inbox.
pub struct Inbox {
    index: usize,
    rx: Receiver<Chunk>,
    exchange: Arc<Exchange>,
}

/// An exchange between `shards` shards, and each one's inbox and presence. A shard that is never
/// started drops its presence, so that the others do not wait for it.
pub fn exchange(shards: usize) -> (Arc<Exchange>, Vec<(Inbox, Presence)>) {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..shards)
        .map(|_| crossbeam_channel::bounded(INBOX))
        .unzip();
    let exchange = Arc::new(Exchange {
        inboxes: senders,
        wake: (0..shards).map(|_| Event::new()).collect(),
        present: AtomicUsize::new(shards),
    });
    let inboxes = receivers
        .into_iter()
        .enumerate()
        .map(|(index, rx)| {
            let inbox = Inbox {
                index,
                rx,
                exchange: exchange.clone(),
            };
            (inbox, Presence::new(&exchange))
        })
        .collect();
    (exchange, inboxes)
}

impl Exchange {
    pub fn shards(&self) -> usize {
        self.inboxes.len()
    }

    /// Puts a chunk in shard `to`'s inbox; gives it back when the inbox is full (that shard is
    /// busy: the caller parses it itself) or gone.
    pub fn offer(&self, to: usize, chunk: Chunk) -> Result<(), Chunk> {
        let Some(inbox) = self.inboxes.get(to) else {
            return Err(chunk);
        };
        match inbox.try_send(chunk) {
            Ok(()) => {
                self.wake[to].notify(1);
                Ok(())
            }
            Err(TrySendError::Full(chunk) | TrySendError::Disconnected(chunk)) => Err(chunk),
        }
    }

    /// A shard's connections have all ended: it hands nothing off any more.
    pub fn leave(&self) {
        self.present.fetch_sub(1, Ordering::SeqCst);
        for wake in &self.wake {
            wake.notify(usize::MAX);
        }
    }

    /// Chunks waiting in shard `to`'s inbox.
    pub fn waiting(&self, to: usize) -> usize {
        self.inboxes.get(to).map_or(usize::MAX, Sender::len)
    }

    fn finished(&self) -> bool {
        self.present.load(Ordering::SeqCst) == 0
    }
}

/// Leaves the exchange when dropped, unless it already left: a shard that stops early (it could
/// not bind, its executor would not start) must not keep the others' inboxes open for ever.
pub struct Presence {
    exchange: Option<Arc<Exchange>>,
}

impl Presence {
    fn new(exchange: &Arc<Exchange>) -> Self {
        Presence {
            exchange: Some(exchange.clone()),
        }
    }

    pub fn leave(&mut self) {
        if let Some(exchange) = self.exchange.take() {
            exchange.leave();
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        self.leave();
    }
}

impl Inbox {
    /// The next chunk, if one is waiting.
    pub fn try_take(&self) -> Option<Chunk> {
        self.rx.try_recv().ok()
    }

    /// Waits for a chunk; `None` once no shard may hand one off any more and none is left.
    pub async fn take(&self) -> Option<Chunk> {
        loop {
            if let Some(chunk) = self.try_take() {
                return Some(chunk);
            }
            if self.exchange.finished() {
                return self.try_take();
            }
            // Listen first, then look again: a chunk offered in between is not missed.
            let wake = self.exchange.wake[self.index].listen();
            if !self.rx.is_empty() || self.exchange.finished() {
                continue;
            }
            wake.await;
        }
    }
}

/// Which shard a connection's next busy read goes to: the first other shard, from a cursor that
/// moves on, that has fewer than [`QUEUE`] chunks waiting, if any. While they all have, the
/// reading shard parses itself; so on a busy connection every shard parses as much as it can,
/// and when the reading shard also has its reading to do, the others take more of the parsing.
#[derive(Debug)]
pub struct Turns {
    home: usize,
    turn: usize,
}

impl Turns {
    pub fn new(home: usize) -> Self {
        Turns { home, turn: 0 }
    }

    pub fn next(&mut self, exchange: &Exchange) -> Option<usize> {
        let shards = exchange.shards();
        for _ in 0..shards {
            self.turn = (self.turn + 1) % shards;
            let to = (self.home + self.turn) % shards;
            if to != self.home && exchange.waiting(to) < QUEUE {
                return Some(to);
            }
        }
        None
    }
}

/// A shard's read buffers that are out being parsed elsewhere come back here.
pub struct Blocks {
    back: Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    out: Arc<AtomicUsize>,
    limit: usize,
}

impl Blocks {
    /// At most `limit` of the shard's buffers are out at once; past that it parses itself.
    pub fn new(limit: usize) -> Self {
        let (home, back) = crossbeam_channel::bounded(limit);
        Blocks {
            back,
            home,
            out: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// Whether another buffer may go out now.
    pub fn may_lend(&self) -> bool {
        self.out.load(Ordering::Acquire) < self.limit
    }

    /// A buffer of `len` bytes to read into next: one that came back when there is one.
    pub fn take(&self, len: usize) -> Vec<u8> {
        match self.back.try_recv() {
            Ok(mut buf) => {
                // Contents are read over before they are looked at; only new bytes are zeroed.
                buf.resize(len, 0);
                buf
            }
            Err(_) => vec![0; len],
        }
    }

    /// Lends `buf` out as shared bytes; it comes back here when the last slice of it is dropped.
    pub fn lend(&self, buf: Vec<u8>) -> Bytes {
        self.out.fetch_add(1, Ordering::AcqRel);
        Bytes::from_owner(Block {
            buf,
            home: self.home.clone(),
            out: self.out.clone(),
        })
    }
}

/// A read buffer out on loan.
struct Block {
    buf: Vec<u8>,
    home: Sender<Vec<u8>>,
    out: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Block {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        self.out.fetch_sub(1, Ordering::AcqRel);
        // A full pool (or a shard that is gone) frees it here instead.
        let _ = self.home.try_send(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(bytes: Bytes) -> Chunk {
        Chunk {
            bytes,
            peer: "127.0.0.1:1".parse().expect("address"),
            source: Source::Tcp,
            received: Timestamp::UNIX_EPOCH,
            read_at: Instant::now(),
            counted: false,
        }
    }

    #[test]
    fn a_lent_buffer_comes_home_when_the_last_slice_is_dropped() {
        let blocks = Blocks::new(1);
        let buf = blocks.take(8);
        let at = buf.as_ptr();
        let bytes = blocks.lend(buf);
        let slice = bytes.slice(2..6);
        assert!(!blocks.may_lend(), "one out, limit one");
        drop(bytes);
        assert!(!blocks.may_lend(), "a slice still holds it");
        assert_eq!(slice.as_ptr(), at.wrapping_add(2), "no copy");
        drop(slice);
        assert!(blocks.may_lend());
        let again = blocks.take(16);
        assert_eq!(again.as_ptr(), at, "back home, read into again");
        assert_eq!(again.len(), 16);
    }

    #[test]
    fn the_same_allocation_is_read_into_again() {
        let blocks = Blocks::new(2);
        let buf = blocks.take(64);
        let at = buf.as_ptr();
        drop(blocks.lend(buf));
        let again = blocks.take(64);
        assert_eq!(again.as_ptr(), at);
    }

    #[test]
    fn turns_go_round_the_other_shards_while_they_keep_up() {
        let (exchange, _inboxes) = exchange(3);
        let mut turns = Turns::new(1);
        let seen: Vec<Option<usize>> = (0..4).map(|_| turns.next(&exchange)).collect();
        assert_eq!(seen, [Some(2), Some(0), Some(2), Some(0)]);
        // Shard 2 has its queue full: 0 takes every turn, until it has too.
        for _ in 0..QUEUE {
            assert!(exchange.offer(2, chunk(Bytes::new())).is_ok());
        }
        assert_eq!(turns.next(&exchange), Some(0));
        assert_eq!(turns.next(&exchange), Some(0));
        for _ in 0..QUEUE {
            assert!(exchange.offer(0, chunk(Bytes::new())).is_ok());
        }
        assert_eq!(turns.next(&exchange), None, "everyone busy: parse here");
        let (alone, _inbox) = super::exchange(1);
        assert_eq!(Turns::new(0).next(&alone), None);
    }

    #[test]
    fn a_full_inbox_gives_the_chunk_back_and_an_inbox_ends_when_all_left() {
        let (exchange, inboxes) = exchange(2);
        for _ in 0..INBOX {
            assert!(exchange.offer(1, chunk(Bytes::from_static(b"a\n"))).is_ok());
        }
        assert!(exchange
            .offer(1, chunk(Bytes::from_static(b"b\n")))
            .is_err());
        assert!(exchange
            .offer(7, chunk(Bytes::from_static(b"c\n")))
            .is_err());
        let (mut seats, inboxes): (Vec<Presence>, Vec<Inbox>) =
            inboxes.into_iter().map(|(i, p)| (p, i)).unzip();
        seats[0].leave();
        drop(seats);
        let inbox = &inboxes[1];
        let taken = futures_lite::future::block_on(async {
            let mut n = 0;
            while inbox.take().await.is_some() {
                n += 1;
            }
            n
        });
        assert_eq!(taken, INBOX, "every chunk offered is taken before the end");
    }
}
