//! Plain TCP syslog (NSS and LSS on 1514): accept, check the allow-list and the connection limit,
//! then read, frame and parse in the connection's own buffer.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;

use futures_lite::AsyncReadExt;
use glommio::net::{TcpListener, TcpStream};
use jiff::Timestamp;

use crate::config::AllowList;
use crate::frame::{Framer, Next, Tail};
use crate::metrics::Counter;
use crate::parse::Reason;
use crate::pipeline::{dead_letter, Batch, Origin};
use crate::shard::Shard;

/// Binds one shard's listener (SO_REUSEPORT is set by glommio).
pub fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(address).map_err(|e| match e {
        glommio::GlommioError::IoError(io) => io,
        other => io::Error::other(other.to_string()),
    })
}

/// Accepts until the shard drains, then drops the listener.
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener, allow: AllowList) {
    loop {
        let accepted = futures_lite::future::or(async { Some(listener.accept().await) }, async {
            shard.shutdown.wait().await;
            None
        })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok(stream)) => stream,
            Some(Err(e)) => {
                // EMFILE and friends: keep accepting once the pressure is gone.
                tracing::warn!(shard = shard.index, "accept failed: {e}");
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        if !allow.admits(peer.ip()) {
            shard.count(|c| c.incr(Counter::ConnectionsRefused));
            tracing::debug!(%peer, "refused: not in input.tcp.allowed_ips");
            continue;
        }
        if shard.open_connections() >= shard.limits.max_connections {
            shard.count(|c| c.incr(Counter::ConnectionsOverLimit));
            continue;
        }
        shard.count(|c| c.incr(Counter::ConnectionsOpened));
        glommio::spawn_local(serve(shard.clone(), stream, peer)).detach();
    }
}

/// Smallest free space a read is given: less and the buffer is compacted or grown first.
const MIN_READ: usize = 16 << 10;
/// A connection's buffer starts here and grows only for frames that need it.
const INITIAL_BUFFER: usize = 64 << 10;

/// Reads one connection to its end.
async fn serve(shard: Rc<Shard>, mut stream: TcpStream, peer: SocketAddr) {
    let id = shard.register(stream.as_raw_fd());
    let _ = stream.set_read_timeout(Some(shard.limits.idle_timeout));
    let max_frame = shard.limits.max_frame_bytes;
    // The framer never holds more than a maximal frame and its octet-count header unconsumed.
    let buffer_limit = max_frame + 16 + MIN_READ;
    let mut framer = Framer::new(max_frame);
    let mut buf = vec![0u8; INITIAL_BUFFER.min(buffer_limit)];
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        if buf.len() - end < MIN_READ {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            if buf.len() - end < MIN_READ && buf.len() < buffer_limit {
                buf.resize((buf.len() * 2).min(buffer_limit), 0);
            }
        }
        let n = match stream.read(&mut buf[end..]).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                shard.count(|c| {
                    c.incr(if e.kind() == io::ErrorKind::TimedOut {
                        Counter::IdleTimeouts
                    } else {
                        Counter::ReadErrors
                    })
                });
                break;
            }
        };
        end += n;
        let origin = Origin {
            peer,
            received: Timestamp::now(),
        };
        let mut batch = Batch::new(shard.index);
        batch.counters.add(Counter::BytesRead, n as u64);
        {
            let mut pipeline = shard.pipeline.borrow_mut();
            loop {
                match framer.next(&buf[start..end]) {
                    Next::Frame { payload, consumed } => {
                        let frame = &mut buf[start + payload.start..start + payload.end];
                        pipeline.process(frame, &origin, &mut batch);
                        start += consumed;
                    }
                    Next::Oversize { consumed } => {
                        batch.counters.incr(Counter::OversizeFrames);
                        start += consumed;
                    }
                    Next::Skipped { consumed } => start += consumed,
                    Next::Incomplete => break,
                }
            }
        }
        if start == end {
            start = 0;
            end = 0;
        }
        if !shard.send(batch).await {
            break;
        }
    }
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
    shard.unregister(id);
    batch.counters.incr(Counter::ConnectionsClosed);
    shard.send(batch).await;
}
