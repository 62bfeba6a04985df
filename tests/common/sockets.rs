//! What the tests see of the collector's sockets from outside: connections from another
//! source address, senders that count what the kernel took, and the kernel's own tables of
//! what the collector has read.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{wait_for, DEADLINE};

/// A TCP connection from `source` (e.g. 127.0.0.2, outside an allow-list) to `to`.
pub fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let source: SocketAddr = source.parse().expect("source address");
    socket.bind(&source.into()).expect("bind source");
    socket
        .connect_timeout(&to.into(), Duration::from_secs(5))
        .expect("connect");
    socket.into()
}

/// A socket bound to `port` of 127.0.0.1 (the OS picks one for 0) with `SO_REUSEADDR`, and not
/// listening, and its address. A connection to it is refused, and while it lives no other
/// test's `127.0.0.1:0` gets the port (the OS never picks a bound one), where a port bound and
/// released at once (to find a free one) could be taken by another test meanwhile. A server
/// this test starts on the port binds it all the same, as long as it sets `SO_REUSEADDR` too
/// (std's listeners, ztel's inputs and nats-server do).
pub fn hold_port(port: u16) -> (socket2::Socket, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    socket.bind(&addr.into()).expect("bind");
    let bound = socket.local_addr().expect("address");
    (socket, bound.as_socket().expect("an IPv4 address"))
}

/// Whether the collector closed `stream` without sending anything, as a refused connection is:
/// a read sees its end (or a reset) within `within`. A read that times out is a connection
/// still open, not a closed one.
pub fn closed_unread(stream: &TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    match (&*stream).read(&mut [0u8; 16]) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

/// Sends `lines` on `stream` from a thread of its own, one LF-terminated line at a time, counting
/// each in the returned counter: a sender that a collector's push-back can stall.
pub fn send_counting(
    mut stream: TcpStream,
    lines: Vec<String>,
) -> (std::sync::Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
    let sent = std::sync::Arc::new(AtomicUsize::new(0));
    let progress = sent.clone();
    let sender = std::thread::spawn(move || {
        for line in &lines {
            stream.write_all(line.as_bytes()).expect("send");
            stream.write_all(b"\n").expect("send");
            progress.fetch_add(1, Ordering::Relaxed);
        }
        close_and_wait(stream);
    });
    (sent, sender)
}

/// Waits until a sender's progress counter stops moving (checked every `every`, 30 s at most)
/// and returns where it stopped: how a test sees that the collector pushed back.
pub fn wait_until_stalled(progress: &AtomicUsize, every: Duration) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = usize::MAX;
    loop {
        std::thread::sleep(every);
        let now = progress.load(Ordering::Relaxed);
        if now == last {
            return now;
        }
        assert!(Instant::now() < deadline, "the sender never stalled");
        last = now;
    }
}

/// The collector's connections on `port` that are established, and how many bytes the kernel
/// still holds for it to read on them (`/proc/net/tcp`).
pub fn server_side(port: u16) -> (usize, u64) {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let local = format!(":{port:04X}");
    let mut sockets = 0;
    let mut unread = 0;
    for row in table.lines().skip(1) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        if cols.len() > 4 && cols[1].ends_with(&local) && cols[3] == "01" {
            sockets += 1;
            let rx = cols[4].split(':').nth(1).unwrap_or("0");
            unread += u64::from_str_radix(rx, 16).unwrap_or(0);
        }
    }
    (sockets, unread)
}

/// Waits until at least `sockets` connections on `port` are established and the collector has
/// read every byte sent on them.
pub fn wait_read(port: u16, sockets: usize, within: Duration) {
    let read = wait_for(within, || {
        let (now, unread) = server_side(port);
        (now >= sockets && unread == 0).then_some(())
    });
    assert!(read.is_some(), "not read: {:?}", server_side(port));
}

/// The UDP sockets bound to `port` (`/proc/net/udp` and `udp6`): bytes the kernel holds unread
/// on them, and the datagrams it dropped on them (the last column); `None` when none is bound.
pub fn udp_sockets(port: u16) -> Option<(u64, u64)> {
    let local = format!(":{port:04X}");
    let mut found = None;
    for path in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(table) = std::fs::read_to_string(path) else {
            continue;
        };
        for row in table.lines().skip(1) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            if cols.len() < 13 || !cols[1].ends_with(&local) {
                continue;
            }
            let (queued, drops) = found.get_or_insert((0, 0));
            let rx = cols[4].split_once(':').map_or("0", |(_, rx)| rx);
            *queued += u64::from_str_radix(rx, 16).unwrap_or(0);
            *drops += cols[12].parse::<u64>().unwrap_or(0);
        }
    }
    found
}

/// Closes our side of `stream` and waits until the collector closes its side (10 s at most).
pub fn close_and_wait(mut stream: TcpStream) -> SocketAddr {
    let local = stream.local_addr().expect("local addr");
    stream.shutdown(Shutdown::Write).expect("shutdown write");
    let deadline = Instant::now() + DEADLINE;
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return local,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("waiting for ztel to close {local}: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "ztel did not close {local} within {DEADLINE:?}"
        );
    }
}
