//! loadgen's syslog headers against a real `ztel serve`: every source and NSS format, behind no
//! header, its template's, an RFC 3164 and an RFC 5424 one, with 10,000 devices and churn, each
//! record arrives as a record and none is a dead letter (ztel's drained line counts them).
//!
//! ztel is another package of the workspace, so cargo gives this test no path to its binary: it
//! is looked up next to this test's own executable (`target/debug/ztel`), which `cargo build
//! --workspace` or `cargo test --workspace` has built. Without it the test says so and does
//! nothing, except under CI, where that is a failure; `header.rs` runs the same lines through
//! ztel's decoder in any case.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const RECORDS: u64 = 300;
const WAIT: Duration = Duration::from_secs(30);

const SOURCES: &[&[&str]] = &[
    &["--source", "nss", "--dialect", "ztel"],
    &["--source", "nss", "--dialect", "elastic"],
    &["--source", "nss", "--dialect", "sekoia"],
    &["--source", "nss", "--format", "leef"],
    &["--source", "nss", "--format", "cef"],
    &["--source", "nss", "--format", "kv"],
    &["--source", "nss", "--format", "csv"],
    &["--source", "fw"],
    &["--source", "dns"],
    &["--source", "lss"],
];
/// No --header (each template's own), then each value of it.
const HEADERS: &[&[&str]] = &[
    &[],
    &["--header", "none"],
    &["--header", "3164"],
    &["--header", "5424"],
];

fn ztel_binary() -> Option<PathBuf> {
    // target/debug/deps/header_serve-HASH → target/debug/ztel
    let found = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("ztel")))
        .filter(|path| path.exists());
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "no ztel binary next to the tests (cargo build -p ztel)"
    );
    found
}

/// `ztel serve` on an OS-chosen loopback port, its stderr lines on a channel.
struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: String,
    admin: String,
    dir: PathBuf,
}

impl Serve {
    fn start(binary: &PathBuf) -> Serve {
        let dir = std::env::temp_dir().join(format!("loadgen-header-serve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--tcp",
                "127.0.0.1:0",
                "--udp",
                "",
                "--admin",
                "127.0.0.1:0",
            ])
            .args(["--shards", "1", "--data-dir"])
            .arg(dir.join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ztel serve starts");
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut serve = Serve {
            child,
            lines,
            addr: String::new(),
            admin: String::new(),
            dir,
        };
        serve.admin = serve.listening("admin");
        serve.addr = serve.listening("tcp");
        serve
    }

    /// The address of `ztel: listening INPUT ADDR …`.
    fn listening(&mut self, input: &str) -> String {
        let text = format!("ztel: listening {input} ");
        let line = self.wait_for(&text);
        let after = line.split(&text).nth(1).unwrap_or_default();
        after.split(' ').next().unwrap_or_default().to_string()
    }

    /// Waits until ztel has read every connection to its end (a drain stops reading those still
    /// open): /metrics counts them closed.
    fn wait_closed(&self, connections: u64) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            let mut text = String::new();
            if let Ok(mut sock) = TcpStream::connect(&self.admin) {
                let _ = sock.set_read_timeout(Some(WAIT));
                let _ = write!(sock, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
                let _ = sock.read_to_string(&mut text);
            }
            let closed: u64 = text
                .lines()
                .filter(|l| l.starts_with("ztel_connections_closed_total{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum();
            if closed >= connections {
                return;
            }
            last = format!("{closed} of {connections} connections closed");
            thread::sleep(Duration::from_millis(50));
        }
        panic!("ztel did not read every connection within {WAIT:?}: {last}");
    }

    /// The first stderr line from now on that holds `text`.
    fn wait_for(&mut self, text: &str) -> String {
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => {
                    let _ = self.child.kill();
                    panic!("no {text:?} from ztel serve within {WAIT:?}: {e}");
                }
            }
        }
    }

    /// SIGTERM: ztel drains and says what it counted, as `name=value` pairs.
    fn drain(mut self) -> BTreeMap<String, u64> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let line = self.wait_for("drained: ");
        let status = self.child.wait().expect("ztel serve ends");
        assert!(status.success(), "{status:?}: {line}");
        let _ = std::fs::remove_dir_all(&self.dir);
        let counts = line.split("drained: ").nth(1).unwrap_or_default();
        counts
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect()
    }
}

#[test]
fn every_header_and_source_arrives_as_records_none_dead_lettered() {
    let Some(binary) = ztel_binary() else {
        eprintln!("skipped: no ztel binary next to the tests (cargo build -p ztel)");
        return;
    };
    let serve = Serve::start(&binary);
    let mut seed = 0u64;
    for source in SOURCES {
        for header in HEADERS {
            // A seed of its own each: the same record behind another header is the same payload,
            // which ztel would rightly drop as a duplicate.
            seed += 1;
            let (count, seed) = (RECORDS.to_string(), seed.to_string());
            let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
                .args(["--target", &serve.addr, "--count", &count, "--seed", &seed])
                .args(["--devices", "10000", "--churn", "4", "--quiet"])
                .args(*source)
                .args(*header)
                .output()
                .expect("loadgen runs");
            assert!(out.status.success(), "{source:?} {header:?}: {out:?}");
        }
    }
    serve.wait_closed((SOURCES.len() * HEADERS.len()) as u64);
    let counts = serve.drain();
    let sent = RECORDS * (SOURCES.len() * HEADERS.len()) as u64;
    let records: u64 = counts
        .iter()
        .filter(|(k, _)| k.starts_with("records_"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(counts.get("frames"), Some(&sent), "{counts:?}");
    assert_eq!(records, sent, "{counts:?}");
    assert!(
        !counts.keys().any(|k| k.starts_with("dead")),
        "dead letters: {counts:?}"
    );
    assert_eq!(
        counts.get("records_zia_web"),
        Some(&(RECORDS * 7 * HEADERS.len() as u64)),
        "{counts:?}"
    );
}
