//! Plain UDP syslog (LSS on 1514): each datagram holds one or more LF-separated records.
//!
//! UDP cannot push back on the sender. When the aggregator's channel is full the shard keeps
//! receiving into a bounded pending batch; past that bound datagrams are counted as dropped
//! rather than left for the kernel to drop silently. A pending batch is handed over as soon as
//! the channel has room, whether or not more datagrams come: records never wait for traffic.
//! What the kernel itself drops, from a receive buffer that filled before the shard read it, is
//! read from the socket (SO_MEMINFO) with every batch and counted too.

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use glommio::net::UdpSocket;
use jiff::Timestamp;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use wire::frame::{Framer, Tail};

use super::allow::AllowList;
use super::process_frames;
use super::sockopt;
use crate::batch::channel::Offer;
use crate::batch::counters::Counter;
use crate::batch::{Batch, Origin, Source};
use crate::shard::notices::{and_more, Notice};
use crate::shard::Shard;

/// Largest UDP payload: a buffer this size never truncates a datagram.
const MAX_DATAGRAM: usize = 65_536;
/// Datagram bytes a batch is sized for at first (it grows while the channel is full).
const UDP_BATCH: usize = 64 << 10;
/// Receive buffer requested from the kernel, to ride out bursts while a batch is handed over.
const RECEIVE_BUFFER: usize = 16 << 20;
/// Serialised records a shard holds while the channel is full before it drops datagrams.
const PENDING_LIMIT: usize = 8 << 20;
/// Records gathered before a batch is handed over, when datagrams keep coming.
const BATCH_BYTES: usize = 256 << 10;
/// While a batch waits for room, how often the kernel's queue is emptied into it: reading only
/// without waiting (a receive in flight that a wake-up abandons could lose its datagram).
const PENDING_TICK: Duration = Duration::from_millis(1);

/// Binds one shard's UDP socket with SO_REUSEPORT and a large receive buffer.
pub fn bind(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_port(true)?;
    request_receive_buffer(&socket);
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    // SAFETY: the fd was just created, is owned by nothing else, and moves into glommio's socket.
    Ok(unsafe { UdpSocket::from_raw_fd(socket.into_raw_fd()) })
}

/// Asks for a large receive buffer: SO_RCVBUFFORCE when the process may (root or CAP_NET_ADMIN,
/// as collectors on bare metal often run), since plain SO_RCVBUF is capped by net.core.rmem_max
/// (about 200 KiB by default), which a burst of LSS datagrams overflows. Less only narrows the
/// burst the kernel absorbs, so a refusal is not an error.
fn request_receive_buffer(socket: &Socket) {
    if !sockopt::set_int(socket.as_raw_fd(), libc::SO_RCVBUFFORCE, RECEIVE_BUFFER) {
        let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    }
}

/// Receives datagrams until the shard drains.
pub async fn receive_loop(shard: Rc<Shard>, socket: UdpSocket, allow: Arc<ArcSwap<AllowList>>) {
    let fd = socket.as_raw_fd();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut framer = Framer::lf_only(shard.limits.max_frame_bytes);
    let mut batch = shard.batch(Source::Udp, UDP_BATCH);
    let mut drops = KernelDrops::new(fd);
    loop {
        if !batch.is_empty() {
            // The channel was full: wait for room (or a tick), taking what arrives meanwhile.
            let drain = futures_lite::future::or(
                async {
                    futures_lite::future::or(shard.room(), glommio::timer::sleep(PENDING_TICK))
                        .await;
                    false
                },
                async {
                    shard.shutdown.wait().await;
                    true
                },
            )
            .await;
            if drain {
                break;
            }
            let allow = allow.load();
            while let Some((n, peer)) = recv_now(fd, &mut buf) {
                take(&shard, &allow, &mut framer, &buf[..n], peer, &mut batch);
            }
            drops.count(&shard);
            batch = hand_over(&shard, batch);
            continue;
        }
        let received =
            futures_lite::future::or(async { Some(socket.recv_from(&mut buf).await) }, async {
                shard.shutdown.wait().await;
                None
            })
            .await;
        let (n, peer) = match received {
            None => break,
            Some(Ok(got)) => got,
            Some(Err(_)) => {
                batch.counters.incr(Counter::ReadErrors);
                continue;
            }
        };
        // One load per wake-up: a reload takes effect from the next one.
        let allow = allow.load();
        take(&shard, &allow, &mut framer, &buf[..n], peer, &mut batch);
        // Whatever else is already queued joins the same batch without waiting.
        while batch.records.len() < BATCH_BYTES {
            match recv_now(fd, &mut buf) {
                Some((n, peer)) => take(&shard, &allow, &mut framer, &buf[..n], peer, &mut batch),
                None => break,
            }
        }
        drops.count(&shard);
        batch = hand_over(&shard, batch);
    }
    // Drain: what the kernel already holds is taken, then the last batch waits its turn.
    let allow = allow.load();
    while let Some((n, peer)) = recv_now(fd, &mut buf) {
        take(&shard, &allow, &mut framer, &buf[..n], peer, &mut batch);
    }
    drops.count(&shard);
    shard.send(batch).await;
}

/// The kernel's count of datagrams it dropped on one socket, as increments.
struct KernelDrops {
    fd: RawFd,
    seen: u32,
}

impl KernelDrops {
    fn new(fd: RawFd) -> Self {
        KernelDrops {
            fd,
            seen: kernel_drops(fd).unwrap_or(0),
        }
    }

    /// Counts the drops since the last call, apart from any batch (see `take`'s drops). A drop
    /// needs a full receive buffer, so datagrams are waiting to be read whenever new drops are:
    /// counting at every batch misses none.
    fn count(&mut self, shard: &Shard) {
        if let Some(now) = kernel_drops(self.fd) {
            // The kernel's count is a u32 that wraps.
            let dropped = u64::from(now.wrapping_sub(self.seen));
            if dropped > 0 {
                shard.count(Source::Udp, |c| c.add(Counter::UdpKernelDrops, dropped));
            }
            self.seen = now;
        }
    }
}

/// Datagrams the kernel dropped on this socket since it was made (SO_MEMINFO's drop count).
fn kernel_drops(fd: RawFd) -> Option<u32> {
    const DROPS: usize = libc::SK_MEMINFO_DROPS as usize;
    let mut info = [0u32; DROPS + 1];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, which lives for the call.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (rc == 0 && len as usize >= std::mem::size_of_val(&info)).then_some(info[DROPS])
}

/// Passes the batch on if the channel has room; otherwise keeps it to grow (and, past the
/// limit, stop growing). Returns the batch to fill next.
fn hand_over(shard: &Shard, batch: Batch) -> Batch {
    match shard.offer(batch) {
        Offer::Sent | Offer::Closed => shard.batch(Source::Udp, UDP_BATCH),
        Offer::Full(batch) => *batch,
    }
}

/// Frames and parses one datagram into the batch, unless its sender is refused or the pending
/// batch is already at its limit.
fn take(
    shard: &Shard,
    allow: &AllowList,
    framer: &mut Framer,
    datagram: &[u8],
    peer: SocketAddr,
    batch: &mut Batch,
) {
    let peer = super::named(peer);
    if !allow.admits(peer.ip()) {
        // Apart from the batch, which may be held while the channel is full (see the drops).
        shard.count(Source::Udp, |c| c.incr(Counter::DatagramsRefused));
        if let Some(held) = shard.notices.due(Notice::Refused, Source::Udp) {
            tracing::warn!(
                "input.udp: refused a datagram from {}: not in input.udp.allowed_ips{}",
                peer.ip(),
                and_more(held)
            );
        }
        return;
    }
    if batch.records.len() >= PENDING_LIMIT {
        // Counted apart from the held batch, which waits for room as long as the channel is
        // full: the drops reach `/metrics` meanwhile, through the side channel.
        shard.count(Source::Udp, |c| c.incr(Counter::DatagramsDropped));
        return;
    }
    let read_at = Instant::now();
    batch.read_at.get_or_insert(read_at);
    batch.counters.incr(Counter::Datagrams);
    batch
        .counters
        .add(Counter::BytesRead, datagram.len() as u64);
    let origin = Origin {
        peer,
        received: Timestamp::now(),
        source: Source::Udp,
    };
    let mut pipeline = shard.pipeline.borrow_mut();
    let start = process_frames(framer, &mut pipeline, datagram, &origin, batch);
    // A datagram ends its last record: a missing final LF is normal for UDP syslog.
    match framer.finish(&datagram[start..]) {
        Tail::Clean => {}
        Tail::Unterminated { payload } | Tail::Truncated { partial: payload } => {
            pipeline.process(
                &datagram[start + payload.start..start + payload.end],
                &origin,
                batch,
            );
        }
    }
    batch.parse_time += read_at.elapsed();
}

/// A datagram the kernel already holds, without waiting.
fn recv_now(fd: RawFd, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    // SAFETY: the fd stays open for the loop's lifetime; ManuallyDrop keeps this borrowed
    // Socket from closing it.
    let socket = std::mem::ManuallyDrop::new(unsafe { Socket::from_raw_fd(fd) });
    // SAFETY: recv only writes initialised bytes into the buffer and reports how many.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let (n, from): (usize, SockAddr) = socket
        .recv_from_with_flags(uninit, libc::MSG_DONTWAIT)
        .ok()?;
    Some((n, from.as_socket()?))
}
