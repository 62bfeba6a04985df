//! `--churn N` (DESIGN §7) seen in what the real loadgen binary sends: without it every device
//! keeps one IP and its owner; with it, every N of a device's records it takes a new user or a
//! new IP, in turn. Counted per device in the records a loopback receiver got.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

mod common;

const RECORDS: usize = 3000;
const DEVICES: u64 = 20;
const USERS: u64 = 15;

/// The records loadgen sent over one TCP connection, in order, parsed.
fn send(source: &str, churn: Option<u64>) -> Vec<Value> {
    let (count, devices, users) = (RECORDS.to_string(), DEVICES.to_string(), USERS.to_string());
    let mut args = vec![
        "--source",
        source,
        "--count",
        &count,
        "--devices",
        &devices,
        "--users",
        &users,
        "--quiet",
    ];
    let churn = churn.map(|n| n.to_string());
    if let Some(n) = &churn {
        args.extend(["--churn", n]);
    }
    let bytes = common::sent_over_one_connection(&args);
    let records: Vec<Value> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(records.len(), RECORDS);
    records
}

/// What a record says of its device: hostname, user, IP, and the owner where the log has one.
struct Seen {
    host: String,
    user: String,
    ip: String,
    owner: Option<String>,
}

fn seen(record: &Value) -> Option<Seen> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    if let Some(e) = record.get("event") {
        let ip = e.get("cip").or_else(|| e.get("csip"))?;
        return Some(Seen {
            host: text(&e["devicehostname"])?,
            // `elogin` is URL-encoded, as NSS writes it; the logins hold no other escape.
            user: text(&e["elogin"])?.replace("%40", "@"),
            ip: text(ip)?,
            owner: text(&e["deviceowner"]),
        });
    }
    // LSS: its own connections ("ZPA LSS Client") have no hostname and are no device.
    let host = text(&record["Hostname"]).filter(|h| !h.is_empty())?;
    Some(Seen {
        host,
        user: text(&record["Username"])?,
        ip: text(&record["ClientPrivateIP"])?,
        owner: None,
    })
}

/// Each device's records, in the order sent.
fn by_device(records: &[Value]) -> BTreeMap<String, Vec<Seen>> {
    let mut devices: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    for s in records.iter().filter_map(seen) {
        devices.entry(s.host.clone()).or_default().push(s);
    }
    assert_eq!(devices.len() as u64, DEVICES);
    devices
}

fn distinct<'a>(values: impl Iterator<Item = &'a String>) -> usize {
    values.collect::<BTreeSet<_>>().len()
}

#[test]
fn without_churn_every_device_keeps_one_ip_and_its_owner() {
    for source in ["nss", "fw", "dns", "lss"] {
        for (host, seen) in by_device(&send(source, None)) {
            assert_eq!(
                distinct(seen.iter().map(|s| &s.ip)),
                1,
                "{source} {host}: IPs"
            );
            assert_eq!(
                distinct(seen.iter().map(|s| &s.user)),
                1,
                "{source} {host}: users"
            );
            for s in seen.iter().filter(|s| s.owner.is_some()) {
                let owner = s.owner.as_deref().unwrap_or_default();
                assert!(
                    s.user.starts_with(&format!("{owner}@")),
                    "{source}: {} {owner}",
                    s.user
                );
            }
        }
    }
}

#[test]
fn with_churn_nss_devices_take_a_new_user_then_a_new_ip_every_n_records() {
    let n = 5;
    for source in ["nss", "fw", "dns"] {
        let devices = by_device(&send(source, Some(n)));
        for (host, seen) in &devices {
            for (k, pair) in seen.windows(2).enumerate() {
                // Record k + 1 of the device; a change comes with records n, 2n, 3n, …
                let k = k as u64 + 1;
                let user_changed = pair[0].user != pair[1].user;
                let ip_changed = pair[0].ip != pair[1].ip;
                let changes = k / n;
                let want = match (k % n, changes % 2) {
                    (0, 1) => (true, false),
                    (0, _) => (false, true),
                    _ => (false, false),
                };
                assert_eq!(
                    (user_changed, ip_changed),
                    want,
                    "{source} {host}, record {k}"
                );
                // The owner stays: it is the device's, whoever signs in.
                assert_eq!(pair[0].owner, pair[1].owner);
            }
            let records = seen.len() as u64;
            let changes = (records - 1) / n;
            assert_eq!(distinct(seen.iter().map(|s| &s.ip)) as u64, changes / 2 + 1);
            assert!(
                distinct(seen.iter().map(|s| &s.user)) >= 2,
                "{source} {host}"
            );
        }
        // Addresses are the device's own at first, then new ones.
        let ips: usize = devices
            .values()
            .map(|s| distinct(s.iter().map(|s| &s.ip)))
            .sum();
        let all = distinct(devices.values().flatten().map(|s| &s.ip));
        assert_eq!(
            all, ips,
            "{source}: no two devices share an address in a short run"
        );
    }
}

#[test]
fn with_churn_lss_devices_change_between_connections() {
    let records = send("lss", Some(5));
    let mut per_connection: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut sessions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &records {
        if let Some(s) = seen(r) {
            let id = r["ConnectionID"].as_str().unwrap().to_string();
            per_connection.entry(id).or_default().insert((s.user, s.ip));
            let session = r["SessionID"].as_str().unwrap().to_string();
            sessions.entry(s.host).or_default().insert(session);
        }
    }
    assert!(
        per_connection.values().all(|who| who.len() == 1),
        "a connection keeps the user and IP it opened with"
    );
    for (host, seen) in by_device(&records) {
        // About 150 records a device: some 30 changes.
        let ips = distinct(seen.iter().map(|s| &s.ip));
        let users = distinct(seen.iter().map(|s| &s.user));
        assert!(ips >= 5 && users >= 5, "{host}: {ips} IPs, {users} users");
        assert!(
            sessions[&host].len() >= users,
            "a new user signs in to a new session"
        );
    }
}
