//! `ztel serve` started the way systemd starts it: with the supervisor's environment variables
//! (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `JOURNAL_STREAM`) and stderr on a stream socket, as
//! journald's is. Stderr is read without blocking, so that a test can tell what had been written
//! by a given moment (before a notification arrived, say).

use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::process::{Child, ExitStatus, Stdio};
use std::time::Instant;

use super::{wait_until, ztel, TempDir, DEADLINE, STOP_DEADLINE};

/// A running `ztel serve` and what it wrote to stderr so far.
pub struct Supervised {
    child: Child,
    stderr: UnixStream,
    /// Bytes of a line not yet complete.
    partial: Vec<u8>,
    /// Every complete stderr line so far.
    pub lines: Vec<String>,
}

impl Supervised {
    /// Starts `ztel serve` on an OS-chosen loopback TCP port, other inputs and the admin
    /// endpoint off, data in `dir`, with `args` after those and `env` added to the environment.
    /// With `journal`, `JOURNAL_STREAM` names the stderr socket, as systemd's does.
    pub fn start(dir: &TempDir, args: &[&str], env: &[(&str, &str)], journal: bool) -> Self {
        let (ours, theirs) = UnixStream::pair().expect("socket pair for stderr");
        let data = dir.path().join("data");
        let mut cmd = ztel();
        cmd.args(super::SERVE_ON_LOOPBACK)
            .args(["--shards", "1"])
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .envs(env.iter().copied());
        for name in [
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
            "JOURNAL_STREAM",
        ] {
            if !env.iter().any(|(n, _)| *n == name) {
                cmd.env_remove(name);
            }
        }
        if journal {
            let meta = std::fs::File::from(theirs.as_fd().try_clone_to_owned().expect("dup"))
                .metadata()
                .expect("fstat the stderr socket");
            cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(OwnedFd::from(theirs)))
            .spawn()
            .expect("spawn ztel serve");
        // `cmd` holds the child's end until dropped: drop it so that EOF comes when ztel exits.
        drop(cmd);
        ours.set_nonblocking(true).expect("non-blocking stderr");
        Supervised {
            child,
            stderr: ours,
            partial: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Reads what is on stderr now, without waiting; returns the lines that were new. The
    /// second value says whether stderr has ended (the process exited).
    pub fn read_now(&mut self) -> (Vec<String>, bool) {
        let mut buf = [0u8; 8192];
        let mut ended = false;
        loop {
            match self.stderr.read(&mut buf) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("reading ztel's stderr: {e}"),
            }
        }
        let mut new = Vec::new();
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8(line).expect("stderr is UTF-8");
            new.push(line.trim_end_matches('\n').to_owned());
        }
        self.lines.extend(new.iter().cloned());
        (new, ended)
    }

    /// Waits (10 s at most) for a stderr line that `wanted` accepts, and returns it.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = 0;
        loop {
            let (_, ended) = self.read_now();
            if let Some(line) = self.lines[seen..].iter().find(|l| wanted(l)) {
                return line.clone();
            }
            seen = self.lines.len();
            assert!(
                !ended && Instant::now() < deadline,
                "no such stderr line (ended: {ended}); stderr:\n{}",
                self.lines.join("\n")
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own child, which has not been waited for.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits for the process to exit (15 s at most, then kills it) and for the end of its
    /// stderr; returns the exit status and every stderr line.
    pub fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let Some(status) = wait_until(&mut self.child, STOP_DEADLINE) else {
            panic!(
                "ztel did not exit within {STOP_DEADLINE:?}; stderr:\n{}",
                self.lines.join("\n")
            );
        };
        let deadline = Instant::now() + DEADLINE;
        while !self.read_now().1 {
            assert!(Instant::now() < deadline, "stderr did not end after exit");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        (status, std::mem::take(&mut self.lines))
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
