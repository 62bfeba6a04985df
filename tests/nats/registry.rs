//! The registry bucket `ztel-devices`: what collectors saw of a device accumulates there, a
//! merge on this collector's own last write needs no read, and changes go out a sweep at a time,
//! the last of them before a stop.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use ztel::sink::nats::control;
use ztel::sink::nats::kv::{self, KvDevice};

use crate::common::{self, http_get, wait_for, zia_line, Collector, TempDir};
use crate::server::Server;
use crate::support::{
    admin, comes_true, metric, runtime, send_line, start_collector, with_jetstream, PATIENCE,
};

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

/// The registry bucket's key for `hostname`.
fn key_of(hostname: &str) -> String {
    format!("{:016x}", wire::device::device_id(hostname))
}

/// Waits until the registry bucket's value for `hostname` is `done`.
fn wait_for_device(url: &str, hostname: &str, done: impl Fn(&Value) -> bool) -> Value {
    let id = key_of(hostname);
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

/// Regression: a device the bucket does not hold (not merged yet, refused, or the bucket lost
/// and made again) was answered from this collector's registry alone, and called `nats`.
#[test]
fn a_device_the_bucket_does_not_hold_is_answered_as_local() {
    let dir = TempDir::new("nats-local-only");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-local-only", &server.url(), None);
    send_line(&c, zia_line(1, "LONE-PC"));
    wait_for_device(&server.url(), "LONE-PC", |d| d["tags"] == json!(["ZIA"]));
    let answer = || -> Value {
        let (status, body) = http_get(admin(&c), "/devices/LONE-PC");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    };
    assert_eq!(answer()["source"], "nats");
    with_jetstream(&server.url(), |js| async move {
        let bucket = js.get_key_value("ztel-devices").await.expect("the bucket");
        bucket.purge(key_of("LONE-PC")).await.expect("purge");
    });
    let local = answer();
    assert_eq!(local["source"], "local (not in the NATS bucket)", "{local}");
    assert_eq!(local["tags"], json!(["ZIA"]), "{local}");
    c.stop();
}

/// Sends an LSS record of `hostname` at `ip` and waits until it is the `nth` record written, so
/// that each comes in a batch of its own.
fn send_sighting(c: &Collector, hostname: &str, ip: &str, nth: usize) {
    send_line(
        c,
        common::lss(&[
            ("Hostname", json!(hostname)),
            ("ClientPrivateIP", json!(ip)),
        ]),
    );
    common::wait_for_lines(&c.data_dir().join("connections.jsonl"), nth);
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
    send_line(&a, zia_line(1, "SHARED-PC"));
    wait_for_device(&server.url(), "SHARED-PC", |d| d["tags"] == json!(["ZIA"]));
    send_line(
        &b,
        common::lss(&[
            ("Hostname", json!("SHARED-PC")),
            ("ClientPrivateIP", json!("10.9.9.9")),
        ]),
    );
    let device = wait_for_device(&server.url(), "SHARED-PC", |d| {
        d["tags"] == json!(["ZIA", "ZPA"])
    });
    let ips = ips_of(&device);
    assert!(ips.contains("10.9.9.9"), "{device}");
    assert!(ips.len() >= 2, "the ZIA record's IP as well: {device}");
    for c in [&a, &b] {
        let (status, body) = http_get(admin(c), "/devices/SHARED-PC");
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(answer["tags"], json!(["ZIA", "ZPA"]), "{body}");
        assert_eq!(answer["source"], "nats", "{body}");
    }
    // Each wrote its own merge (the snapshot behind /metrics is a moment late).
    let mut counts = BTreeMap::new();
    let merged = comes_true(|| {
        counts = [("a", &a), ("b", &b)]
            .into_iter()
            .map(|(n, c)| (n, metric(c, "ztel_nats_registry_merges_total")))
            .collect::<BTreeMap<&str, f64>>();
        counts.values().all(|n| *n >= 1.0)
    });
    assert!(merged, "{counts:?}");
    // A writes again, over B's write.
    send_line(&a, zia_line(2, "SHARED-PC"));
    let device = wait_for_device(&server.url(), "SHARED-PC", |d| ips_of(d).len() > ips.len());
    assert!(ips_of(&device).is_superset(&ips), "{device}");
    assert_eq!(device["tags"], json!(["ZIA", "ZPA"]), "{device}");
    a.stop();
    b.stop();
}

/// A merge of a device this collector wrote last is one compare-and-set on that revision, with
/// no read first, and no request at all when the device holds nothing new; when another
/// collector wrote in between, the compare-and-set fails, and the merge reads and keeps both.
#[test]
fn a_merge_on_this_collectors_last_write_needs_no_read() {
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
    with_jetstream(&server.url(), |js| async move {
        let store = control::bucket(&js, "ztel-devices")
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

/// A device seen at more IPs than the cap holds its newest in the bucket, in the order they
/// came, its last included (the bucket kept the first 32 for good, as the registry did).
#[test]
fn a_device_past_the_cap_holds_its_newest_ips_in_the_bucket() {
    let dir = TempDir::new("nats-cap");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-cap", &server.url(), None);
    for i in 1..=40 {
        send_sighting(&c, "DHCP-PC", &format!("10.8.0.{i}"), i);
    }
    let last = "10.8.0.40".to_owned();
    let device = wait_for_device(&server.url(), "DHCP-PC", |d| ips_of(d).contains(&last));
    let newest: Vec<String> = (9..=40).map(|i| format!("10.8.0.{i}")).collect();
    assert_eq!(device["ips"], json!(newest), "{device}");
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
    let counted = comes_true(|| metric(&c, "ztel_nats_registry_merges_total") >= 2.0);
    assert!(counted, "two merges counted");
    assert_eq!(metric(&c, "ztel_nats_publish_failures_total"), 0.0);
    assert_eq!(metric(&c, "ztel_nats_reconnects_total"), 0.0);
    send(3);
    let outcome = c.stop();
    let device = read_device(&server.url(), &key_of("QUIET-PC")).expect("the device in the bucket");
    let said = outcome.stderr.join("\n");
    assert!(ips_of(&device).contains("10.6.0.3"), "{device}\n{said}");
    assert!(
        !said.contains("stay in"),
        "nothing left in the spool:\n{said}"
    );
}
