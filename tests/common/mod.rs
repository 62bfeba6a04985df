// Each test binary uses a different part of this harness.
#![allow(dead_code)]
//! A harness that runs the real `ztel` binary: start `ztel serve` on an OS-chosen port, talk raw
//! TCP to it, stop it with a signal and read what it reported and wrote. [`run_pipeline`] runs a
//! shard's pipeline in process instead.
//!
//! Every wait is bounded: the listening line must come within 10 s, a connection must be closed by
//! the collector within 10 s of our closing it, and the drain must end within 15 s (else the
//! process is killed and the test fails).
//!
//! The order of a record's fields, [`key_order`], the LSS sample line [`lss`] and the reception
//! time [`RECEIVED`] are the wire tests' (`wire/tests/common/shared.rs`), included here so that
//! they are written once.

#[path = "../../wire/tests/common/shared.rs"]
mod shared;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;
use wire::time::parse_zone;
use ztel::batch::{Batch, Origin};
use ztel::pipeline::Pipeline;

// Not every test binary uses them.
#[allow(unused_imports)]
pub use shared::*;

/// How long `ztel serve` may take to print its listening line, and a connection to be closed.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// How long a drain may take after the signal before the collector is killed.
pub const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// The binary under test.
pub fn ztel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ztel"));
    // The log filter is the collector's default, whatever the developer's shell says.
    cmd.env_remove("ZTEL_LOG");
    cmd
}

/// A folder under the system temp dir, unique per process and test, removed on drop (kept, and
/// named on stderr, when the test is failing, so that it can be inspected).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ztel-e2e-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` inside the folder and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// How to start the collector.
pub struct Options {
    pub shards: usize,
    /// TOML text for `--config`.
    pub config: Option<String>,
    /// `--records -`: records go to stdout, which is captured.
    pub records_to_stdout: bool,
    /// With `records_to_stdout`: stdout is not read until `Collector::open_stdout`, so that the
    /// collector's writes block (a slow consumer).
    pub hold_stdout: bool,
    /// Listen on UDP too (`--udp 127.0.0.1:0`).
    pub udp: bool,
    /// More arguments for `ztel serve` (`--tls`, `--admin`, …).
    pub args: Vec<String>,
    /// A data dir of an earlier run (a restart); by default a new one.
    pub data_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            shards: 1,
            config: None,
            records_to_stdout: false,
            hold_stdout: false,
            udp: false,
            args: Vec::new(),
            data_dir: None,
        }
    }
}

/// A running `ztel serve`. Dropping it without `stop` kills the process.
pub struct Collector {
    child: Child,
    pub addr: SocketAddr,
    /// Every `ztel: listening KIND ADDR` line before the TCP one: udp, tls, admin.
    pub listening: BTreeMap<String, SocketAddr>,
    dir: Option<TempDir>,
    data: PathBuf,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<Vec<u8>>>,
    stdout_gate: Option<mpsc::Sender<()>>,
}

impl Collector {
    pub fn start(tag: &str) -> Collector {
        Collector::start_with(tag, Options::default())
    }

    pub fn start_with(tag: &str, options: Options) -> Collector {
        let dir = TempDir::new(tag);
        let data = options
            .data_dir
            .clone()
            .unwrap_or_else(|| dir.path().join("data"));
        let mut cmd = ztel();
        let udp = if options.udp { "127.0.0.1:0" } else { "" };
        cmd.args(["serve", "--tcp", "127.0.0.1:0", "--udp", udp]);
        if !options.args.iter().any(|a| a == "--admin") {
            cmd.args(["--admin", ""]);
        }
        cmd.arg("--data-dir")
            .arg(&data)
            .arg("--shards")
            .arg(options.shards.to_string());
        if let Some(toml) = &options.config {
            cmd.arg("--config").arg(dir.write("ztel.toml", toml));
        }
        if options.records_to_stdout {
            cmd.args(["--records", "-"]);
        }
        cmd.args(&options.args);
        cmd.stdin(Stdio::null())
            .stdout(if options.records_to_stdout {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ztel serve");

        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("piped stderr");
        let lines = stderr.clone();
        let stderr_thread = std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
                        lines.lock().unwrap().push(line.clone());
                        let _ = tx.send(line);
                    }
                }
            }
        });
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let hold = options.hold_stdout;
        let stdout_thread = child.stdout.take().map(|mut pipe| {
            std::thread::spawn(move || {
                if hold {
                    let _ = gate_rx.recv();
                }
                let mut out = Vec::new();
                let _ = pipe.read_to_end(&mut out);
                out
            })
        });

        let mut collector = Collector {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            listening: BTreeMap::new(),
            dir: Some(dir),
            data,
            stderr,
            stderr_thread: Some(stderr_thread),
            stdout_thread,
            stdout_gate: Some(gate_tx),
        };
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some((kind, rest)) = line
                        .strip_prefix("ztel: listening ")
                        .and_then(|l| l.split_once(' '))
                        .filter(|(kind, _)| *kind != "tcp")
                    {
                        let addr = rest.split(' ').next().unwrap_or_default();
                        let addr = addr.parse().unwrap_or_else(|_| panic!("bad line {line:?}"));
                        collector.listening.insert(kind.to_owned(), addr);
                    }
                    if let Some(rest) = line.strip_prefix("ztel: listening tcp ") {
                        let addr = rest.split(' ').next().unwrap_or_default();
                        collector.addr = addr
                            .parse()
                            .unwrap_or_else(|_| panic!("bad listening line {line:?}"));
                        assert_eq!(
                            rest,
                            format!("{addr} ({} shards)", options.shards),
                            "listening line"
                        );
                        return collector;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "no listening line within {DEADLINE:?}; stderr so far:\n{}",
                        collector.stderr_text()
                    )
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = wait_until(&mut collector.child, DEADLINE);
                    panic!(
                        "ztel serve ended ({status:?}) before listening; stderr:\n{}",
                        collector.stderr_text()
                    )
                }
            }
        }
    }

    /// Starts reading stdout (see `Options::hold_stdout`).
    pub fn open_stdout(&mut self) {
        if let Some(gate) = self.stdout_gate.take() {
            let _ = gate.send(());
        }
    }

    /// The data dir (`--data-dir`).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// A fresh connection with read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, DEADLINE).expect("connect to ztel");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_write_timeout(Some(DEADLINE)).unwrap();
        stream
    }

    /// Sends `bytes` on a fresh connection, closes it and waits until the collector has closed
    /// its side too: by then everything it read from that connection is on its way to the
    /// sinks. Returns the connection's local address (the `peer` of its dead letters).
    pub fn send(&self, bytes: &[u8]) -> SocketAddr {
        let mut stream = self.connect();
        stream.write_all(bytes).expect("send to ztel");
        close_and_wait(stream)
    }

    /// Sends SIGTERM and waits for a clean drain.
    pub fn stop(self) -> Outcome {
        self.stop_with(libc::SIGTERM)
    }

    /// Replaces the `--config` file (for a SIGHUP reload).
    pub fn rewrite_config(&self, toml: &str) {
        self.dir
            .as_ref()
            .expect("temp dir")
            .write("ztel.toml", toml);
    }

    /// Sends a signal that does not stop it (SIGHUP).
    pub fn signal(&mut self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own running child.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits (10 s at most) until a stderr line starts with `prefix`, and returns it.
    pub fn wait_for_stderr(&self, prefix: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(line) = self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no stderr line {prefix:?} within {DEADLINE:?}; stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal`, waits (killing the process after 15 s), and checks that it drained
    /// cleanly: exit status 0 and one `ztel: drained:` line. Then reads everything it wrote.
    pub fn stop_with(mut self, signal: libc::c_int) -> Outcome {
        self.open_stdout();
        self.signal(signal);
        self.finish(signal)
    }

    /// `kill -9`: no drain at all. Returns the data dir and the guard that keeps it.
    pub fn kill_hard(mut self) -> (PathBuf, TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.data.clone(), self.dir.take().expect("temp dir"))
    }

    /// Like `stop`, when the signal was already sent.
    pub fn stop_after_signal(mut self) -> Outcome {
        self.open_stdout();
        self.finish(libc::SIGTERM)
    }

    fn finish(mut self, signal: libc::c_int) -> Outcome {
        let Some(status) = wait_until(&mut self.child, STOP_DEADLINE) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "ztel did not exit within {STOP_DEADLINE:?} of signal {signal}; stderr:\n{}",
                self.stderr_text()
            );
        };
        if let Some(t) = self.stderr_thread.take() {
            t.join().expect("stderr reader");
        }
        let stdout = self
            .stdout_thread
            .take()
            .map(|t| t.join().expect("stdout reader"))
            .unwrap_or_default();
        let stderr = self.stderr.lock().unwrap().clone();
        let dir = self.dir.take().expect("temp dir");
        assert_eq!(
            status.code(),
            Some(0),
            "ztel did not exit 0 after signal {signal}; stderr:\n{}",
            stderr.join("\n")
        );
        let drained: Vec<&String> = stderr
            .iter()
            .filter(|l| l.starts_with("ztel: drained: "))
            .collect();
        assert_eq!(
            drained.len(),
            1,
            "one drained line; stderr:\n{}",
            stderr.join("\n")
        );
        let counters = parse_drained(drained[0]);
        let data = self.data.clone();
        Outcome {
            counters,
            records: read_jsonl(&data.join("connections.jsonl")),
            devices: read_jsonl(&data.join("devices.jsonl")),
            dead_letters: read_jsonl(&data.join("dead-letter.jsonl")),
            stdout,
            stderr,
            data,
            _dir: dir,
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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

/// Waits (10 s at most) until the file at `path` holds at least `n` complete lines.
pub fn wait_for_lines(path: &Path, n: usize) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let lines = std::fs::read(path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if lines >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {lines} lines, not {n}, after {DEADLINE:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `child` until it exits or `limit` passes.
pub fn wait_until(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What a stopped collector reported and wrote.
pub struct Outcome {
    /// The `ztel: drained:` line as `name → value` (absent names are zero).
    pub counters: BTreeMap<String, u64>,
    pub records: Vec<Value>,
    pub devices: Vec<Value>,
    pub dead_letters: Vec<Value>,
    /// Captured stdout (`--records -`).
    pub stdout: Vec<u8>,
    /// Every stderr line.
    pub stderr: Vec<String>,
    /// The data dir, still there until the outcome is dropped.
    pub data: PathBuf,
    _dir: TempDir,
}

impl Outcome {
    /// A counter of the drained line; the line lists only non-zero ones.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// The dead letters with this reason.
    pub fn dead(&self, reason: &str) -> Vec<&Value> {
        self.dead_letters
            .iter()
            .filter(|d| d["reason"] == reason)
            .collect()
    }

    /// Checks that what the drained line counts agrees with what is in the files: records,
    /// dead letters (in total and per reason) and devices, and that nothing failed to be written.
    pub fn assert_counters_match_files(&self) {
        let c = |n: &str| self.counter(n);
        assert_eq!(
            c("records_zia_web"),
            self.records.len() as u64,
            "records_zia_web"
        );
        assert_eq!(
            c("dead_letters"),
            self.dead_letters.len() as u64,
            "dead_letters"
        );
        for reason in [
            "no_json",
            "invalid_utf8",
            "malformed_json",
            "unknown_type",
            "no_device",
            "bad_time",
            "truncated",
        ] {
            assert_eq!(
                c(&format!("dead_{reason}")),
                self.dead(reason).len() as u64,
                "dead_{reason}"
            );
        }
        let created = self
            .devices
            .iter()
            .filter(|d| d["event"] == "created")
            .count();
        assert_eq!(c("devices"), created as u64, "devices");
        assert_eq!(c("sink_errors"), 0, "sink_errors");
        assert_eq!(
            c("connections_opened"),
            c("connections_closed"),
            "every connection opened was closed"
        );
    }

    /// The records written to stdout (`--records -`), one JSON object per line.
    pub fn stdout_records(&self) -> Vec<Value> {
        parse_jsonl(&self.stdout, "stdout")
    }
}

/// Parses `ztel: drained: a=1 b=2 ... devices=N` into a map. Every token is `name=value`
/// (the only exception is the `nothing received` of a collector that got nothing).
pub fn parse_drained(line: &str) -> BTreeMap<String, u64> {
    let rest = line.strip_prefix("ztel: drained: ").expect("drained line");
    let rest = rest.strip_prefix("nothing received").unwrap_or(rest);
    let mut counters = BTreeMap::new();
    for token in rest.split_whitespace() {
        let (name, value) = token
            .split_once('=')
            .unwrap_or_else(|| panic!("token {token:?} of {line:?} is not name=value"));
        let value: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value of {name} in {line:?} is not a number"));
        assert!(
            counters.insert(name.to_owned(), value).is_none(),
            "{name} twice in {line:?}"
        );
    }
    assert!(counters.contains_key("devices"), "no devices= in {line:?}");
    counters
}

/// Reads a JSON Lines file; a missing file is empty. Every line must be one JSON object.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    match std::fs::read(path) {
        Ok(bytes) => parse_jsonl(&bytes, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

fn parse_jsonl(bytes: &[u8], what: &str) -> Vec<Value> {
    if bytes.is_empty() {
        return Vec::new();
    }
    assert!(bytes.ends_with(b"\n"), "{what} does not end with a newline");
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what} line {}: {e}: {line:?}", i + 1));
            assert!(
                v.is_object(),
                "{what} line {} is not an object: {line}",
                i + 1
            );
            v
        })
        .collect()
}

/// Runs `ztel` with `args` to its end (10 s at most) and returns (status, stdout, stderr).
pub fn run_ztel(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = ztel()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ztel");
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let Some(status) = wait_until(&mut child, DEADLINE) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ztel {args:?} did not exit within {DEADLINE:?}");
    };
    let out = String::from_utf8(out.join().unwrap()).expect("stdout is UTF-8");
    let err = String::from_utf8(err.join().unwrap()).expect("stderr is UTF-8");
    (status, out, err)
}

/// `LEN SP PAYLOAD` (RFC 6587 octet counting).
pub fn octet_counted(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A ZIA web record as an NSS feed with the `zscalernss-web` envelope sends it, with values
/// derived from `id` (unique per id: record id, client IP, server IP, request size).
pub fn zia_line(id: u64, host: &str) -> String {
    zia_line_typed("zscalernss-web", id, host)
}

/// Like [`zia_line`] with another `sourcetype`.
pub fn zia_line_typed(sourcetype: &str, id: u64, host: &str) -> String {
    let epoch = 1_700_000_000 + id;
    let (a, b, c) = ((id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
    format!(
        concat!(
            r#"{{"sourcetype":"{st}","event":{{"epochtime":"{epoch}","recordid":"{id}","#,
            r#""login":"user{uid}@example.com","proto":"HTTPS","eurl":"www.example.com/p/{id}","#,
            r#""action":"Allowed","reqmethod":"GET","respcode":"200","reqsize":"{req}","#,
            r#""respsize":"{resp}","cip":"10.{a}.{b}.{c}","sip":"203.0.{bb}.{cc}","#,
            r#""urlcat":"Web Search","deviceowner":"owner{uid}","devicehostname":"{host}"}}}}"#
        ),
        st = sourcetype,
        epoch = epoch,
        id = id,
        uid = id % 7,
        req = 100 + id * 3,
        resp = 5000 + id,
        a = a,
        b = b,
        c = c,
        bb = (id >> 8) % 256,
        cc = id % 256,
        host = host,
    )
}

/// What a record must say about the line it came from: (`kind`, `device`, `src_ip`, `dst_ip`,
/// `bytes_out`, `record_id`).
pub type RecordKey = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<u64>,
    Option<u64>,
);

/// The key a ZIA web line (enveloped, NSS names, values as strings) must produce, read from the
/// line with `serde_json`: an oracle independent of ztel's parser.
pub fn expected_key(line: &str) -> RecordKey {
    let v: Value = serde_json::from_str(line.trim()).expect("test line is JSON");
    let ev = &v["event"];
    let s = |k: &str| ev[k].as_str().map(str::to_owned);
    let n = |k: &str| {
        ev[k]
            .as_str()
            .map(|x| x.parse::<u64>().expect("numeric string"))
    };
    (
        "zia.web".to_owned(),
        s("devicehostname"),
        s("cip"),
        s("sip"),
        n("reqsize"),
        n("recordid"),
    )
}

/// The same key read from a connection record.
pub fn record_key(r: &Value) -> RecordKey {
    let s = |k: &str| r[k].as_str().map(str::to_owned);
    (
        r["kind"].as_str().expect("record has a kind").to_owned(),
        s("device"),
        s("src_ip"),
        s("dst_ip"),
        r["bytes_out"].as_u64(),
        r["record_id"].as_u64(),
    )
}

/// Asserts that `records` are exactly the records of `lines`, as multisets of keys.
pub fn assert_records_are(records: &[Value], lines: &[String]) {
    let mut want: Vec<RecordKey> = lines.iter().map(|l| expected_key(l)).collect();
    let mut got: Vec<RecordKey> = records.iter().map(record_key).collect();
    want.sort();
    got.sort();
    assert_eq!(got.len(), want.len(), "number of records");
    assert_eq!(got, want, "records differ from what was sent");
}

/// Runs lines (syslog header included) through one shard's pipeline, with `zone` the zone of
/// feed times that carry none; returns the batch it filled.
pub fn run_pipeline(zone: &str, lines: &[&[u8]]) -> Batch {
    let mut pipeline = Pipeline::new(parse_zone(zone).expect("a valid zone"));
    let origin = Origin {
        peer: "127.0.0.1:9".parse::<SocketAddr>().unwrap(),
        received: RECEIVED.parse::<Timestamp>().unwrap(),
    };
    let mut batch = Batch::new(0);
    for line in lines {
        pipeline.process(line, &origin, &mut batch);
    }
    batch
}

/// The records of a batch, one JSON object per line.
pub fn batch_records(batch: &Batch) -> Vec<Value> {
    parse_jsonl(&batch.records, "the batch's records")
}

/// Standard base64 (RFC 4648 §4, padded) decoding, small and strict.
pub fn base64_decode(text: &str) -> Vec<u8> {
    fn value(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("{:?} is not a base64 character", c as char),
        }
    }
    let bytes = text.as_bytes();
    assert_eq!(
        bytes.len() % 4,
        0,
        "padded base64 comes in groups of 4: {text:?}"
    );
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for group in bytes.chunks(4) {
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        assert!(pad <= 2, "bad padding in {text:?}");
        let n = group[..4 - pad]
            .iter()
            .fold(0u32, |acc, &c| acc << 6 | value(c))
            << (6 * pad);
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    out
}

/// A GET on the admin endpoint: status and body (`Connection: close`, 5 s timeouts).
pub fn http_get(admin: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&admin, Duration::from_secs(5)).expect("connect admin");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: ztel\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read answer");
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    (
        status,
        text.split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned(),
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decoder_round_trips_known_values() {
        assert_eq!(base64_decode(""), b"");
        assert_eq!(base64_decode("Zg=="), b"f");
        assert_eq!(base64_decode("Zm8="), b"fo");
        assert_eq!(base64_decode("Zm9v"), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy"), b"foobar");
        assert_eq!(base64_decode("//79"), [0xff, 0xfe, 0xfd]);
    }

    #[test]
    fn drained_line_parses() {
        let c = parse_drained("ztel: drained: frames=3 dead_no_json=1 devices=2");
        assert_eq!(c["frames"], 3);
        assert_eq!(c["dead_no_json"], 1);
        assert_eq!(c["devices"], 2);
        assert_eq!(
            parse_drained("ztel: drained: nothing received devices=0")["devices"],
            0
        );
    }
}
