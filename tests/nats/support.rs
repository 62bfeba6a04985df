//! What the tests do on either side of the collector: start one with `[output.nats]`, read its
//! metrics, send it lines; and read back what the stream holds. Apart from the tests so that
//! each of them reads as its steps.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{ConnectOptions, ServerAddr};
use serde_json::Value;
use ztel::config::nats_url::Auth;

use crate::common::{self, http_get, sample, wait_for, zia_line, Collector, Options, TempDir};

/// How long the stream may take to hold what was sent.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn nats_config(url: &str, extra: &str) -> String {
    format!("[output.nats]\nurl = \"{url}\"\n{extra}\n")
}

pub fn start_collector(tag: &str, url: &str, data_dir: Option<PathBuf>) -> Collector {
    start_configured(tag, url, "", data_dir)
}

/// A collector whose `[output.nats]` has `extra` as well.
pub fn start_configured(tag: &str, url: &str, extra: &str, data_dir: Option<PathBuf>) -> Collector {
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

/// `ztel serve` with `[output.nats]` = `extra`: its exit status and stderr.
pub fn serve_once(dir: &TempDir, url: &str, extra: &str) -> (bool, String) {
    serve_logged(dir, url, extra, "")
}

/// [`serve_once`] with `ZTEL_LOG` = `log` (when not empty).
pub fn serve_logged(dir: &TempDir, url: &str, extra: &str, log: &str) -> (bool, String) {
    let config = dir.write("ztel.toml", &nats_config(url, extra));
    let mut ztel = common::ztel();
    if !log.is_empty() {
        ztel.env("ZTEL_LOG", log);
    }
    let out = ztel
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

/// The lines of `stderr` that mention `what`.
pub fn lines_naming<'s>(stderr: &'s str, what: &str) -> Vec<&'s str> {
    stderr.lines().filter(|l| l.contains(what)).collect()
}

pub fn admin(c: &Collector) -> SocketAddr {
    c.listening["admin"]
}

pub fn metric(c: &Collector, series: &str) -> f64 {
    let (_, page) = http_get(admin(c), "/metrics");
    sample(&page, series).unwrap_or(-1.0)
}

/// Whether `done` comes true within [`PATIENCE`].
pub fn comes_true(mut done: impl FnMut() -> bool) -> bool {
    wait_for(PATIENCE, || done().then_some(())).is_some()
}

/// Whether `c` has published `n` messages, each acknowledged, with none left in its spool.
pub fn all_acknowledged(c: &Collector, n: f64) -> bool {
    comes_true(|| {
        metric(c, "ztel_nats_acknowledged_total") >= n
            && metric(c, "ztel_nats_spool_records") == 0.0
    })
}

/// A collector whose NATS is down (nobody listens on `port`, an OS-chosen one that `down`
/// holds until dropped) took `n` ZIA records ([`lines`]) into its spool in `data`; `None` when
/// nats-server is not installed.
pub struct Spooled {
    pub dir: TempDir,
    pub down: socket2::Socket,
    pub port: u16,
    pub data: PathBuf,
    pub collector: Collector,
}

pub fn spooled_while_nats_is_down(tag: &str, n: u64) -> Option<Spooled> {
    let dir = TempDir::new(tag);
    if !crate::server::installed() {
        return None;
    }
    let (down, port) = crate::server::down_port();
    let url = format!("nats://127.0.0.1:{port}");
    let data = dir.path().join("data");
    let collector = start_collector(&format!("{tag}-1"), &url, Some(data.clone()));
    collector.send(&lines(n));
    assert!(
        comes_true(|| metric(&collector, "ztel_nats_spool_records") >= n as f64),
        "spooled"
    );
    Some(Spooled {
        dir,
        down,
        port,
        data,
        collector,
    })
}

/// Whether `c`'s spool empties.
pub fn spool_empties(c: &Collector) -> bool {
    comes_true(|| metric(c, "ztel_nats_spool_records") == 0.0)
}

/// Sends `line` and its newline.
pub fn send_line(c: &Collector, mut line: String) {
    line.push('\n');
    c.send(line.as_bytes());
}

/// `n` ZIA records, of seven hosts.
pub fn lines(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1..=n {
        out.extend_from_slice(zia_line(i, &format!("host-{}", i % 7)).as_bytes());
        out.push(b'\n');
    }
    out
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What `work` makes of a JetStream connection to `url`.
pub fn with_jetstream<T, F: Future<Output = T>>(
    url: &str,
    work: impl FnOnce(jetstream::Context) -> F,
) -> T {
    runtime().block_on(async {
        let (options, url) = reader_options(url);
        let client = options.connect(url).await.expect("connect");
        work(jetstream::new(client)).await
    })
}

/// The options for reading what a server that wants a password holds, and its URL without
/// them, as the collector reads `output.nats.url`: async-nats 0.46 does not send the
/// `user:password@` or `token@` of a URL itself.
fn reader_options(url: &str) -> (ConnectOptions, Vec<ServerAddr>) {
    let servers = ztel::config::nats_url::endpoints(url).expect("a URL the collector takes");
    let options = match servers[0].auth() {
        Some(Auth::User { user, pass }) => {
            ConnectOptions::with_user_and_password(user.clone(), pass.clone())
        }
        Some(Auth::Token(token)) => ConnectOptions::with_token(token.clone()),
        None => ConnectOptions::new(),
    };
    let addrs = servers
        .iter()
        .map(|s| s.server_url().parse().expect("a server"))
        .collect();
    (options, addrs)
}

/// The stream ZTEL as the server has it now.
pub fn stream_info(url: &str) -> stream::Info {
    with_jetstream(url, |js| async move {
        let mut stream = js.get_stream("ZTEL").await.expect("the stream");
        stream.info().await.expect("info").clone()
    })
}

/// One message of the stream.
#[derive(Debug)]
pub struct Message {
    pub subject: String,
    pub id: String,
    pub payload: Value,
}

/// Every message the stream ZTEL holds, in order.
pub fn read_stream(url: &str) -> Vec<Message> {
    with_jetstream(url, |js| async move {
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

pub fn records(messages: &[Message]) -> Vec<&Message> {
    messages
        .iter()
        .filter(|m| m.subject.starts_with("ztel.records."))
        .collect()
}

/// The seven devices' creation events of [`lines`] come to the stream, once each. They may
/// come after the records that made them (a round of their own): waited for, not read at once.
pub fn assert_devices_created(url: &str) {
    let created = |all: &[Message]| {
        all.iter()
            .filter(|m| m.subject == "ztel.devices" && m.payload["event"] == "created")
            .count()
    };
    let mut last = 0;
    wait_for(PATIENCE, || {
        last = created(&read_stream(url));
        (last >= 7).then_some(())
    })
    .unwrap_or_else(|| panic!("{last} device events in the stream, not 7"));
    assert_eq!(created(&read_stream(url)), 7, "device events in the stream");
}

/// Waits until the stream holds `n` records, then checks that each record is there once: one
/// message per id, one per record id, the ids 1..=n.
pub fn assert_stream_holds_once(url: &str, n: usize) -> Vec<Message> {
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
