//! The way in for the fuzz target `http` (`tests/fuzz`): one connection served over any stream,
//! as [`super::serve`] serves an accepted one once its TLS handshake is done, through hyper's
//! server and ztel's [`Requests`], ending with the connection's own batch. Only the socket's
//! timeouts are left out: the target's stream is in memory and never stalls. Built with the
//! `fuzzing` feature only.

use std::net::SocketAddr;
use std::rc::Rc;

use futures_lite::{AsyncRead, AsyncWrite};

use super::io::Progress;
use super::{end_connection, serve_http, Input, Requests};
use crate::shard::Shard;

/// Serves `stream` as a connection from `peer` until it ends, then sends the connection's batch.
pub async fn serve_stream<S>(shard: Rc<Shard>, stream: S, peer: SocketAddr, input: Rc<Input>)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let progress = Rc::new(Progress::default());
    let requests = Rc::new(Requests::new(shard.clone(), input, peer, progress));
    let ended = serve_http(&shard, stream, requests).await;
    end_connection(&shard, ended).await;
}
