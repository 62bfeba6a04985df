//! Where `ztel serve` says what it does: stderr, as plain lines (a terminal, a pipe, journald)
//! or as one JSON object per line (`--log-format json`, for log shippers). The lines scripts
//! and tests read (`ztel: listening …`, `ztel: drained: …`) keep their exact text in plain mode
//! and become events like any other in JSON mode, so that every line is JSON.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Level;
use tracing_subscriber::filter::{filter_fn, FilterFn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// "1 shard", "4 shards", as the log says them.
pub fn shards_text(shards: usize) -> String {
    match shards {
        1 => "1 shard".into(),
        n => format!("{n} shards"),
    }
}

/// How stderr lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people: a timestamp (left out under journald, which stamps lines itself),
    /// the level, the message.
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, message and the event's fields.
    Json,
}

/// Set once by [`init`]; read by [`say`] and [`json`].
static JSON: AtomicBool = AtomicBool::new(false);

/// Installs the process's log subscriber; `ZTEL_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    // glommio's warning about buffers it could not register spans several lines; run.rs says
    // the same in one line, with what to raise.
    let filter = EnvFilter::try_from_env("ZTEL_LOG")
        // async-nats logs connection events itself; [output.nats] says each in its own words
        // (and a refused start in one line), so the client's own lines are off by default.
        .unwrap_or_else(|_| EnvFilter::new("info,glommio::sys::uring=error,async_nats=off"));
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match format {
        LogFormat::Json => {
            JSON.store(true, Ordering::Relaxed);
            // Flattened: shippers find `message` and the fields at the top level.
            lines
                .json()
                .flatten_event(true)
                .finish()
                .with(no_secrets())
                .init();
        }
        LogFormat::Text if !terminal && stderr_is_journal() => {
            lines
                .with_ansi(false)
                .without_time()
                .finish()
                .with(no_secrets())
                .init();
        }
        LogFormat::Text => lines.with_ansi(terminal).finish().with(no_secrets()).init(),
    }
}

/// Whatever `ZTEL_LOG` asks for, leaves out async-nats's trace of the CONNECT it writes (the
/// event with a `connect_info` field): that holds the password of `output.nats.url` in the clear.
fn no_secrets() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    filter_fn(|meta| {
        !(meta.target().starts_with("async_nats") && meta.fields().field("connect_info").is_some())
    })
}

/// Whether lines are JSON (`--log-format json`).
pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A message for the operator: `ztel: MESSAGE` on stderr as it always was, or an event at
/// `level` in JSON mode.
pub fn say(level: Level, message: fmt::Arguments) {
    if !json() {
        eprintln!("ztel: {message}");
    } else if level == Level::ERROR {
        tracing::error!("{message}");
    } else if level == Level::WARN {
        tracing::warn!("{message}");
    } else {
        tracing::info!("{message}");
    }
}

/// Whether stderr is journald's stream: systemd names it in `JOURNAL_STREAM` (device:inode).
/// Checked against stderr itself, since a child of a service inherits the variable even when
/// its stderr goes elsewhere.
fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    stream
        .to_str()
        .is_some_and(|s| names_stream(s, meta.dev(), meta.ino()))
}

/// `JOURNAL_STREAM`'s value is `DEVICE:INODE`, both decimal.
fn names_stream(value: &str, dev: u64, ino: u64) -> bool {
    value
        .split_once(':')
        .is_some_and(|(d, i)| d.parse() == Ok(dev) && i.parse() == Ok(ino))
}

/// `text` as it may stand in a log line or on a terminal when a client wrote it (a certificate's
/// subject): control characters escaped (`\n`, `\u{1b}`), or it would forge lines or drive the
/// terminal; so are the invisible ones that reorder or hide text (bidirectional overrides, zero
/// widths, line separators), or it would show other words than it holds.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Format characters that change how the text around them shows.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
        | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_names_device_and_inode() {
        assert!(names_stream("8:1234", 8, 1234));
        assert!(!names_stream("8:1234", 8, 1235));
        assert!(!names_stream("9:1234", 8, 1234));
        assert!(!names_stream("8", 8, 1234));
        assert!(!names_stream("", 8, 1234));
        assert!(!names_stream("x:y", 8, 1234));
    }

    #[test]
    fn a_clients_text_cannot_start_a_log_line_or_hide_its_words() {
        let forged = "CN=evil\n2026-12-06T00:00:00Z ERROR fake \u{1b}[31mred";
        assert_eq!(
            printable(forged),
            "CN=evil\\n2026-12-06T00:00:00Z ERROR fake \\u{1b}[31mred"
        );
        assert_eq!(
            printable("CN=connector-1,O=Corp é"),
            "CN=connector-1,O=Corp é"
        );
        // A right-to-left override showed `CN=exe.gnp` as `CN=png.exe`; a line separator broke
        // the line where a viewer honours it.
        assert_eq!(printable("CN=\u{202e}gnp.exe"), "CN=\\u{202e}gnp.exe");
        assert_eq!(printable("a\u{2028}b\u{200b}c"), "a\\u{2028}b\\u{200b}c");
    }
}
