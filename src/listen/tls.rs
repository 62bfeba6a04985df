//! TLS syslog (LSS on 6514): accept, check the allow-list, handshake within a time limit (with a
//! client certificate when mutual TLS is on), then read frames like plain TCP.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use futures_rustls::TlsAcceptor;
use glommio::net::{TcpListener, TcpStream};
use rustls::ServerConfig;

use super::conn::read_frames;
use super::tcp::accept_admitted;
use crate::config::AllowList;
use crate::metrics::Counter;
use crate::shard::Shard;

/// A handshake that takes longer (or longer than the idle timeout, if that is shorter) is
/// abandoned: a silent peer must not hold a connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts until the shard drains.
pub async fn accept_loop(
    shard: Rc<Shard>,
    listener: TcpListener,
    allow: Arc<ArcSwap<AllowList>>,
    config: Arc<ArcSwapOption<ServerConfig>>,
) {
    while let Some((stream, peer)) = accept_admitted(&shard, &listener, &allow, "input.tls").await {
        glommio::spawn_local(serve(shard.clone(), stream, peer, config.clone())).detach();
    }
}

async fn serve(
    shard: Rc<Shard>,
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ArcSwapOption<ServerConfig>>,
) {
    let id = shard.register(stream.as_raw_fd());
    let _ = stream.set_read_timeout(Some(shard.limits.idle_timeout));
    // The configuration current at accept time: a reload affects new connections only.
    let Some(config) = config.load_full() else {
        shard.unregister(id);
        shard.count(|c| c.incr(Counter::ConnectionsClosed));
        return;
    };
    let limit = HANDSHAKE_TIMEOUT.min(shard.limits.idle_timeout);
    let handshake = futures_lite::future::or(
        async { Some(TlsAcceptor::from(config).accept(stream).await) },
        async {
            glommio::timer::sleep(limit).await;
            None
        },
    )
    .await;
    match handshake {
        Some(Ok(mut tls)) => {
            match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
                Some(cert) => {
                    tracing::info!(%peer, subject = %crate::tls::subject(cert), "TLS client connected")
                }
                None => tracing::debug!(%peer, "TLS client connected"),
            }
            read_frames(&shard, &mut tls, peer).await;
        }
        Some(Err(e)) => {
            tracing::warn!(%peer, "TLS handshake failed: {e}");
            shard.count(|c| {
                c.incr(Counter::TlsHandshakeFailures);
                c.incr(Counter::ConnectionsClosed);
            });
        }
        None => {
            tracing::warn!(%peer, "TLS handshake timed out after {limit:?}");
            shard.count(|c| {
                c.incr(Counter::TlsHandshakeFailures);
                c.incr(Counter::ConnectionsClosed);
            });
        }
    }
    shard.unregister(id);
}
