//! `[output.nats]` (DESIGN §4 "Scale-out") against a real nats-server with JetStream, started
//! here on an OS-chosen port with a store of its own: a replay that reaches two collectors is
//! stored once, an outage loses and doubles nothing, a spool outlives a stop, the registry
//! bucket merges what two collectors saw, and refused credentials stop the start in one line.
//! Skipped (failing under CI) when nats-server is not installed; test.sh installs it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{http_get, sample, wait_for, zia_line, Collector, Options, TempDir};
use serde_json::Value;

/// How long the stream may take to hold what was sent.
const PATIENCE: Duration = Duration::from_secs(60);

/// A nats-server with JetStream, on `port`, storing in `store`.
struct Server {
    child: Child,
    port: u16,
    store: PathBuf,
    config: Option<PathBuf>,
}

impl Server {
    /// None (after saying so) when nats-server is not installed; under CI that fails instead.
    fn start(dir: &TempDir) -> Option<Server> {
        if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
            return None;
        }
        Some(Server::on(free_port(), dir.path().join("nats-store"), None))
    }

    fn on(port: u16, store: PathBuf, config: Option<PathBuf>) -> Server {
        let mut cmd = Command::new("nats-server");
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store);
        if let Some(c) = &config {
            cmd.arg("-c").arg(c);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nats-server");
        // Ready when it says so (its log is on stderr); the rest of the log is drained.
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Server is ready") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("nats-server ready");
        Server {
            child,
            port,
            store,
            config,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `kill -9`.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts again on the same port and store.
    fn restart(&mut self) {
        self.kill();
        let again = Server::on(self.port, self.store.clone(), self.config.clone());
        *self = again;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now: the OS picks it, then it is released for nats-server.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn nats_config(url: &str, extra: &str) -> String {
    format!("[output.nats]\nurl = \"{url}\"\n{extra}\n")
}

fn start_collector(tag: &str, url: &str, data_dir: Option<PathBuf>) -> Collector {
    start_configured(tag, url, "", data_dir)
}

/// A collector whose `[output.nats]` has `extra` as well.
fn start_configured(tag: &str, url: &str, extra: &str, data_dir: Option<PathBuf>) -> Collector {
    Collector::start_with(
        tag,
        Options {
            binary: true,
            config: Some(nats_config(url, extra)),
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            data_dir,
            ..Options::default()
        },
    )
}

fn admin(c: &Collector) -> SocketAddr {
    c.listening["admin"]
}

fn metric(c: &Collector, series: &str) -> f64 {
    let (_, page) = http_get(admin(c), "/metrics");
    sample(&page, series).unwrap_or(-1.0)
}

/// One message of the stream.
#[derive(Debug)]
struct Message {
    subject: String,
    id: String,
    payload: Value,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Every message the stream ZTEL holds, in order.
fn read_stream(url: &str) -> Vec<Message> {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let Ok(mut stream) = js.get_stream("ZTEL").await else {
            return Vec::new();
        };
        let info = stream.info().await.expect("stream info").clone();
        let mut out = Vec::new();
        for seq in info.state.first_sequence..=info.state.last_sequence {
            if info.state.messages == 0 {
                break;
            }
            let Ok(m) = stream.get_raw_message(seq).await else {
                continue;
            };
            let id = m
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.to_string())
                .unwrap_or_default();
            out.push(Message {
                subject: m.subject.to_string(),
                id,
                payload: serde_json::from_slice(&m.payload).expect("a JSON message"),
            });
        }
        out
    })
}

/// The registry bucket's value for a device.
fn read_device(url: &str, device_id: &str) -> Option<Value> {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.ok()?;
        let js = async_nats::jetstream::new(client);
        let kv = js.get_key_value("ztel-devices").await.ok()?;
        let v = kv.get(device_id).await.ok()??;
        serde_json::from_slice(&v).ok()
    })
}

/// Waits until the registry bucket's value for `hostname` is `done`.
fn wait_for_device(url: &str, hostname: &str, done: impl Fn(&Value) -> bool) -> Value {
    let id = format!("{:016x}", wire::device::device_id(hostname));
    wait_for(PATIENCE, || read_device(url, &id).filter(|d| done(d)))
        .unwrap_or_else(|| panic!("{hostname} in the bucket: {:?}", read_device(url, &id)))
}

fn ips_of(device: &Value) -> BTreeSet<String> {
    device["ips"]
        .as_array()
        .expect("ips")
        .iter()
        .filter_map(|ip| Some(ip.as_str()?.to_owned()))
        .collect()
}

fn records(messages: &[Message]) -> Vec<&Message> {
    messages
        .iter()
        .filter(|m| m.subject.starts_with("ztel.records."))
        .collect()
}

/// Waits until the stream holds `n` records, then checks that each record is there once: one
/// message per id, one per record id, the ids 1..=n.
fn assert_stream_holds_once(url: &str, n: usize) -> Vec<Message> {
    let mut last = 0;
    let all = wait_for(PATIENCE, || {
        let all = read_stream(url);
        last = records(&all).len();
        (last >= n).then_some(all)
    })
    .unwrap_or_else(|| panic!("the stream holds {last} records, not {n}"));
    let recs = records(&all);
    assert_eq!(recs.len(), n, "each record once");
    let ids: BTreeSet<&str> = recs.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), n, "one Nats-Msg-Id per record");
    assert!(ids.iter().all(|id| id.len() == 32), "ids are 128-bit hex");
    let record_ids: BTreeSet<u64> = recs
        .iter()
        .filter_map(|m| m.payload["record_id"].as_str()?.parse().ok())
        .collect();
    assert_eq!(record_ids, (1..=n as u64).collect(), "every record id once");
    assert!(recs.iter().all(|m| m.subject == "ztel.records.zia.web"));
    all
}

fn lines(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1..=n {
        out.extend_from_slice(zia_line(i, &format!("host-{}", i % 7)).as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn a_replay_received_by_two_collectors_is_stored_once() {
    let dir = TempDir::new("nats-replay");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let a = start_collector("nats-replay-a", &server.url(), None);
    let b = start_collector("nats-replay-b", &server.url(), None);
    const N: u64 = 2000;
    let replay = lines(N);
    a.send(&replay);
    b.send(&replay);
    // Both published everything (acknowledged, their spools empty); JetStream told one of them
    // each record was a duplicate.
    let mut duplicates = 0.0;
    for c in [&a, &b] {
        wait_for(PATIENCE, || {
            (metric(c, "ztel_nats_acknowledged_total") >= N as f64
                && metric(c, "ztel_nats_spool_records") == 0.0)
                .then_some(())
        })
        .expect("every record acknowledged");
        duplicates += metric(c, "ztel_nats_duplicates_total");
    }
    assert!(
        duplicates >= N as f64,
        "duplicates acknowledged: {duplicates}"
    );
    let all = assert_stream_holds_once(&server.url(), N as usize);
    // The seven devices' creation, told by both, is in the stream once each.
    let created: Vec<&Message> = all
        .iter()
        .filter(|m| m.subject == "ztel.devices" && m.payload["event"] == "created")
        .collect();
    assert_eq!(created.len(), 7, "{created:?}");
    // The NATS series follow the exposition format's rules, as the others do.
    let (_, page) = http_get(admin(&a), "/metrics");
    assert!(page.contains("ztel_nats_acks_pending 0"), "{page}");
    common::assert_promtool_accepts(&page);
    // The files are as without NATS: every record in each collector's own file.
    for c in [a, b] {
        let outcome = c.stop();
        assert_eq!(outcome.records.len(), N as usize);
    }
}

#[test]
fn an_outage_loses_nothing_and_doubles_nothing() {
    let dir = TempDir::new("nats-outage");
    let Some(mut server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-outage", &server.url(), None);
    const N: u64 = 3000;
    let all = lines(N);
    // Where the line that ends the nth record ends.
    let after = |n: u64| {
        all.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(n as usize - 1)
            .map(|(i, _)| i + 1)
            .expect("a line end")
    };
    let (half, more) = (after(N / 2), after(N / 2 + N / 10));
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_connected") == 1.0).then_some(())
    })
    .expect("publishing");
    c.send(&all[..half]);
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_acknowledged_total") >= (N / 2) as f64).then_some(())
    })
    .expect("the first half acknowledged");
    // While NATS takes them, records wait for their acknowledgement in memory: the disk spool
    // is not written.
    assert_eq!(metric(&c, "ztel_nats_spooled_bytes_total"), 0.0);
    // A tenth more, and the server killed while they may be in flight.
    c.send(&all[half..more]);
    server.kill();
    c.send(&all[more..]);
    // The rest waits in the spool while NATS is down; /healthz says so and still serves.
    let spooled = wait_for(PATIENCE, || {
        let n = metric(&c, "ztel_nats_spool_records");
        (n >= (N - N / 2 - N / 10) as f64).then_some(n)
    })
    .expect("the rest spooled");
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_connected") == 0.0).then_some(())
    })
    .expect("the connection is said down");
    // Once the failure is seen, what memory held went to disk.
    assert!(metric(&c, "ztel_nats_spooled_bytes_total") > 0.0);
    let (status, body) = http_get(admin(&c), "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("nats down"), "{body}");
    let published_before = metric(&c, "ztel_nats_acknowledged_total");

    server.restart();
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_spool_records") == 0.0).then_some(())
    })
    .expect("the spool empties");
    let stream = assert_stream_holds_once(&server.url(), N as usize);
    let published_after = metric(&c, "ztel_nats_acknowledged_total") - published_before;
    assert!(metric(&c, "ztel_nats_reconnects_total") >= 1.0);
    let duplicates_in_stream = records(&stream).len() - (N as usize);
    eprintln!(
        "outage: records spooled {spooled}, acknowledged after the restart {published_after}, \
         duplicates in the stream {duplicates_in_stream}"
    );
    let (_, body) = http_get(admin(&c), "/healthz");
    assert_eq!(body, "ok\n");
    c.stop();
}

#[test]
fn a_spool_left_at_shutdown_is_published_at_the_next_start() {
    let dir = TempDir::new("nats-shutdown");
    if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
        return;
    }
    // NATS is down (nobody listens on its port) for the whole first run.
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let data = dir.path().join("data");
    let first = start_collector("nats-shutdown-1", &url, Some(data.clone()));
    const N: u64 = 500;
    first.send(&lines(N));
    wait_for(PATIENCE, || {
        (metric(&first, "ztel_nats_spool_records") >= N as f64).then_some(())
    })
    .expect("spooled");
    let outcome = first.stop();
    let said: Vec<&String> = outcome
        .stderr
        .iter()
        .filter(|l| l.contains("not acknowledged by NATS stay in"))
        .collect();
    assert_eq!(
        said.len(),
        1,
        "one line says what stays: {:?}",
        outcome.stderr
    );
    // The records, and the device events of their seven hosts.
    assert!(
        said[0].contains(&format!("{} records", N + 7)),
        "{}",
        said[0]
    );
    assert!(spool_bytes(&data.join("nats-spool")) > 0);

    let server = Server::on(port, dir.path().join("nats-store"), None);
    let second = start_collector("nats-shutdown-2", &server.url(), Some(data.clone()));
    wait_for(PATIENCE, || {
        (metric(&second, "ztel_nats_spool_records") == 0.0).then_some(())
    })
    .expect("the spool empties");
    assert_stream_holds_once(&server.url(), N as usize);
    second.stop();
}

fn spool_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Two collectors' views of one device accumulate in the bucket, and a later write of one of
/// them keeps what the other wrote in between.
#[test]
fn the_registry_bucket_merges_what_two_collectors_saw() {
    let dir = TempDir::new("nats-registry");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let a = start_collector("nats-registry-a", &server.url(), None);
    let b = start_collector("nats-registry-b", &server.url(), None);
    let mut zia = zia_line(1, "SHARED-PC");
    zia.push('\n');
    a.send(zia.as_bytes());
    wait_for_device(&server.url(), "SHARED-PC", |d| {
        d["tags"] == serde_json::json!(["ZIA"])
    });
    let mut zpa = common::lss(&[
        ("Hostname", serde_json::json!("SHARED-PC")),
        ("ClientPrivateIP", serde_json::json!("10.9.9.9")),
    ]);
    zpa.push('\n');
    b.send(zpa.as_bytes());
    let device = wait_for_device(&server.url(), "SHARED-PC", |d| {
        d["tags"] == serde_json::json!(["ZIA", "ZPA"])
    });
    let ips = ips_of(&device);
    assert!(ips.contains("10.9.9.9"), "{device}");
    assert!(ips.len() >= 2, "the ZIA record's IP as well: {device}");
    for c in [&a, &b] {
        let (status, body) = http_get(admin(c), "/devices/SHARED-PC");
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(answer["tags"], serde_json::json!(["ZIA", "ZPA"]), "{body}");
        assert_eq!(answer["source"], "nats", "{body}");
    }
    // Each wrote its own merge (the snapshot behind /metrics is a moment late).
    let mut counts = BTreeMap::new();
    let merged = wait_for(PATIENCE, || {
        counts = [("a", &a), ("b", &b)]
            .into_iter()
            .map(|(n, c)| (n, metric(c, "ztel_nats_registry_merges_total")))
            .collect::<BTreeMap<&str, f64>>();
        counts.values().all(|n| *n >= 1.0).then_some(())
    });
    assert!(merged.is_some(), "{counts:?}");
    // A writes again, over B's write.
    let mut zia = zia_line(2, "SHARED-PC");
    zia.push('\n');
    a.send(zia.as_bytes());
    let device = wait_for_device(&server.url(), "SHARED-PC", |d| ips_of(d).len() > ips.len());
    assert!(ips_of(&device).is_superset(&ips), "{device}");
    assert_eq!(
        device["tags"],
        serde_json::json!(["ZIA", "ZPA"]),
        "{device}"
    );
    a.stop();
    b.stop();
}

/// A merge of a device this collector wrote last is one compare-and-set on that revision, with
/// no read first, and no request at all when the device holds nothing new; when another
/// collector wrote in between, the compare-and-set fails, and the merge reads and keeps both.
#[test]
fn a_merge_on_this_collectors_last_write_needs_no_read() {
    use ztel::sink::nats::kv::{self, KvDevice};
    let dir = TempDir::new("nats-kv-last");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let device = |tag: &str, ips: &[&str]| KvDevice {
        device_id: kv::key(7),
        hostname: "LAST-PC".into(),
        tags: vec![tag.into()],
        first_seen: jiff::Timestamp::from_second(1_700_000_000).expect("a time"),
        last_seen: jiff::Timestamp::from_second(1_700_000_060).expect("a time"),
        ips: ips.iter().map(|ip| ip.to_string()).collect(),
        users: vec![],
    };
    runtime().block_on(async {
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let store = ztel::sink::nats::control::bucket(&js, "ztel-devices")
            .await
            .expect("the bucket");
        let revision = |store: async_nats::jetstream::kv::Store| async move {
            let entry = store.entry(kv::key(7)).await.expect("read");
            entry.expect("the device").revision
        };
        let first = kv::merge(&store, &device("ZIA", &["10.0.0.1"]), None)
            .await
            .expect("merged");
        assert_eq!(
            (first.reads, first.conflicts),
            (1, 0),
            "a read, then a create"
        );
        let second = kv::merge(
            &store,
            &device("ZIA", &["10.0.0.1", "10.0.0.2"]),
            Some(first.last.clone()),
        )
        .await
        .expect("merged");
        assert_eq!((second.reads, second.conflicts), (0, 0), "no read");
        assert!(second.last.revision > first.last.revision);
        assert_eq!(revision(store.clone()).await, second.last.revision);
        let same = kv::merge(
            &store,
            &device("ZIA", &["10.0.0.2"]),
            Some(second.last.clone()),
        )
        .await
        .expect("merged");
        assert_eq!(same.reads, 0);
        assert_eq!(same.last.revision, second.last.revision);
        assert_eq!(
            revision(store.clone()).await,
            second.last.revision,
            "nothing new, nothing written"
        );
        // Another collector, which never wrote the device, reads it first.
        let other = kv::merge(&store, &device("ZPA", &["10.0.0.9"]), None)
            .await
            .expect("merged");
        assert_eq!((other.reads, other.conflicts), (1, 0));
        let third = kv::merge(
            &store,
            &device("ZIA", &["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
            Some(second.last),
        )
        .await
        .expect("merged");
        assert_eq!(
            (third.reads, third.conflicts),
            (1, 1),
            "a failed write, then a read"
        );
        let stored = kv::get(&store, 7).await.expect("read").expect("the device");
        assert_eq!(stored.tags, ["ZIA", "ZPA"]);
        let ips: BTreeSet<&str> = stored.ips.iter().map(String::as_str).collect();
        let all = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"];
        assert_eq!(ips, BTreeSet::from(all), "{stored:?}");
        assert_eq!(stored, third.last.value);
    });
}

/// Sends an LSS record of `hostname` at `ip` and waits until it is the `nth` record written, so
/// that each comes in a batch of its own.
fn send_sighting(c: &Collector, hostname: &str, ip: &str, nth: usize) {
    let mut line = common::lss(&[
        ("Hostname", serde_json::json!(hostname)),
        ("ClientPrivateIP", serde_json::json!(ip)),
    ]);
    line.push('\n');
    c.send(line.as_bytes());
    common::wait_for_lines(&c.data_dir().join("connections.jsonl"), nth);
}

/// A device that changes at every record, each in a batch of its own, reaches the bucket with
/// every change, its last included though nothing follows it, in a merge per sweep (one a
/// second) rather than one per change.
#[test]
fn a_churning_device_reaches_the_bucket_whole_in_few_merges() {
    let dir = TempDir::new("nats-churn");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-churn", &server.url(), None);
    const CHANGES: usize = 20;
    for i in 1..=CHANGES {
        send_sighting(&c, "CHURN-PC", &format!("10.7.0.{i}"), i);
    }
    let device = wait_for_device(&server.url(), "CHURN-PC", |d| {
        d["ips"].as_array().is_some_and(|ips| ips.len() >= CHANGES)
    });
    let expected: BTreeSet<String> = (1..=CHANGES).map(|i| format!("10.7.0.{i}")).collect();
    assert_eq!(ips_of(&device), expected, "{device}");
    // The snapshot behind /metrics is a moment late.
    let merges = wait_for(PATIENCE, || {
        let n = metric(&c, "ztel_nats_registry_merges_total");
        (n >= 1.0).then_some(n)
    })
    .expect("a merge counted");
    // A merge per change made 15 here; a merge a second makes one or two (ten leaves room for
    // a slow machine that takes seconds over the sends).
    assert!(
        merges <= (CHANGES / 2) as f64,
        "{merges} merges for {CHANGES} changes"
    );
    c.stop();
}

/// Merges handed over with no record beside them (a sweep at a quiet moment) are done at once:
/// no wait for acknowledgements that never come, no failed round, no reconnection; and the last
/// change before a stop reaches the bucket before the collector exits.
#[test]
fn merges_without_records_go_out_at_once_and_at_shutdown() {
    let dir = TempDir::new("nats-quiet");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-quiet", &server.url(), None);
    let send = |n: usize| send_sighting(&c, "QUIET-PC", &format!("10.6.0.{n}"), n);
    for n in 1..=2 {
        send(n);
        let ip = format!("10.6.0.{n}");
        wait_for_device(&server.url(), "QUIET-PC", |d| ips_of(d).contains(&ip));
    }
    // The snapshot behind /metrics is a moment late: wait for both merges in it.
    let counted = wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_registry_merges_total") >= 2.0).then_some(())
    });
    assert!(counted.is_some(), "two merges counted");
    assert_eq!(metric(&c, "ztel_nats_publish_failures_total"), 0.0);
    assert_eq!(metric(&c, "ztel_nats_reconnects_total"), 0.0);
    send(3);
    let outcome = c.stop();
    let device = read_device(
        &server.url(),
        &format!("{:016x}", wire::device::device_id("QUIET-PC")),
    )
    .expect("the device in the bucket");
    let said = outcome.stderr.join("\n");
    assert!(ips_of(&device).contains("10.6.0.3"), "{device}\n{said}");
    assert!(
        !said.contains("stay in"),
        "nothing left in the spool:\n{said}"
    );
}

/// A credentials file as `nsc` writes it: a JWT, then the user's nkey seed.
fn creds_file(dir: &TempDir, jwt: &str, seed: &str) -> PathBuf {
    dir.write(
        "user.creds",
        &format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        ),
    )
}

/// `ztel serve` with `[output.nats]` = `extra`: its exit status and stderr.
fn serve_once(dir: &TempDir, url: &str, extra: &str) -> (bool, String) {
    let config = dir.write("ztel.toml", &nats_config(url, extra));
    let out = common::ztel()
        .args(["serve", "--tcp", "127.0.0.1:0", "--udp", "", "--admin", ""])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .expect("run ztel");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn refused_credentials_stop_the_start_in_one_line() {
    let dir = TempDir::new("nats-creds");
    if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
        return;
    }
    let conf = dir.write(
        "nats.conf",
        "authorization {\n  user: ztel\n  password: right\n}\n",
    );
    let server = Server::on(free_port(), dir.path().join("nats-store"), Some(conf));
    // Well-formed credentials the server does not accept.
    let seed = nkeys::KeyPair::new_user().seed().expect("seed");
    let creds = creds_file(
        &dir,
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5In0.e30.c2ln",
        &seed,
    );
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("creds = \"{}\"", creds.display()),
    );
    assert!(!ok, "the start fails");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("output.nats"))
        .collect();
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(errors[0].contains("refused"), "{stderr}");
    assert!(errors[0].contains(&creds.display().to_string()), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.contains("ERROR")),
        "the error is said once, not by the client as well: {stderr}"
    );
    // No credentials where the server wants some: the same, with a hint.
    let (ok, stderr) = serve_once(&dir, &server.url(), "");
    assert!(!ok);
    assert!(stderr.contains("output.nats.creds"), "{stderr}");
    // A file that is not a credentials file: named, before any connection.
    let junk = dir.write("junk.creds", "not credentials\n");
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("creds = \"{}\"", junk.display()),
    );
    assert!(!ok);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("output.nats.creds"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    eprintln!("{}", errors[0]);
}

#[test]
fn a_full_spool_pushes_back_on_the_sender_and_nothing_is_lost() {
    let dir = TempDir::new("nats-full");
    if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
        return;
    }
    // NATS is down from the start, and the spool holds 1 MiB. Histograms every second, for
    // the count of records taken below.
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let extra = "spool_bytes = 1048576\n[histograms]\ninterval_secs = 1";
    let c = start_configured("nats-full", &url, extra, None);
    // ~60 MB: more than the spool, the channels, the aggregator's backlog and the sockets hold.
    const N: usize = 60_000;
    let padding = "x".repeat(900);
    let lines: Vec<String> = (1..=N as u64)
        .map(|i| {
            zia_line(i, &format!("host-{}", i % 20))
                .replace("\"login\"", &format!("\"pad\":\"{padding}\",\"login\""))
        })
        .collect();
    let stream = c.connect();
    // Blocked for as long as the spool is full: no write timeout.
    stream.set_write_timeout(None).expect("no timeout");
    let (sent, sender) = common::send_counting(stream, lines);
    let stalled_at = common::wait_until_stalled(&sent, Duration::from_millis(1000));
    assert!(
        stalled_at < N,
        "all {N} records were taken while the spool was full"
    );
    let spooled = metric(&c, "ztel_nats_spool_bytes");
    assert!(
        (524_288.0..=1_048_576.0).contains(&spooled),
        "the spool stays near its bound: {spooled} bytes"
    );
    eprintln!(
        "full spool: the sender stalled after {stalled_at} of {N} records, spool {spooled} bytes"
    );
    // Held back by NATS, the collector still writes its records file: every record it took
    // (read to sink) is there, the last ones too, not kept for NATS's turn.
    let file = c.data_dir().join("connections.jsonl");
    let written = wait_for(PATIENCE, || {
        let taken = metric(&c, "ztel_latency_read_to_sink_seconds_count");
        let lines = common::count_lines(&file);
        (taken > 0.0 && lines as f64 == taken).then_some(lines)
    })
    .expect("the records taken are in the records file while NATS is stuck");
    eprintln!("full spool: {written} records in the records file meanwhile");

    let server = Server::on(port, dir.path().join("nats-store"), None);
    sender
        .join()
        .expect("the sender finishes once NATS takes the spool");
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_acknowledged_total") >= (N + 20) as f64
            && metric(&c, "ztel_nats_spool_records") == 0.0)
            .then_some(())
    })
    .expect("every record acknowledged");
    // Each record once (plus the twenty devices' creation): counted by the stream itself.
    let held = runtime().block_on(async {
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("ZTEL").await.expect("the stream");
        stream.info().await.expect("info").state.messages
    });
    assert_eq!(held, (N + 20) as u64);
    let outcome = c.stop();
    assert_eq!(outcome.records.len(), N);
}

/// A NATS JWT as `nsc` makes one: `nats` claims about `subject`, signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, nats: serde_json::Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        "jti": format!("{:016x}", xxhash_rust::xxh3::xxh3_64(subject.as_bytes())),
        "iat": 1_700_000_000,
        "iss": issuer.public_key(),
        "name": "ztel-test",
        "sub": subject,
        "nats": nats,
    });
    let signed = format!("{header}.{}", b64.encode(claims.to_string()));
    let signature = issuer.sign(signed.as_bytes()).expect("sign");
    format!("{signed}.{}", b64.encode(signature))
}

#[test]
fn accepted_credentials_publish_and_merge() {
    let dir = TempDir::new("nats-creds-ok");
    if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
        return;
    }
    // A server in operator mode, as a deployment with nsc-issued credentials runs: an operator,
    // its system account (JetStream needs one), an account with JetStream, and a user of that
    // account whose credentials ztel is given.
    let (operator, system, account, user) = (
        nkeys::KeyPair::new_operator(),
        nkeys::KeyPair::new_account(),
        nkeys::KeyPair::new_account(),
        nkeys::KeyPair::new_user(),
    );
    let unlimited = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
        "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1
    });
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        serde_json::json!({"type": "operator", "version": 2}),
    );
    let system_jwt = jwt(
        &operator,
        &system.public_key(),
        serde_json::json!({"type": "account", "version": 2}),
    );
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        serde_json::json!({"type": "account", "version": 2, "limits": unlimited}),
    );
    let user_jwt = jwt(
        &account,
        &user.public_key(),
        serde_json::json!({
            "type": "user", "version": 2, "pub": {}, "sub": {},
            "subs": -1, "data": -1, "payload": -1
        }),
    );
    let conf = dir.write(
        "nats.conf",
        &format!(
            "operator: {operator_jwt:?}\nsystem_account: {sys}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {sys}: {system_jwt:?}\n  {}: {account_jwt:?}\n}}\n",
            account.public_key(),
            sys = system.public_key()
        ),
    );
    let server = Server::on(free_port(), dir.path().join("nats-store"), Some(conf));
    let creds = creds_file(&dir, &user_jwt, &user.seed().expect("seed"));
    let c = start_configured(
        "nats-creds-ok",
        &server.url(),
        &format!("creds = {:?}", creds.display().to_string()),
        None,
    );
    c.send(&lines(50));
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_acknowledged_total") >= 50.0
            && metric(&c, "ztel_nats_registry_merges_total") >= 1.0)
            .then_some(())
    })
    .expect("published and merged with the user's credentials");
    c.stop();
    // The server checks them: a user of an account it does not know is refused at start.
    let stranger = nkeys::KeyPair::new_account();
    let forged = jwt(
        &stranger,
        &user.public_key(),
        serde_json::json!({"type": "user", "version": 2, "pub": {}, "sub": {}}),
    );
    let other = TempDir::new("nats-creds-forged");
    let creds = creds_file(&other, &forged, &user.seed().expect("seed"));
    let (ok, stderr) = serve_once(
        &other,
        &server.url(),
        &format!("creds = {:?}", creds.display().to_string()),
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn tls_with_the_servers_ca_publishes_and_another_ca_stops_the_start() {
    let dir = TempDir::new("nats-tls");
    if !common::have("nats-server", Command::new("nats-server").arg("--version")) {
        return;
    }
    let server_cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let cert = dir.write("server.pem", &server_cert.cert.pem());
    let key = dir.write("server.key", &server_cert.signing_key.serialize_pem());
    let conf = dir.write(
        "nats.conf",
        &format!(
            "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n}}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    );
    let server = Server::on(free_port(), dir.path().join("nats-store"), Some(conf));
    // The server's own certificate is the CA the collector trusts.
    let c = start_configured(
        "nats-tls-ok",
        &server.url(),
        &format!("tls_ca = {:?}", cert.display().to_string()),
        None,
    );
    c.send(&lines(50));
    wait_for(PATIENCE, || {
        (metric(&c, "ztel_nats_acknowledged_total") >= 50.0).then_some(())
    })
    .expect("published over TLS");
    c.stop();
    // A CA that did not sign the server's certificate: one line at start.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let wrong = dir.write("other.pem", &other.cert.pem());
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("tls_ca = {:?}", wrong.display().to_string()),
    );
    assert!(!ok, "the start fails");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("output.nats"))
        .collect();
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(errors[0].contains("TLS"), "{stderr}");
}

#[test]
fn an_existing_stream_is_brought_in_line_with_the_config() {
    let dir = TempDir::new("nats-stream-update");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // A stream ZTEL made by hand, with another duplicate window and a subject of its own: the
    // collector adds its subjects and sets its window, and publishes.
    runtime().block_on(async {
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "ZTEL".into(),
            subjects: vec!["other.>".into()],
            duplicate_window: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .expect("create the stream");
    });
    let c = start_collector("nats-stream-update", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    let config = runtime().block_on(async {
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("ZTEL").await.expect("the stream");
        stream.info().await.expect("info").config.clone()
    });
    assert_eq!(
        config.subjects,
        ["other.>", "ztel.>"],
        "ours added, the rest kept"
    );
    assert_eq!(config.duplicate_window, Duration::from_secs(900));
    c.stop();
}
