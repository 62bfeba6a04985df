//! ztel under systemd's `Type=notify` (sd_notify(3)): READY=1 once every input listens,
//! WATCHDOG=1 at half of `WATCHDOG_USEC` from the aggregator's loop, STOPPING=1 when SIGTERM
//! starts the drain. The test plays systemd: it binds the notification socket and reads it.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::{Supervised, TempDir, DEADLINE};

/// The watchdog interval the test asks for: ztel must ping every 100 ms.
const WATCHDOG: Duration = Duration::from_millis(200);

/// Receives notifications until one has the line `wanted` (10 s at most); returns it and when
/// it arrived.
fn until(socket: &UnixDatagram, wanted: &str) -> (String, Instant) {
    let deadline = Instant::now() + DEADLINE;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no {wanted} within {DEADLINE:?}");
        socket.set_read_timeout(Some(left)).expect("read timeout");
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("waiting for {wanted}: {e}"));
        let message = String::from_utf8(buf[..n].to_vec()).expect("notifications are text");
        if message.lines().any(|l| l == wanted) {
            return (message, Instant::now());
        }
    }
}

#[test]
fn tells_systemd_it_is_ready_alive_and_stopping() {
    let dir = TempDir::new("notify");
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind the notification socket");
    let usec = WATCHDOG.as_micros().to_string();
    let notify_socket = path.display().to_string();
    let mut ztel = Supervised::start(
        &dir,
        &[],
        &[("NOTIFY_SOCKET", &notify_socket), ("WATCHDOG_USEC", &usec)],
        false,
    );

    let (ready, _) = until(&socket, "READY=1");
    // Everything ztel wrote before it sent READY=1 is on the stderr socket by now.
    let (before, _) = ztel.read_now();
    let tcp = before
        .iter()
        .find_map(|l| l.strip_prefix("ztel: listening tcp "))
        .unwrap_or_else(|| panic!("READY=1 came before the listening lines: {before:?}"));
    let addr = tcp.split(' ').next().expect("an address");
    assert!(
        ready
            .lines()
            .any(|l| l == format!("STATUS=listening on tcp {addr}")),
        "the status names the inputs: {ready:?}"
    );

    // Pings keep coming, about twice per interval. The median gap, not the largest, is held
    // to the interval: one late wake-up on a busy machine is what the halving leaves room for.
    let mut at = vec![until(&socket, "WATCHDOG=1").1];
    for _ in 0..6 {
        at.push(until(&socket, "WATCHDOG=1").1);
    }
    let mut gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort();
    let median = gaps[gaps.len() / 2];
    assert!(
        median < WATCHDOG,
        "watchdog pings every {median:?} (median), the interval is {WATCHDOG:?}: {gaps:?}"
    );

    ztel.signal(libc::SIGTERM);
    until(&socket, "STOPPING=1");
    let (status, lines) = ztel.wait();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", lines.join("\n"));
    assert!(
        lines.iter().any(|l| l.starts_with("ztel: drained: ")),
        "a drained line: {lines:?}"
    );
}
