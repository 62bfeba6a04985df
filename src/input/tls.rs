//! TLS syslog (LSS on 6514): accept, check the allow-list, handshake within a time limit (with a
//! client certificate when mutual TLS is on), then read frames like plain TCP.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::admission::Admission;
use super::allow::AllowList;
use super::certs::TlsServer;
use super::conn::read_frames;
use super::tcp::accept_admitted;
use crate::batch::counters::Counter;
use crate::batch::Source;
use crate::shard::Shard;
use arc_swap::{ArcSwap, ArcSwapOption};
use futures_lite::AsyncWriteExt;
use glommio::net::{TcpListener, TcpStream};

/// How long the close_notify that ends a connection may wait for room in the socket.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);

/// Accepts until the shard drains.
pub async fn accept_loop(
    shard: Rc<Shard>,
    listener: TcpListener,
    allow: Arc<ArcSwap<AllowList>>,
    config: Arc<ArcSwapOption<TlsServer>>,
) {
    while let Some((stream, peer)) = accept_admitted(&shard, &listener, &allow, Source::Tls).await {
        let task = serve(shard.clone(), stream, peer, config.clone(), allow.clone());
        shard.spawn_connection(task);
    }
}

async fn serve(
    shard: Rc<Shard>,
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ArcSwapOption<TlsServer>>,
    allow: Arc<ArcSwap<AllowList>>,
) {
    super::conn::keep_alive(&stream);
    // No read timeout on the socket: the handshake has a time limit of its own, and a read the
    // handshake leaves waiting (rustls reads on until the socket would block) keeps the timer
    // it was armed with into the connection's first read, which cut a peer quiet after its
    // handshake at that limit though it is at a frame boundary.
    let _ = stream.set_read_timeout(None);
    match super::handshake::accept(&shard, stream, peer, &config, Source::Tls).await {
        Some((mut tls, handshake)) => {
            let admission = Admission::new(&allow).with_tls(&config, handshake);
            read_frames(&shard, &mut tls, peer, Source::Tls, admission).await;
            // close_notify before the close (RFC 8446 §6.1): without it a strict sender reads
            // the end as a cut and logs an error. Within a bound: a peer that reads nothing
            // must not hold the connection open.
            let close_notify = async {
                let _ = tls.close().await;
            };
            futures_lite::future::or(close_notify, glommio::timer::sleep(CLOSE_WITHIN)).await;
        }
        None => shard.count(Source::Tls, |c| c.incr(Counter::ConnectionsClosed)),
    }
}
