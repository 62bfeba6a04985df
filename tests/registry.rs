//! The device registry seen from outside, across restarts: a `devices.redb` that cannot be read
//! is set aside rather than keeping the collector from starting (under systemd, a crash loop
//! until someone deletes the file), and a device's IPs are its newest, not its first.

mod common;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{http_get, serve_on_loopback, zia_line, Collector, Options, Outcome};
use serde_json::Value;

/// A data dir whose `devices.redb` holds `n` saved devices, and the run that wrote it.
fn saved_store(tag: &str, n: u64) -> Outcome {
    let collector = Collector::start_with(tag, Options::binary_with_admin(None));
    let lines: String = (1..=n)
        .map(|i| format!("{}\n", zia_line(i, &format!("saved-{i}"))))
        .collect();
    collector.send(lines.as_bytes());
    let admin = collector.listening["admin"];
    common::wait_for_metric(admin, "ztel_devices", |d| d == n as f64);
    common::wait_for_metric(admin, "ztel_devices_unsaved", |d| d == 0.0);
    collector.stop()
}

/// The files of `data` whose names start with `prefix`.
fn named(data: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(data)
        .expect("the data dir")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
}

/// Starts on `data`, whose store is set aside as it starts: checks the one warning that names
/// the store and where it went, that no marker is left, and that records and devices flow.
fn starts_with_the_store_set_aside(tag: &str, data: &Path) {
    let store = data.join("devices.redb");
    let mut collector =
        Collector::start_with(tag, Options::binary_with_admin(Some(data.to_owned())));
    let aside = named(data, "devices.redb.corrupt-");
    assert_eq!(aside.len(), 1, "{aside:?}");
    let warning = collector.wait_for_stderr(&store.display().to_string());
    assert!(
        warning.contains(" WARN ") && warning.contains(&aside[0].display().to_string()),
        "{warning}"
    );
    assert!(!data.join("devices.redb.opening").exists(), "marker left");
    let admin = collector.listening["admin"];
    collector.send(format!("{}\n", zia_line(100, "after")).as_bytes());
    common::wait_for_metric(admin, "ztel_devices", |d| d == 1.0);
    let (status, body) = http_get(admin, "/devices/after");
    assert_eq!(status, 200, "{body}");
    let (status, _) = http_get(admin, "/devices/saved-1");
    assert_eq!(status, 404, "the set-aside store's devices are gone");
    let outcome = collector.stop();
    // The first run's five, then this one's: records flow.
    assert_eq!(outcome.records.len(), 6);
    assert_eq!(
        outcome.records[5]["device"], "after",
        "{:?}",
        outcome.records[5]
    );
    let about = store.display().to_string();
    let lines = outcome.stderr.iter().filter(|l| l.contains(&about)).count();
    assert_eq!(lines, 1, "one line about the store: {:?}", outcome.stderr);
}

/// Regression: a truncated `devices.redb` stopped `ztel serve` with "DB corrupted" (exit 1).
#[test]
fn a_truncated_store_is_set_aside_and_the_collector_starts_empty() {
    let first = saved_store("truncated-1", 5);
    let store = first.data.join("devices.redb");
    let len = std::fs::metadata(&store).expect("the store").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&store)
        .expect("open the store");
    file.set_len(len / 2).expect("truncate");
    drop(file);
    starts_with_the_store_set_aside("truncated-2", &first.data);
}

/// Regression (black-box tester): a store zeroed by a power cut, or empty, is no redb database
/// (said as an I/O error, which stopped every start) or was taken for a new store without a
/// word (its devices announced again as new).
#[test]
fn a_zeroed_or_empty_store_is_set_aside_and_the_collector_starts_empty() {
    for (tag, zeroed) in [("zeroed", true), ("emptied", false)] {
        let first = saved_store(&format!("{tag}-1"), 5);
        let store = first.data.join("devices.redb");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&store)
            .expect("open the store");
        if zeroed {
            std::os::unix::fs::FileExt::write_all_at(&file, &[0; 4096], 0).expect("zeroed");
        } else {
            file.set_len(0).expect("emptied");
        }
        drop(file);
        starts_with_the_store_set_aside(&format!("{tag}-2"), &first.data);
    }
}

/// An empty duplicate window (cut to nothing) starts over, as one of another size does, and
/// says so: replays are written again.
#[test]
fn an_empty_duplicate_window_is_said_as_it_starts_over() {
    let first = saved_store("window-1", 1);
    let window = first.data.join("dedup.window");
    std::fs::File::create(&window).expect("emptied");
    let mut collector = Collector::start_with(
        "window-2",
        Options::binary_with_admin(Some(first.data.clone())),
    );
    let warning = collector.wait_for_stderr(&window.display().to_string());
    assert!(
        warning.contains(" WARN ") && warning.contains("empty"),
        "{warning}"
    );
    collector.stop();
}

/// Overwrites the first 64 bytes of every 4 KiB page after the first with bytes of a fixed
/// pseudo-random sequence: enough to send redb into a panic as it opens the file.
fn scramble_pages(path: &Path) {
    let mut bytes = std::fs::read(path).expect("the store");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for page in bytes.chunks_mut(4096).skip(1) {
        for b in page.iter_mut().take(64) {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
    }
    std::fs::write(path, bytes).expect("write the store");
}

/// Regression: a store that makes redb panic as it opens aborted `ztel serve` at every start.
/// A panic cannot be caught (release builds abort): the first start dies, and leaves its marker
/// behind, which the second start reads as "the last opening crashed" and sets the store aside.
#[test]
fn a_store_that_crashes_the_opening_is_set_aside_at_the_next_start() {
    let first = saved_store("crashing-1", 5);
    let data = &first.data;
    scramble_pages(&data.join("devices.redb"));
    let (status, _, stderr) = serve_on_loopback(data, &[]);
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}: {stderr}");
    assert!(
        stderr.contains("panicked") && stderr.contains("redb"),
        "{stderr}"
    );
    assert!(
        data.join("devices.redb.opening").exists(),
        "the marker stays"
    );
    starts_with_the_store_set_aside("crashing-2", data);
}

/// A store that cannot be opened for another reason than corruption stays a refusal to start
/// in one line, and nothing is set aside: that would not cure it.
#[test]
fn a_store_in_the_way_is_one_error_line_and_stays() {
    let dir = common::TempDir::new("store-dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("devices.redb")).expect("a directory in the way");
    let (status, _, stderr) = serve_on_loopback(&data, &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("ztel: error:") && lines[0].contains("devices.redb: I/O error"),
        "{stderr}"
    );
    let names: Vec<PathBuf> = named(&data, "devices.redb");
    assert_eq!(
        names,
        [data.join("devices.redb")],
        "no marker, nothing set aside"
    );
}

/// A second collector on a data_dir in use is refused in one line that says so (it said
/// redb's "Database already open. Cannot acquire lock."), and sets nothing aside.
#[test]
fn a_second_collector_on_a_data_dir_in_use_is_one_error_line() {
    let first = Collector::start_with("in-use-1", Options::binary_with_admin(None));
    let data = first.data_dir().to_owned();
    let (status, _, stderr) = serve_on_loopback(&data, &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("ztel: error:")
            && lines[0].contains("another collector on this data_dir?"),
        "{stderr}"
    );
    assert_eq!(named(&data, "devices.redb"), [data.join("devices.redb")]);
    first.stop();
}

/// Writes a store of `n` devices (`big-0` …) into `data`, directly: large enough that loading it
/// takes a while.
fn big_store(data: &Path, n: u64) {
    use ztel::aggregate::registry::Registry;
    use ztel::aggregate::store::{Encoded, Store};
    std::fs::create_dir_all(data).expect("the data dir");
    let mut store = Store::open(&data.join("devices.redb")).expect("a new store");
    let mut registry = Registry::default();
    for i in 0..n {
        let key = format!("big-{i}");
        registry.apply(&ztel::batch::DeviceNews {
            id: wire::device::device_id(&key),
            key: &key,
            tag: wire::device::Tag::Zia,
            ip: Some("10.0.0.1"),
            user: Some("someone@example.com"),
            seen: jiff::Timestamp::UNIX_EPOCH,
        });
    }
    let mut encoded = Encoded::default();
    encoded.extend(registry.unsaved_devices());
    store.save(&encoded).expect("save");
}

/// Regression: `systemctl restart` (or Ctrl-C) while a large registry loaded ended the process
/// by the signal's default action, in the middle of the store's opening; its marker stayed, and
/// the next start took it for a crash and set every saved device aside. The signal now waits
/// for the start and drains.
#[test]
fn a_sigterm_while_the_store_loads_drains_and_keeps_the_devices() {
    const DEVICES: u64 = 100_000;
    let dir = common::TempDir::new("store-sigterm");
    let data = dir.path().join("data");
    big_store(&data, DEVICES);
    let mut child = common::ztel()
        .args(["serve", "--tcp", "127.0.0.1:0", "--udp", "", "--admin", ""])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ztel");
    // The marker is there exactly while the store is opened and loaded (a few hundred ms for
    // this store in a debug build): looked for every millisecond.
    let marker = data.join("devices.redb.opening");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !marker.exists() {
        let ended = child.try_wait().ok().flatten();
        assert!(
            ended.is_none(),
            "ztel ended before its store's opening: {ended:?}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the store's opening was never seen"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // While it opens, SIGTERM is already caught (bit 15 of SigCgt): the signal cannot end the
    // process in the middle of the opening, however the timing falls.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let caught = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .expect("SigCgt");
    assert_ne!(
        caught & 1 << (libc::SIGTERM - 1),
        0,
        "SIGTERM not caught yet: {caught:x}"
    );
    // SAFETY: kill(2) on the child's pid, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = common::wait_until(&mut child, Duration::from_secs(60));
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    let status = status.expect("ztel ended after the signal");
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("drained"), "{stderr}");
    assert_eq!(
        named(&data, "devices.redb"),
        [data.join("devices.redb")],
        "{stderr}"
    );

    let collector = Collector::start_with(
        "store-sigterm-2",
        Options::binary_with_admin(Some(data.clone())),
    );
    let admin = collector.listening["admin"];
    common::wait_for_metric(admin, "ztel_devices", |d| d == DEVICES as f64);
    let (status, body) = http_get(admin, "/devices/big-99999");
    assert_eq!(status, 200, "{body}");
    let outcome = collector.stop();
    assert!(
        !outcome.stderr.iter().any(|l| l.contains("set aside")),
        "{:?}",
        outcome.stderr
    );
}

/// The IPs of a device in `/devices/{hostname}`.
fn ips(admin: std::net::SocketAddr, hostname: &str) -> Vec<String> {
    let (status, body) = http_get(admin, &format!("/devices/{hostname}"));
    assert_eq!(status, 200, "{body}");
    let device: Value = serde_json::from_str(&body).expect("JSON");
    serde_json::from_value(device["ips"].clone()).expect("ips")
}

/// Regression: a device's IPs froze at the first 32, across restarts: a DHCP laptop's current
/// IP never appeared. zia_line gives record `i` the client IP 10.0.0.i.
#[test]
fn a_device_lists_its_newest_ips_across_a_restart() {
    let ip = |i: u64| format!("10.0.0.{i}");
    let collector = Collector::start_with("newest-1", Options::binary_with_admin(None));
    let admin = collector.listening["admin"];
    let lines: String = (1..=40)
        .map(|i| format!("{}\n", zia_line(i, "dhcp-laptop")))
        .collect();
    collector.send(lines.as_bytes());
    common::wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |n| n == 40.0);
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (9..=40).map(ip).collect::<Vec<_>>()
    );
    let outcome = collector.stop();

    let collector = Collector::start_with(
        "newest-2",
        Options::binary_with_admin(Some(outcome.data.clone())),
    );
    let admin = collector.listening["admin"];
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (9..=40).map(ip).collect::<Vec<_>>()
    );
    // Seen again at an IP it has (in a record of its own): nothing moves. At a new one: the
    // oldest leaves.
    let again = zia_line(20, "dhcp-laptop").replace(r#""recordid":"20""#, r#""recordid":"1020""#);
    let new = zia_line(41, "dhcp-laptop");
    collector.send(format!("{again}\n{new}\n").as_bytes());
    common::wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |n| n == 2.0);
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (10..=41).map(ip).collect::<Vec<_>>()
    );
    collector.stop();
}

#[test]
fn past_limits_max_devices_new_hostnames_are_counted_not_registered_and_their_records_kept() {
    // A feed that names ever new hostnames grew the registry without a bound (DESIGN §6).
    let collector = Collector::start_with(
        "max-devices",
        Options {
            config: Some("[limits]\nmax_devices = 2\n".into()),
            ..Options::binary_with_admin(None)
        },
    );
    let lines: String = (1..=5)
        .map(|i| format!("{}\n", zia_line(i, &format!("host-{i}"))))
        .collect();
    collector.send(lines.as_bytes());
    let admin = collector.listening["admin"];
    let page = common::wait_for_metric(admin, "ztel_devices_refused_total", |n| n == 3.0);
    assert_eq!(common::sample(&page, "ztel_devices"), Some(2.0), "{page}");
    let (status, _) = http_get(admin, "/devices/host-5");
    assert_eq!(status, 404);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 5, "every record written");
    let created = outcome
        .devices
        .iter()
        .filter(|d| d["event"] == "created")
        .count();
    assert_eq!(created, 2);
}

/// A ZPA User Status line in LSS's CSV template whose lists hold commas (two SAML attributes,
/// two postures hit), or quotes (SAML attributes as JSON), was a dead letter, so its device
/// never had its IP or user: now both reach `/devices`.
#[test]
fn a_user_status_csv_line_with_lists_names_its_device() {
    let line = concat!(
        "Mon Dec 07 10:00:00 2026 User Status zpa-lss: ,Acme Corp,jdoe@example.com,s1,",
        "ZPN_STATUS_AUTHENTICATED,4.2.0.1,broker1b.pdx2,cn.example.net,10.1.2.3,34.216.108.5,",
        "45.000000,-119.000000,US,2026-12-07T09:00:00.000Z,,100,200,Okta,LAPTOP-CSV1,windows,",
        "zpn_client_type_zapp,TN1,1452,memberOf:a,memberOf:b,posture-1,posture-2,,47.000000,",
        "-122.000000,US,0,,San Jose,1452\n",
        // SAML attributes as LSS also writes them, JSON.
        "Mon Dec 07 10:00:01 2026 User Status zpa-lss: ,Acme Corp,jane@example.com,s2,",
        "ZPN_STATUS_AUTHENTICATED,4.2.0.1,broker1b.pdx2,cn.example.net,10.1.2.4,34.216.108.5,",
        "45.000000,-119.000000,US,2026-12-07T09:00:00.000Z,,100,200,Okta,LAPTOP-CSV2,windows,",
        "zpn_client_type_zapp,,,{\"Email\":[\"jane@example.com\"],\"Group\":[\"a\",\"b\"]},",
        "posture-1,,47.000000,-122.000000,US,0,,San Jose,1452\n"
    );
    let collector = Collector::start_with("user-status-csv", Options::binary_with_admin(None));
    let admin = collector.listening["admin"];
    collector.send(line.as_bytes());
    let kind = "ztel_records_total{kind=\"zpa.user_status\"}";
    common::wait_for_metric(admin, kind, |n| n == 2.0);
    assert_eq!(ips(admin, "LAPTOP-CSV1"), ["10.1.2.3"]);
    assert_eq!(ips(admin, "LAPTOP-CSV2"), ["10.1.2.4"]);
    let (_, body) = http_get(admin, "/devices/LAPTOP-CSV1");
    let device: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        device["users"],
        serde_json::json!(["jdoe@example.com"]),
        "{body}"
    );
    let outcome = collector.stop();
    assert!(
        outcome.dead_letters.is_empty(),
        "{:?}",
        outcome.dead_letters
    );
    assert_eq!(outcome.records.len(), 2);
}

/// ZPA lines in LSS's CSV template whose customer (`Acme, Inc.`) or username holds a comma were
/// dead letters, every line of such a tenant: now each is its record, its values in place.
#[test]
fn zpa_csv_lines_whose_customer_holds_a_comma_are_records() {
    let lines = concat!(
        "Mon Dec 07 10:00:00 2026 User Activity zpa-lss: ,Acme, Inc.,s1,s1,c1,,open,6,0,",
        "Doe, John,443,34.216.108.5,10.1.2.3,45.000000,-119.000000,US,broker1b.pdx2,Any Allow,",
        "Connector 1,broker1b.pdx2,10.0.0.4,51146,app.example.net,Apps,App Group,0,10.2.0.9,443,",
        "63,13069,2026-12-07T09:59:00.000Z,,,,,,,,,,,,,,710,710,0,0,0,0,0,0,Okta,0,San Jose,0,0,",
        ",,,,,,,,,,,,\n",
        "Mon Dec 07 10:00:00 2026 Connector Status zpa-lss: ,Acme, Inc.,s2,",
        "ZPN_ASSISTANT_BROKER_CONTROL,ZPN_STATUS_AUTHENTICATED,19.20.3,el7,US-NY-8179,",
        "Connector 1,Group 1,10.0.0.4,52.224.237.221,47.000000,-122.000000,,",
        "2026-12-07T09:00:00.000Z,,1,20,2,eth0,10.0.0.1,168.63.129.16,1513229995,1555920005,2,",
        "31983,16175,0,0,19295,17974,0,0,10902554,48931771,1452\n",
    );
    let collector = Collector::start_with("customer-comma", Options::binary_with_admin(None));
    let admin = collector.listening["admin"];
    collector.send(lines.as_bytes());
    for kind in ["zpa.user_activity", "zpa.app_connector_status"] {
        let metric = format!("ztel_records_total{{kind=\"{kind}\"}}");
        common::wait_for_metric(admin, &metric, |n| n == 1.0);
    }
    let outcome = collector.stop();
    assert!(
        outcome.dead_letters.is_empty(),
        "{:?}",
        outcome.dead_letters
    );
    let activity = (outcome.records.iter()).find(|r| r["kind"] == "zpa.user_activity");
    let activity = activity.expect("a user activity record");
    assert_eq!(activity["user"], "Doe, John", "{activity}");
    assert_eq!(activity["session_id"], "s1", "{activity}");
    assert_eq!(activity["dst_ip"], "10.2.0.9", "{activity}");
    let connector = (outcome.records.iter()).find(|r| r["kind"] == "zpa.app_connector_status");
    let connector = connector.expect("a connector status record");
    assert_eq!(connector["connector"], "Connector 1", "{connector}");
}
