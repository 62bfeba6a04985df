//! The keys of `ztel top`, read from the terminal with poll(2) and read(2) rather than through
//! crossterm's event reader: when the terminal goes away (a dropped SSH session, a killed tmux),
//! read gives 0 or EIO for ever, and crossterm's reader retries that inside `event::poll` without
//! returning, so neither the quit keys nor the signal flag were ever looked at again (a process
//! at 20–55 % CPU that only SIGKILL ended). Here the end of the terminal is an answer like a key.
//!
//! Only the keys that quit need knowing, so the bytes are read as raw mode gives them: `q`, `Q`,
//! Ctrl-C (ETX, raw mode turns off ISIG) and a lone Esc; escape sequences (arrows, function keys)
//! and Alt chords are skipped whole, so that their ESC is not taken for the Esc key.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// What waiting on the terminal gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Nothing that matters: the time ran out, a signal came, or keys that do not quit.
    Nothing,
    /// q, Q, Esc or Ctrl-C.
    Quit,
    /// The terminal hung up: its input ended (read gave 0), failed with EIO, or poll said so.
    Gone,
}

/// Bytes taken per read; keys come a few at a time.
const BUFFER: usize = 256;

/// The terminal's input: standard input when it is the terminal, else `/dev/tty`, as crossterm's
/// raw mode picks the terminal to set.
pub struct Keys {
    fd: RawFd,
    /// Keeps `/dev/tty` open while it is the one read; `None` for standard input.
    _tty: Option<File>,
    buffer: [u8; BUFFER],
}

impl Keys {
    pub fn open() -> io::Result<Keys> {
        let stdin = io::stdin();
        let (fd, tty) = if io::IsTerminal::is_terminal(&stdin) {
            (stdin.as_raw_fd(), None)
        } else {
            let tty = OpenOptions::new().read(true).open("/dev/tty")?;
            (tty.as_raw_fd(), Some(tty))
        };
        Ok(Keys {
            fd,
            _tty: tty,
            buffer: [0; BUFFER],
        })
    }

    /// Waits up to `timeout` for the terminal, and reads what it has. A signal ends the wait early
    /// (poll is never restarted), so that the caller looks at its flag at once.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<Input> {
        let mut pollfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd, valid for the duration of the call.
        let ready = unsafe { libc::poll(&mut pollfd, 1, ms) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(Input::Nothing),
                _ => Err(e),
            };
        }
        if ready == 0 {
            return Ok(Input::Nothing);
        }
        if pollfd.revents & libc::POLLNVAL != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        // A hung-up terminal says POLLHUP (with POLLIN on Linux); the read below then gives 0.
        if pollfd.revents & libc::POLLIN == 0 {
            return Ok(Input::Gone);
        }
        // SAFETY: reads at most the buffer's length into the buffer.
        let n = unsafe { libc::read(self.fd, self.buffer.as_mut_ptr().cast(), BUFFER) };
        match usize::try_from(n) {
            Ok(0) => Ok(Input::Gone),
            Ok(n) => Ok(if quits(&self.buffer[..n], n < BUFFER) {
                Input::Quit
            } else {
                Input::Nothing
            }),
            Err(_) => {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EIO) => Ok(Input::Gone),
                    Some(libc::EINTR | libc::EAGAIN) => Ok(Input::Nothing),
                    _ => Err(e),
                }
            }
        }
    }
}

const ETX: u8 = 0x03;
const ESC: u8 = 0x1b;

/// Whether `bytes`, one read of a raw-mode terminal, hold a key that quits. `whole` says the read
/// did not fill the buffer: a terminal writes an escape sequence at once, so an ESC that ends a
/// read that was not cut short is the Esc key, not the start of a sequence.
fn quits(bytes: &[u8], whole: bool) -> bool {
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'q' | b'Q' | ETX => return true,
            ESC => match bytes.get(i + 1) {
                None => return whole,
                // CSI: parameters and intermediates up to a final byte in @..~.
                Some(b'[') => {
                    i += 2;
                    while bytes.get(i).is_some_and(|b| !(0x40..=0x7e).contains(b)) {
                        i += 1;
                    }
                    i += 1;
                }
                // SS3: one more byte (F1–F4, the keypad in application mode).
                Some(b'O') => i += 3,
                // Alt and a key, not Esc then the key.
                Some(_) => i += 2,
            },
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::quits;

    #[test]
    fn the_keys_that_quit() {
        for keys in [&b"q"[..], b"Q", b"\x03", b"\x1b", b"abcq", b"\x1b[A\x1b"] {
            assert!(quits(keys, true), "{keys:?}");
        }
    }

    #[test]
    fn sequences_and_chords_are_not_esc() {
        // Up, F5 (CSI with a parameter and ~), F1 (SS3), Alt-x, a mouse-like CSI, plain keys.
        for keys in [
            &b"\x1b[A"[..],
            b"\x1b[15~",
            b"\x1bOP",
            b"\x1bx",
            b"\x1b[<0;3;4M",
            b"abc",
        ] {
            assert!(!quits(keys, true), "{keys:?}");
        }
        // The ESC that ends a full buffer may be a sequence cut in two.
        assert!(!quits(b"\x1b", false));
    }
}
