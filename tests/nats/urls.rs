//! What `output.nats.url` may hold besides one server: several, comma-separated, and a user and
//! password (or a token) as in `nats://USER:PASS@host:port`, percent-encoded as in any URL,
//! the other way nats-server authorizes clients than `creds`. Both connections use all of it
//! (the one that publishes records, and async-nats's for the stream and the registry bucket),
//! and the password is in no log line nor error. A wrong password stops the start in one line
//! that says it was the URL's.

use serde_json::Value;

use crate::common::{http_get, wait_for, Collector, TempDir};
use crate::server::{down_port, Server};
use crate::support::{
    admin, assert_devices_created, assert_stream_holds_once, comes_true, lines, lines_naming,
    metric, serve_logged, serve_once, start_collector, with_jetstream, PATIENCE,
};

const PASSWORD: &str = "Pw-4e1f9c7a";

/// A server that takes the user `ztel` with [`PASSWORD`] only.
fn server(dir: &TempDir) -> Option<Server> {
    Server::authorizing(dir, &format!("user: ztel\n  password: {PASSWORD:?}"))
}

/// Whether `c` has published `n` records and merged into the registry bucket: each takes a
/// connection the server took (merges are async-nats's, records the publisher's).
fn published_and_merged(c: &Collector, n: f64) -> bool {
    comes_true(|| {
        metric(c, "ztel_nats_acknowledged_total") >= n
            && metric(c, "ztel_nats_registry_merges_total") >= 1.0
    })
}

/// The registry bucket's value for `hostname`, once it is there.
fn bucket_device(url: &str, hostname: &str) -> Option<Value> {
    let key = format!("{:016x}", wire::device::device_id(hostname));
    wait_for(PATIENCE, || {
        let key = key.clone();
        with_jetstream(url, |js| async move {
            let kv = js.get_key_value("ztel-devices").await.ok()?;
            let value = kv.get(key).await.ok()??;
            serde_json::from_slice(&value).ok()
        })
    })
}

#[test]
fn the_servers_of_a_comma_separated_url_are_tried_in_turn() {
    // The first names a port nothing listens on: a cluster member that is down.
    let dir = TempDir::new("nats-several");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let (_down, port) = down_port();
    let url = format!("nats://127.0.0.1:{port}, {}", server.url());
    let c = start_collector("nats-several", &url, None);
    c.send(&lines(50));
    assert!(published_and_merged(&c, 50.0), "{}", c.stderr_text());
    c.stop();
}

#[test]
fn a_user_and_password_in_the_url_publish_and_merge_and_are_never_logged() {
    let dir = TempDir::new("nats-userpass");
    let Some(server) = server(&dir) else {
        return;
    };
    let url = server.url_with(&format!("ztel:{PASSWORD}"));
    let c = start_collector("nats-userpass", &url, None);
    c.send(&lines(50));
    assert!(
        published_and_merged(&c, 50.0),
        "published and merged with the URL's user and password: {}",
        c.stderr_text()
    );
    // What the stream holds: the records, each once, and the seven devices' creation.
    assert_stream_holds_once(&url, 50);
    assert_devices_created(&url);
    // The bucket holds the devices, and the collector answers from it.
    let device = bucket_device(&url, "host-1").expect("host-1 in the bucket");
    assert_eq!(device["hostname"], "host-1", "{device}");
    let (status, body) = http_get(admin(&c), "/devices/host-1");
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["source"], "nats", "{body}");
    let outcome = c.stop();
    assert_eq!(outcome.records.len(), 50);
    let stderr = outcome.stderr.join("\n");
    assert!(stderr.contains("NATS: publishing to"), "{stderr}");
    assert!(
        !stderr.contains(PASSWORD),
        "the password in the log: {stderr}"
    );
}

#[test]
fn a_token_in_the_url_publishes_and_merges() {
    let dir = TempDir::new("nats-token");
    let token = "Tk-0b5d2e91";
    let Some(server) = Server::authorizing(&dir, &format!("token: {token:?}")) else {
        return;
    };
    let c = start_collector("nats-token", &server.url_with(token), None);
    c.send(&lines(50));
    assert!(published_and_merged(&c, 50.0), "{}", c.stderr_text());
    let stderr = c.stop().stderr.join("\n");
    assert!(!stderr.contains(token), "the token in the log: {stderr}");
}

#[test]
fn a_password_in_the_url_is_in_no_error_nor_log_line() {
    let dir = TempDir::new("nats-userpass-hidden");
    let Some(server) = server(&dir) else {
        return;
    };
    // Refused at start: the line names the server and the user.
    let wrong = "Wrong-77d2b";
    let url = server.url_with(&format!("ztel:{wrong}"));
    let (ok, stderr) = serve_once(&dir, &url, "");
    assert!(!ok, "the start fails: {stderr}");
    assert!(
        !stderr.contains(wrong),
        "the password in the error: {stderr}"
    );
    assert!(stderr.contains("nats://ztel:***@127.0.0.1:"), "{stderr}");
    // Nor when everything is logged, the client's own lines included.
    let (ok, stderr) = serve_logged(&dir, &url, "", "trace");
    assert!(!ok);
    assert!(
        stderr.contains("attempting connection"),
        "the client's lines: {stderr}"
    );
    assert!(
        !stderr.contains(wrong),
        "the password in the trace: {stderr}"
    );
    // A url that is wrong.
    let (ok, stderr) = serve_once(&dir, "nats://ztel:Pw-in-a-bad-url@127.0.0.1:port", "");
    assert!(!ok);
    assert!(stderr.contains("output.nats.url"), "{stderr}");
    assert!(!stderr.contains("Pw-in-a-bad-url"), "{stderr}");
    // A server that does not answer: the start goes on, spooling, and says so, then retries.
    let (_down, port) = down_port();
    let url = format!("nats://ztel:{PASSWORD}@127.0.0.1:{port}");
    let c = start_collector("nats-userpass-down", &url, None);
    c.send(&lines(5));
    assert!(comes_true(|| metric(&c, "ztel_nats_spool_records") >= 5.0));
    assert!(comes_true(|| c
        .stderr_text()
        .contains("records wait in the spool")));
    let stderr = c.stop().stderr.join("\n");
    assert!(stderr.contains("nats://ztel:***@127.0.0.1:"), "{stderr}");
    assert!(
        !stderr.contains(PASSWORD),
        "the password in the log: {stderr}"
    );
}

#[test]
fn a_wrong_password_in_the_url_stops_the_start_in_one_line() {
    let dir = TempDir::new("nats-userpass-wrong");
    let Some(server) = server(&dir) else {
        return;
    };
    let (ok, stderr) = serve_once(&dir, &server.url_with("ztel:Wrong-77d2b"), "");
    assert!(!ok, "the start fails: {stderr}");
    let errors = lines_naming(&stderr, "output.nats");
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(errors[0].contains("refused"), "{stderr}");
    assert!(
        errors[0].contains("the user ztel and the password of output.nats.url"),
        "it says whose password was refused: {stderr}"
    );
    assert!(
        !stderr.lines().any(|l| l.contains("ERROR")),
        "the error is said once, not by the client as well: {stderr}"
    );
    // None given where the server wants some: both ways are named.
    let (ok, stderr) = serve_once(&dir, &server.url(), "");
    assert!(!ok);
    assert!(
        stderr.contains("set output.nats.creds, or a user and password in output.nats.url"),
        "{stderr}"
    );
}

#[test]
fn a_percent_encoded_password_is_decoded() {
    // A password with the characters that end a part of a URL ('@', ':', '/', ','), and a '%'.
    let dir = TempDir::new("nats-userpass-encoded");
    let Some(server) = Server::authorizing(&dir, "user: ztel\n  password: \"p@ss:w/rd,%\"") else {
        return;
    };
    let c = start_collector(
        "nats-userpass-encoded",
        &server.url_with("ztel:p%40ss%3Aw%2Frd%2C%25"),
        None,
    );
    c.send(&lines(50));
    assert!(published_and_merged(&c, 50.0), "{}", c.stderr_text());
    c.stop();
}
