//! The TLS handshake of the inputs that speak TLS (input.tls, HTTPS on input.http): within a time
//! limit, with the configuration current at accept time, failures counted and logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use futures_rustls::server::TlsStream;
use futures_rustls::TlsAcceptor;
use glommio::net::TcpStream;

use super::certs::TlsServer;
use crate::batch::counters::Counter;
use crate::batch::Source;
use crate::shard::notices::{and_more, Notice};
use crate::shard::Shard;

/// A handshake that takes longer (or longer than the idle timeout, if that is shorter) is
/// abandoned: a silent peer must not hold a connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a handshake may take on `shard`.
pub fn time_limit(shard: &Shard) -> Duration {
    HANDSHAKE_TIMEOUT.min(shard.limits.idle_timeout)
}

/// How a handshake ended. Lives on the stack for a moment, never stored: its size is the
/// stream's either way.
#[allow(clippy::large_enum_variant)]
enum Handshake {
    Done(std::io::Result<TlsStream<TcpStream>>),
    TimedOut,
    Drained,
}

/// Runs the server side of a handshake; `None` (counted, logged) when it fails or times out.
pub async fn accept(
    shard: &Shard,
    stream: TcpStream,
    peer: SocketAddr,
    config: &ArcSwapOption<TlsServer>,
    source: Source,
) -> Option<(TlsStream<TcpStream>, Arc<TlsServer>)> {
    let input = source.section();
    // The configuration in force now; a reload after the handshake asks the connection again
    // at its next read (`admission`).
    let server = config.load_full()?;
    let limit = time_limit(shard);
    // A drain does not wait for a handshake: the peer has sent no record yet, and a drain that
    // waited would take as long as the slowest peer's handshake.
    let accepted = futures_lite::future::or(
        async {
            Handshake::Done(
                TlsAcceptor::from(server.config.clone())
                    .accept(stream)
                    .await,
            )
        },
        futures_lite::future::or(
            async {
                glommio::timer::sleep(limit).await;
                Handshake::TimedOut
            },
            async {
                shard.shutdown.wait().await;
                Handshake::Drained
            },
        ),
    )
    .await;
    match accepted {
        Handshake::Done(Ok(tls)) => {
            match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
                Some(cert) => {
                    if let Some(held) = shard.notices.due(Notice::Connected, source) {
                        let subject = super::certs::subject(cert);
                        tracing::info!(
                            %peer,
                            %subject,
                            "{input}: TLS client connected{}",
                            and_more(held)
                        );
                    }
                }
                None => tracing::debug!(%peer, "{input}: TLS client connected"),
            }
            Some((tls, server))
        }
        Handshake::Done(Err(e)) => {
            shard.count(source, |c| c.incr(Counter::TlsHandshakeFailures));
            if let Some(held) = shard.notices.due(Notice::Handshake, source) {
                let why = super::certs::handshake_failure(&e);
                tracing::warn!(
                    "{input}: TLS handshake with {peer} failed: {why}{}",
                    and_more(held)
                );
            }
            None
        }
        Handshake::Drained => {
            tracing::debug!(%peer, "{input}: TLS handshake abandoned by the drain");
            None
        }
        Handshake::TimedOut => {
            shard.count(source, |c| c.incr(Counter::TlsHandshakeFailures));
            if let Some(held) = shard.notices.due(Notice::Handshake, source) {
                tracing::warn!(
                    "{input}: TLS handshake with {peer} timed out after {limit:?}{}",
                    and_more(held)
                );
            }
            None
        }
    }
}
