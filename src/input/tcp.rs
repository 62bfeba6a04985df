//! Plain TCP syslog (NSS and LSS on 1514): accept, check the allow-list and the connection limit,
//! then read, frame and parse in the connection's own buffer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use glommio::net::{TcpListener, TcpStream};
use socket2::{Domain, Protocol, Socket, Type};

use super::admission::Admission;
use super::allow::AllowList;
use super::conn::read_frames;
use crate::batch::counters::Counter;
use crate::batch::Source;
use crate::shard::notices::{and_more, Notice};
use crate::shard::Shard;

/// How long a connection accepted at `max_connections` waits for a slot before it is refused:
/// long enough for the connections of a burst that have closed to end (well under a
/// millisecond each), short enough that a flood's refusals are not held up.
const SLOT_PATIENCE: Duration = Duration::from_millis(250);

/// Binds one shard's listener: SO_REUSEPORT so that every shard binds the port and the kernel
/// spreads connections, and SO_REUSEADDR so that a collector restarted at once (an upgrade,
/// `systemctl restart`) binds while its old connections linger in TIME-WAIT or FIN-WAIT-2.
/// glommio's own `bind` sets only the first.
pub fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    // SAFETY: the descriptor is a listening TCP socket that this function owns and hands over.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

/// Accepts until the shard drains, then drops the listener.
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener, allow: Arc<ArcSwap<AllowList>>) {
    while let Some((stream, peer)) = accept_admitted(&shard, &listener, &allow, Source::Tcp).await {
        shard.spawn_connection(serve(shard.clone(), stream, peer, allow.clone()));
    }
}

/// The next connection that passes the allow-list and the connection limit, counted as opened;
/// `None` once the shard drains. Refused peers are closed before a byte is read: syslog has no
/// way to tell a sender why.
pub async fn accept_admitted(
    shard: &Shard,
    listener: &TcpListener,
    allow: &ArcSwap<AllowList>,
    source: Source,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        match accept_checked(shard, listener, allow, source, Outsiders::Close).await? {
            Accepted::Admitted(stream, peer) => return Some((stream, peer)),
            Accepted::Refused(..) => {}
        }
    }
}

/// What an accept does with a peer outside the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outsiders {
    /// Closed before a byte is read.
    Close,
    /// Handed over to be told why (HTTP answers 403), whether or not the shard is within its
    /// connection limit: the answer holds none of its slots, and the HTTP input bounds how many
    /// it answers at once.
    Answer,
}

/// A connection that got past [`accept_checked`].
pub enum Accepted {
    /// In the allow-list and within the connection limit, counted as opened.
    Admitted(TcpStream, SocketAddr),
    /// Outside the allow-list (with [`Outsiders::Answer`]): counted as refused and logged, not
    /// as opened, and to be answered and closed without a byte of it taken.
    Refused(TcpStream, SocketAddr),
}

/// The next connection that is admitted or, with [`Outsiders::Answer`], refused but to be
/// answered; `None` once the shard drains. Every refused peer is counted and logged here, the
/// same whether it is closed at once or answered.
pub async fn accept_checked(
    shard: &Shard,
    listener: &TcpListener,
    allow: &ArcSwap<AllowList>,
    source: Source,
    outsiders: Outsiders,
) -> Option<Accepted> {
    let input = source.section();
    loop {
        let accepted = futures_lite::future::or(async { Some(listener.accept().await) }, async {
            shard.shutdown.wait().await;
            None
        })
        .await?;
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => {
                // EMFILE and friends: keep accepting once the pressure is gone. Counted, and
                // said once a second: retried a hundred times a second, it buried the log.
                shard.count(source, |c| c.incr(Counter::AcceptFailures));
                if let Some(held) = shard.notices.due(Notice::AcceptFailed, source) {
                    tracing::warn!(
                        shard = shard.index,
                        "{input}: accept failed: {e}; the peer waits in the listen backlog{}",
                        and_more(held)
                    );
                }
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // A peer that reset its connection before it was accepted still sent what it sent,
        // which is there to be read; getpeername no longer names it, SO_PEERNAME still does.
        // Passed over, it was lost without a count. One that cannot be named at all is read as
        // the unspecified address's where the list admits every address, and else refused.
        let (peer, named, admitted) = match peer_name(&stream).map(super::named) {
            Ok(peer) => (peer, true, allow.load().admits(peer.ip())),
            Err(_) => {
                let unnamed = unnamed(listener);
                (unnamed, false, allow.load().admits_every(unnamed.is_ipv6()))
            }
        };
        if !admitted {
            shard.count(source, |c| c.incr(Counter::ConnectionsRefused));
            if let Some(held) = shard.notices.due(Notice::Refused, source) {
                let from = match named {
                    // Named as the list compares it, and as an entry for it is written.
                    true => peer.ip().to_string(),
                    false => "a peer whose address could not be read".into(),
                };
                tracing::warn!(
                    "{input}: refused a connection from {from}: not in {input}.allowed_ips{}",
                    and_more(held)
                );
            }
            if outsiders == Outsiders::Answer {
                return Some(Accepted::Refused(stream, peer));
            }
            continue;
        }
        if !shard.slot_within(SLOT_PATIENCE).await {
            shard.count(source, |c| c.incr(Counter::ConnectionsOverLimit));
            if let Some(held) = shard.notices.due(Notice::OverLimit, source) {
                tracing::warn!(
                    "{input}: refused a connection from {peer}: shard {} has \
                     limits.max_connections ({}) open{}",
                    shard.index,
                    shard.limits.max_connections,
                    and_more(held)
                );
            }
            continue;
        }
        shard.count(source, |c| c.incr(Counter::ConnectionsOpened));
        return Some(Accepted::Admitted(stream, peer));
    }
}

/// The peer's address: getpeername's, else (a connection reset before it was accepted, whose
/// state is closed) SO_PEERNAME's, which Linux answers in any state when asked for exactly an
/// address of the socket's own family (a larger size is EINVAL; a smaller one would be a
/// truncated address, so the size is the family's and what comes back is checked against it).
fn peer_name(stream: &TcpStream) -> std::io::Result<SocketAddr> {
    use std::os::fd::AsRawFd;
    if let Ok(peer) = stream.peer_addr() {
        return Ok(peer);
    }
    let fd = stream.as_raw_fd();
    // The socket's own family: its local address's (getsockname answers in any state).
    let (domain, size) = match stream.local_addr()? {
        SocketAddr::V4(_) => (
            socket2::Domain::IPV4,
            std::mem::size_of::<libc::sockaddr_in>(),
        ),
        SocketAddr::V6(_) => (
            socket2::Domain::IPV6,
            std::mem::size_of::<libc::sockaddr_in6>(),
        ),
    };
    // SAFETY: `fd` belongs to `stream`, which outlives the call; getsockopt writes at most
    // `len` bytes (an address's size, less than the storage's) into the zeroed storage socket2
    // hands it, and says how many in `len`.
    let ((), addr) = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            *len = size as libc::socklen_t;
            let got =
                libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERNAME, storage.cast(), len);
            if got == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })?
    };
    if addr.len() as usize != size || addr.domain() != domain {
        return Err(std::io::ErrorKind::NotConnected.into());
    }
    addr.as_socket()
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
}

/// The address a connection is read as when its peer's cannot be read at all: the
/// unspecified one of the listener's family.
fn unnamed(listener: &TcpListener) -> SocketAddr {
    let ip = match listener.local_addr().map(|a| a.ip()) {
        Ok(IpAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// Reads one connection to its end.
async fn serve(
    shard: Rc<Shard>,
    mut stream: TcpStream,
    peer: SocketAddr,
    allow: Arc<ArcSwap<AllowList>>,
) {
    super::conn::keep_alive(&stream);
    let _ = stream.set_read_timeout(Some(shard.limits.idle_timeout));
    read_frames(
        &shard,
        &mut stream,
        peer,
        Source::Tcp,
        Admission::new(&allow),
    )
    .await;
}
