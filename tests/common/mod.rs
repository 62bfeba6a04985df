// Each test binary uses a different part of this harness.
#![allow(dead_code, unused_imports)]
//! What the tests of the collector share: [`Collector`] runs `ztel serve` (in this process, or
//! as the real binary) on OS-chosen loopback ports, [`Supervised`] runs it as systemd would;
//! [`run_pipeline`] runs a shard's pipeline over lines; [`Ca`] makes the certificates of the TLS
//! and HTTPS tests; the rest makes lines to send and checks what came out.
//!
//! The order of a record's fields, [`key_order`], the LSS sample line [`lss`] and the reception
//! time [`RECEIVED`] are the wire tests' (`wire/tests/common/shared.rs`), included here so that
//! they are written once.

mod ca;
mod collector;
pub mod http;
mod loadgen;
mod names;
mod options;
mod outcome;
#[path = "../../wire/tests/common/shared.rs"]
mod shared;
mod sockets;
mod supervised;
mod templates;
mod wait;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use wire::time::parse_zone;
use ztel::batch::{Batch, Origin, Source};
use ztel::pipeline::Pipeline;

#[allow(unused_imports)]
pub use ca::Ca;
pub use collector::*;
#[allow(unused_imports)]
pub use loadgen::*;
#[allow(unused_imports)]
pub use names::*;
pub use options::*;
pub use outcome::*;
// Not every test binary uses them.
#[allow(unused_imports)]
pub use shared::*;
pub use sockets::*;
#[allow(unused_imports)]
pub use supervised::Supervised;
#[allow(unused_imports)]
pub use templates::*;
pub use wait::*;

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

/// `ztel serve` on a loopback TCP port the system chooses, UDP and the admin endpoint off: the
/// arguments a test that runs the binary itself starts from.
pub const SERVE_ON_LOOPBACK: [&str; 7] =
    ["serve", "--tcp", "127.0.0.1:0", "--udp", "", "--admin", ""];

/// [`SERVE_ON_LOOPBACK`] with `data` as its data_dir and `more` arguments, run to its end: for a
/// start that ends by itself (a refusal, or a crash).
pub fn serve_on_loopback(data: &Path, more: &[&str]) -> (ExitStatus, String, String) {
    let data = data.to_str().unwrap();
    let mut args = SERVE_ON_LOOPBACK.to_vec();
    args.extend(["--data-dir", data]);
    args.extend(more);
    run_ztel(&args)
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
        record_id(r),
    )
}

/// The records' `record_id`s, sorted (repeats kept).
pub fn record_ids(records: &[Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = records.iter().filter_map(record_id).collect();
    ids.sort_unstable();
    ids
}

/// A record's `record_id`: a string of digits (DESIGN §2.4), so that no JSON reader rounds it.
pub fn record_id(r: &Value) -> Option<u64> {
    let id = r.get("record_id")?;
    let text = id
        .as_str()
        .unwrap_or_else(|| panic!("record_id {id} is not a string"));
    Some(
        text.parse()
            .unwrap_or_else(|_| panic!("record_id {text:?} is not digits")),
    )
}

/// Asserts that `records` are exactly the records of `lines`, as multisets of keys.
/// The record ids of `records`, sorted (each record must have one).
pub fn sorted_ids(records: &[Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = records
        .iter()
        .map(|r| record_id(r).expect("record_id"))
        .collect();
    ids.sort_unstable();
    ids
}

/// Every one of `n` records with distinct ids arrived, and none twice.
pub fn assert_each_once(records: &[Value], n: usize) {
    assert_eq!(records.len(), n, "every record sent arrived");
    let mut ids = sorted_ids(records);
    ids.dedup();
    assert_eq!(ids.len(), n, "each record exactly once");
}

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
        source: Source::Tcp,
    };
    let mut batch = Batch::new(0, ztel::batch::Source::Tcp);
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
        // HTTP/1.0: the answer ends where the stream does.
        "GET {path} HTTP/1.0\r\nHost: ztel\r\nConnection: close\r\n\r\n"
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

/// The sum of the series that `selector` picks in a Prometheus text page: those of its name that
/// carry each of its labels (`ztel_frames_total` sums every shard and input;
/// `ztel_records_total{kind="zia.web"}` every shard and input of one kind). `None` when no
/// series matches.
pub fn sample(metrics: &str, selector: &str) -> Option<f64> {
    let (name, wanted) = split_series(selector);
    let mut found = None;
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let Some((labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (line_name, have) = split_series(labels);
        if line_name == name && wanted.iter().all(|w| have.contains(w)) {
            let value: f64 = value.parse().ok()?;
            found = Some(found.unwrap_or(0.0) + value);
        }
    }
    found
}

/// `name{a="x",b="y"}` → (`name`, [`a="x"`, `b="y"`]). Label values in ztel's metrics hold no
/// commas or quotes.
fn split_series(series: &str) -> (&str, Vec<&str>) {
    match series.split_once('{') {
        Some((name, labels)) => (
            name,
            labels
                .trim_end_matches('}')
                .split(',')
                .filter(|l| !l.is_empty())
                .collect(),
        ),
        None => (series, Vec::new()),
    }
}

/// Polls the admin endpoint's `/metrics` (10 s at most) until `series` satisfies `ok`; returns
/// the page that did.
pub fn wait_for_metric(admin: SocketAddr, series: &str, ok: impl Fn(f64) -> bool) -> String {
    let mut last = String::new();
    let found = wait_for(DEADLINE, || {
        let (_, page) = http_get(admin, "/metrics");
        let hit = sample(&page, series).is_some_and(&ok);
        last = page;
        hit.then(|| last.clone())
    });
    found.unwrap_or_else(|| panic!("{series} never got there in {DEADLINE:?}; last page:\n{last}"))
}

/// Asserts that promtool accepts `page` as Prometheus text (when promtool is there: under CI
/// [`have`] fails the test without it).
pub fn assert_promtool_accepts(page: &str) {
    if !have("promtool", Command::new("promtool").arg("--version")) {
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.as_bytes())
        .expect("write");
    let out = check.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether a tool a test needs is installed (`probe` runs it, e.g. `tool --version`); in CI
/// (`CI` set) it must be, since test.sh installs it. Elsewhere the test says it skips.
pub fn have(tool: &str, probe: &mut std::process::Command) -> bool {
    use std::process::Stdio;
    let ok = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing in CI: test.sh installs it"
        );
        eprintln!("skipped: {tool} is not installed here");
    }
    ok
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
        let c = parse_drained("ztel: drained: frames=3 dead_unknown_format=1 devices=2");
        assert_eq!(c["frames"], 3);
        assert_eq!(c["dead_unknown_format"], 1);
        assert_eq!(c["devices"], 2);
        assert_eq!(
            parse_drained("ztel: drained: nothing received devices=0")["devices"],
            0
        );
    }
}
