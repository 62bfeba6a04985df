//! `ztel top` when its terminal goes away or a signal comes: the real binary on the slave side of
//! a pseudo-terminal of our own, as under SSH or tmux. Closing the master is what a dropped SSH
//! session or `tmux kill-server` does: the terminal hangs up (reads give end of file, writes EIO,
//! and the session leader gets SIGHUP). `ztel top` must then end by itself, not spin on the dead
//! terminal; and SIGTERM, SIGINT and SIGHUP end it with the terminal put back.

mod common;

use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{wait_for, ztel};

/// How long the first screen may take (a debug build).
const SHOW_WITHIN: Duration = Duration::from_secs(20);
/// How long `ztel top` may take to end once its terminal is gone or the signal sent: a few ticks.
const EXIT_WITHIN: Duration = Duration::from_secs(5);
/// The escape sequence that leaves the alternate screen: the terminal given back.
const LEAVE_ALTERNATE_SCREEN: &str = "\x1b[?1049l";

/// A pseudo-terminal's two ends, 80×24. Both close on exec (openpty(3) would leave them open):
/// a `ztel top` of another test started meanwhile must not hold this terminal open.
fn openpty() -> (File, OwnedFd) {
    let last_error = std::io::Error::last_os_error;
    // SAFETY: flags only; the descriptor returned is owned below.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(master >= 0, "posix_openpt: {}", last_error());
    // SAFETY: just opened, and owned by nothing else.
    let master = unsafe { File::from_raw_fd(master) };
    let fd = master.as_raw_fd();
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: a pty master, and a buffer of the length given.
    unsafe {
        assert_eq!(libc::grantpt(fd), 0, "grantpt: {}", last_error());
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt: {}", last_error());
        assert_eq!(
            libc::ptsname_r(fd, name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
    }
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: a pty master and a winsize that lives through the call.
    assert_eq!(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &size) }, 0);
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: ptsname_r wrote a NUL-terminated path into `name`.
    let slave = unsafe { libc::open(name.as_ptr(), flags) };
    assert!(slave >= 0, "open the slave: {}", last_error());
    // SAFETY: just opened, and owned by nothing else.
    (master, unsafe { OwnedFd::from_raw_fd(slave) })
}

/// `ztel top` with the pty's slave as its standard input, output and error. With `session`, in a
/// session of its own with the pty as its controlling terminal (as a login shell's `exec ztel
/// top` is), so that a hang-up also sends it SIGHUP; without, the end of input is all it gets.
struct Top {
    child: Child,
    master: Option<File>,
    /// What the master has read of the screen so far.
    output: Vec<u8>,
}

impl Top {
    fn start(session: bool) -> Top {
        let (master, slave) = openpty();
        let stdio = || Stdio::from(slave.try_clone().expect("dup the slave"));
        let mut cmd = ztel();
        cmd.args([
            "top",
            "--admin",
            &unreachable().to_string(),
            "--interval",
            "0.2",
        ])
        .env("TERM", "xterm-256color")
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio());
        if session {
            // SAFETY: setsid and ioctl are async-signal-safe and touch no memory of ours.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().expect("ztel top starts");
        // Only the child holds the slave now: its end is the terminal's end.
        drop(slave);
        let mut top = Top {
            child,
            master: Some(master),
            output: Vec::new(),
        };
        top.read_until(SHOW_WITHIN, |text| text.contains("ztel top"));
        top
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// Reads the master until `ok` holds of all that was read, or the child has ended and
    /// everything it wrote is read; fails after `limit`.
    fn read_until(&mut self, limit: Duration, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        let master = self.master.as_mut().expect("the master is open");
        let mut buffer = [0u8; 4096];
        while !ok(&String::from_utf8_lossy(&self.output)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "not seen within {limit:?}; the terminal got:\n{}",
                String::from_utf8_lossy(&self.output)
            );
            let mut pollfd = libc::pollfd {
                fd: master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(100) as libc::c_int;
            // SAFETY: one pollfd, valid for the call.
            if unsafe { libc::poll(&mut pollfd, 1, ms) } <= 0 {
                continue;
            }
            match master.read(&mut buffer) {
                Ok(n) if n > 0 => self.output.extend_from_slice(&buffer[..n]),
                // EIO: every slave descriptor is closed, the child has ended.
                _ => return,
            }
        }
    }

    /// Closes the master: the terminal hangs up. Returns the CPU time used until then.
    fn hang_up(&mut self) -> String {
        let used = cpu_of(self.child.id());
        drop(self.master.take());
        used
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: a signal to our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// The exit status, once the child has ended within [`EXIT_WITHIN`].
    fn wait_exit(&mut self, after: &str) -> ExitStatus {
        let ended = wait_for(EXIT_WITHIN, || self.child.try_wait().ok().flatten());
        ended.unwrap_or_else(|| {
            panic!(
                "ztel top still runs {EXIT_WITHIN:?} after {after} ({})",
                cpu_of(self.child.id())
            )
        })
    }
}

impl Drop for Top {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bound, not listening: nothing answers there, and no other test can be given the port.
fn unreachable() -> SocketAddr {
    static SOCKET: std::sync::OnceLock<socket2::Socket> = std::sync::OnceLock::new();
    let socket = SOCKET.get_or_init(|| {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("a socket");
        s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("a loopback port");
        s
    });
    socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("its address")
}

/// The CPU time a process has used so far, for the message of a test that found it still running.
fn cpu_of(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // utime and stime, fields 14 and 15, counted after the command name's closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    match (fields.get(11), fields.get(12)) {
        (Some(user), Some(system)) => format!("CPU time used: {user}+{system} clock ticks"),
        _ => "no /proc stat".to_owned(),
    }
}

#[test]
fn top_ends_when_its_terminal_goes_away() {
    for session in [true, false] {
        let mut top = Top::start(session);
        let before = top.hang_up();
        let what = if session {
            "its controlling terminal hung up"
        } else {
            "its terminal's input ended"
        };
        let status = top.wait_exit(&format!("{what}; {before} until then"));
        // 0, or 1 when the hang-up came in the middle of a draw; not a panic's 101 or a signal.
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "{what}: ended with {status:?}"
        );
    }
}

#[test]
fn signals_end_top_and_give_the_terminal_back() {
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let mut top = Top::start(true);
        top.signal(signal);
        top.read_until(EXIT_WITHIN, |text| text.contains(LEAVE_ALTERNATE_SCREEN));
        assert!(
            top.text().contains(LEAVE_ALTERNATE_SCREEN),
            "signal {signal}: the alternate screen was not left:\n{}",
            top.text()
        );
        let status = top.wait_exit(&format!("signal {signal}"));
        assert!(
            status.success(),
            "signal {signal}: {status:?} (signal {:?})\n{}",
            status.signal(),
            top.text()
        );
    }
}
