//! A connection's sleep between reads (`hold.rs` says when and how long), during which the
//! packets that come do not wake the shard.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use glommio::net::TcpStream;

use super::{hold, sockopt};

/// Sleeps `pause` without being woken by the packets that come meanwhile, and says how many
/// bytes the kernel holds after it (0: none came). glommio arms a readiness poll after every
/// read that did not fill its buffer, and each packet that completes it would wake the shard for
/// nothing: so the socket's low-water mark is raised to a full batch for the sleep, and lowered
/// again after it, which signals what came (tcp_set_rcvlowat). A full batch that is there
/// already is read at once.
pub async fn nap(socket: &TcpStream, pause: Duration) -> usize {
    let fd = socket.as_raw_fd();
    let queued = sockopt::queued(fd);
    // A peer that has closed sends nothing more: the read after a nap would only find the end,
    // and the connection would hold its slot of `max_connections` meanwhile (a sender that
    // connects for every line had thousands of them open, and new ones refused).
    if queued >= hold::FULL || sockopt::peer_closed(fd) {
        return queued;
    }
    // Linux clamps the receive window to a low-water mark that its buffer could not hold twice
    // over, and keeps the clamp after the mark is lowered: a smaller mark only wakes earlier.
    // SAFETY: the descriptor belongs to `socket`, which outlives this borrow.
    let buffer = socket2::SockRef::from(&unsafe { BorrowedFd::borrow_raw(fd) })
        .recv_buffer_size()
        .unwrap_or(0);
    // A refusal only costs wake-ups.
    sockopt::set_int(fd, libc::SO_RCVLOWAT, hold::FULL.min(buffer / 4));
    glommio::timer::sleep(pause).await;
    let came = sockopt::queued(fd);
    sockopt::set_int(fd, libc::SO_RCVLOWAT, 1);
    came
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Instant;

    use futures_lite::AsyncReadExt;
    use glommio::net::TcpListener;

    use super::*;

    /// A nap says how many bytes came, and leaves the socket as it found it: a read after it
    /// returns what came at once, and then a single byte, far below the nap's low-water mark.
    #[test]
    fn a_nap_says_how_many_bytes_came_and_leaves_them_readable() {
        let ex = glommio::LocalExecutorBuilder::default()
            .make()
            .expect("an executor");
        ex.run(async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("address");
            let mut peer = std::net::TcpStream::connect(addr).expect("connect");
            peer.set_nodelay(true).expect("nodelay");
            let mut stream = listener.accept().await.expect("accept");
            let wait = Some(Duration::from_secs(5));
            stream.set_read_timeout(wait).expect("timeout");
            let mut buf = [0u8; 64];

            assert_eq!(nap(&stream, Duration::from_millis(2)).await, 0);
            peer.write_all(b"a record\n").expect("write");
            // Until the kernel has the bytes: the nap only looks at its end.
            while sockopt::queued(stream.as_raw_fd()) == 0 {
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(nap(&stream, Duration::from_millis(2)).await, 9);
            let started = Instant::now();
            assert_eq!(stream.read(&mut buf).await.expect("read"), 9);
            assert!(started.elapsed() < Duration::from_secs(1));

            assert_eq!(nap(&stream, Duration::from_millis(2)).await, 0);
            peer.write_all(b"x").expect("write");
            assert_eq!(stream.read(&mut buf).await.expect("read"), 1);
            assert_eq!(&buf[..1], b"x");

            // A full batch waiting already: no sleep at all, however long the pause asked.
            let batch = vec![b'y'; hold::FULL];
            peer.write_all(&batch).expect("write");
            while sockopt::queued(stream.as_raw_fd()) < hold::FULL {
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
            let started = Instant::now();
            assert!(nap(&stream, Duration::from_secs(30)).await >= hold::FULL);
            assert!(started.elapsed() < Duration::from_secs(5));
        });
    }
}
