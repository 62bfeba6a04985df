use super::*;
use wire::device::{device_id, Tag};

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn news<'a>(key: &'a str, ip: Option<&'a str>, user: Option<&'a str>, s: i64) -> DeviceNews<'a> {
    DeviceNews {
        id: device_id(key),
        key,
        tag: Tag::Zia,
        ip,
        user,
        seen: ts(s),
    }
}

#[test]
fn registry_creates_then_tags() {
    let mut r = Registry::default();
    let mut d = news("pc1", Some("10.0.0.1"), None, 100);
    assert_eq!(r.apply(&d), Some(DeviceEvent::Created));
    assert_eq!(r.apply(&d), None);
    d.tag = Tag::Zpa;
    d.seen = ts(50);
    assert_eq!(r.apply(&d), Some(DeviceEvent::Tagged));
    let dev = r.get(device_id("pc1")).unwrap();
    assert_eq!(dev.first_seen, ts(50));
    assert_eq!(dev.last_seen, ts(100));
    assert_eq!(dev.ips().collect::<Vec<_>>(), ["10.0.0.1"]);
    assert_eq!(dev.tags().collect::<Vec<_>>(), ["ZIA", "ZPA"]);
}

#[test]
fn ips_and_users_keep_their_order_and_the_newest_at_the_cap() {
    let mut r = Registry::default();
    let ips: Vec<String> = (0..100)
        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
        .collect();
    let users: Vec<String> = (0..100).map(|i| format!("user{i}@example.com")).collect();
    for (i, (ip, user)) in ips.iter().zip(&users).enumerate() {
        // Each value twice: a repeat changes nothing.
        for again in [false, true] {
            let event = r.apply(&news("gw", Some(ip), Some(user), 1000 + i as i64));
            assert_eq!(event, (i == 0 && !again).then_some(DeviceEvent::Created));
        }
    }
    // A DHCP laptop's current IP is its last: the oldest leave, first seen first.
    let newest = 100 - MAX_PER_DEVICE;
    let dev = r.get(device_id("gw")).unwrap();
    assert_eq!(dev.ips().collect::<Vec<_>>(), ips[newest..]);
    assert_eq!(dev.users().collect::<Vec<_>>(), users[newest..]);
    assert_eq!(dev.last_seen, ts(1099));
}

/// Regression (a device's IPs froze at its first 32, across restarts): a new value at the cap
/// pushes the oldest out and is saved; one the device holds stays where it is.
#[test]
fn at_the_cap_a_new_value_pushes_the_oldest_out_and_a_known_one_stays() {
    let mut r = Registry::default();
    let ip = |i: usize| format!("10.9.0.{i}");
    for i in 0..MAX_PER_DEVICE {
        r.apply(&news("laptop", Some(&ip(i)), None, i as i64));
    }
    r.saved_first(r.unsaved());
    let id = device_id("laptop");
    let ips =
        |r: &Registry| -> Vec<String> { r.get(id).unwrap().ips().map(str::to_owned).collect() };
    let full = ips(&r);
    // Seen again, at an earlier time: no change, nothing to save.
    r.apply(&news("laptop", Some(&ip(3)), None, 5));
    assert_eq!(ips(&r), full);
    assert_eq!(r.unsaved(), 0);
    r.apply(&news("laptop", Some(&ip(40)), None, 40));
    let expected: Vec<String> = (1..MAX_PER_DEVICE).chain([40]).map(ip).collect();
    assert_eq!(ips(&r), expected);
    assert_eq!(r.unsaved(), 1, "the new list is saved");
    // One that left comes back as the newest.
    r.apply(&news("laptop", Some(&ip(0)), None, 41));
    assert_eq!(ips(&r)[..2], [ip(2), ip(3)]);
    assert_eq!(ips(&r).last(), Some(&ip(0)));
    // The device event carries the lists as they are now.
    let mut d = news("laptop", None, None, 5);
    d.tag = Tag::Zpa;
    let event = r.apply(&d).unwrap();
    let mut line = Vec::new();
    write_event(event, id, &r.get(id).unwrap(), ts(6), &mut line);
    let line: serde_json::Value = serde_json::from_slice(&line).unwrap();
    let listed: Vec<&str> = line["ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed, ips(&r));
}

/// Regression (lists evicted by first sighting): a laptop back on its first IP kept it last
/// in its list only until 31 new ones came, while the IPs it had left stayed.
#[test]
fn at_the_cap_the_ip_seen_longest_ago_leaves_not_the_first_seen() {
    let mut r = Registry::default();
    let ip = |i: usize| format!("10.9.1.{i}");
    let id = device_id("laptop");
    let ips =
        |r: &Registry| -> Vec<String> { r.get(id).unwrap().ips().map(str::to_owned).collect() };
    r.apply(&news("laptop", Some(&ip(0)), None, 0));
    r.apply(&news("laptop", Some(&ip(1)), None, 1));
    r.saved_first(r.unsaved());
    // Back on the first one: it moves last, and the list is saved again.
    r.apply(&news("laptop", Some(&ip(0)), None, 2));
    assert_eq!(ips(&r), [ip(1), ip(0)]);
    assert_eq!(r.unsaved(), 1);
    // A late batch's sighting is not the latest: nothing moves.
    r.apply(&news("laptop", Some(&ip(1)), None, 1));
    assert_eq!(ips(&r), [ip(1), ip(0)]);
    for i in 2..=MAX_PER_DEVICE {
        r.apply(&news("laptop", Some(&ip(i)), None, 1 + i as i64));
    }
    let expected: Vec<String> = [0].into_iter().chain(2..=MAX_PER_DEVICE).map(ip).collect();
    assert_eq!(ips(&r), expected, "ip 1, seen longest ago, left");
    // Regression (a replay's IP became the latest, and pushed out the current one 31 new IPs
    // later): a new value from an earlier record takes the place of the one seen longest ago.
    r.apply(&news("laptop", Some(&ip(99)), None, 0));
    let expected: Vec<String> = [99].into_iter().chain(2..=MAX_PER_DEVICE).map(ip).collect();
    assert_eq!(ips(&r), expected);
    let users =
        |r: &Registry| -> Vec<String> { r.get(id).unwrap().users().map(str::to_owned).collect() };
    r.apply(&news("laptop", None, Some("now@x"), 100));
    r.apply(&news("laptop", None, Some("old@x"), 50));
    assert_eq!(users(&r), ["old@x", "now@x"]);
}

#[test]
fn changed_devices_are_unsaved_until_saved() {
    let mut r = Registry::default();
    r.apply(&news("a", Some("10.0.0.1"), None, 100));
    r.apply(&news("b", None, None, 100));
    r.apply(&news("a", Some("10.0.0.2"), None, 100));
    assert_eq!(r.unsaved(), 2);
    r.saved_first(r.unsaved());
    assert_eq!(r.unsaved(), 0);
    // Nothing new: still saved. A later time: changed.
    r.apply(&news("a", Some("10.0.0.1"), None, 100));
    assert_eq!(r.unsaved(), 0);
    r.apply(&news("b", None, None, 101));
    let unsaved: Vec<&str> = r.unsaved_devices().map(|(_, d)| d.hostname).collect();
    assert_eq!(unsaved, ["b"]);
}

#[test]
fn marks_count_the_devices_changed_before_a_moment() {
    let mut r = Registry::default();
    assert_eq!((r.marks(), r.unsaved_before(5)), (0, 0));
    r.apply(&news("a", None, None, 100));
    r.apply(&news("b", None, None, 100));
    // A device already unsaved is not counted again.
    r.apply(&news("a", None, None, 101));
    let then = r.marks();
    assert_eq!(then, 2);
    r.apply(&news("c", None, None, 100));
    assert_eq!(r.unsaved_before(then), 2);
    assert_eq!(r.unsaved_before(r.marks()), 3);
    assert_eq!(r.unsaved_before(0), 0);
    // Saved, they leave the count; a device changed again counts anew, after the others.
    r.saved_first(1);
    assert_eq!(r.unsaved_before(then), 1);
    r.apply(&news("a", None, None, 102));
    assert_eq!(r.unsaved_before(then), 1);
    assert_eq!(r.unsaved_before(r.marks()), 3);
    r.saved_first(3);
    assert_eq!(r.unsaved_before(r.marks()), 0);
}

#[test]
fn device_event_has_the_fields_of_design_2_4() {
    let mut r = Registry::default();
    r.apply(&news("PC-1", Some("10.0.0.1"), Some("a@x"), 100));
    // From an earlier record: its IP goes before the other.
    let mut d = news("PC-1", Some("10.0.0.2"), None, 90);
    d.tag = Tag::Zpa;
    let event = r.apply(&d).unwrap();
    let mut line = Vec::new();
    let id = device_id("PC-1");
    write_event(event, id, &r.get(id).unwrap(), ts(200), &mut line);
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!(
            "{{\"ts\":\"1970-01-01T00:03:20Z\",\"event\":\"tagged\",\"device_id\":\"{id:016x}\",\
             \"hostname\":\"PC-1\",\"tags\":[\"ZIA\",\"ZPA\"],\"first_seen\":\"1970-01-01T00:01:30Z\",\
             \"ips\":[\"10.0.0.2\",\"10.0.0.1\"],\"users\":[\"a@x\"]}}\n"
        )
    );
}

/// The registry's memory bound (issue 12: ≤ 256 MB RSS with 1,000,000 devices): 100,000
/// devices with a 28-byte hostname, an IP and one of 5,000 users each, counted by what the
/// registry holds, not by RSS. A `String` or `Vec` per device would add 24 bytes and a heap
/// block each, and break it.
#[test]
fn memory_per_device_is_bounded() {
    const N: usize = 100_000;
    let mut r = Registry::default();
    for i in 0..N {
        let host = format!("host-{i:06}.corp.example.com");
        let ip = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
        let user = format!("user{}@example.com", i % 5000);
        r.apply(&news(&host, Some(&ip), Some(&user), i as i64));
    }
    assert_eq!(r.len(), N);
    let per_device = r.heap_bytes() / N;
    assert!(per_device <= 200, "{per_device} bytes per device");
    // Sized for what it holds (as the store does at start): less again.
    let mut sized = Registry::with_capacity(N);
    for (id, d) in r.iter() {
        sized.restore(Restored {
            id,
            hostname: d.hostname,
            tags: d.tag_bits(),
            first_seen: d.first_seen,
            last_seen: d.last_seen,
            ips: d.ips(),
            users: d.users(),
        });
    }
    let per_device = sized.heap_bytes() / N;
    assert!(
        per_device <= 180,
        "{per_device} bytes per device when sized"
    );
}

#[test]
fn created_devices_are_taken_once_in_order() {
    let mut r = Registry::default();
    for host in ["c", "a", "b"] {
        r.apply(&news(host, None, None, 1));
    }
    let mut into = Vec::new();
    r.take_created(2, &mut into);
    r.apply(&news("a", Some("10.0.0.1"), None, 2));
    r.take_created(10, &mut into);
    r.take_created(10, &mut into);
    let hosts: Vec<&str> = into.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, ["c", "a", "b"]);
}

#[test]
fn past_its_bound_the_registry_creates_no_device_and_counts_the_changes_left_out() {
    // A feed can name any number of hostnames, each costing the registry its name and more:
    // 200,000 of 248 bytes took 84 MB, and nothing bounded it.
    let mut r = Registry::default();
    r.bound(2);
    let a = news("a", Some("10.0.0.1"), None, 1);
    assert_eq!(r.apply(&a), Some(DeviceEvent::Created));
    assert_eq!(
        r.apply(&news("b", Some("10.0.0.2"), None, 1)),
        Some(DeviceEvent::Created)
    );
    assert_eq!(r.apply(&news("c", Some("10.0.0.3"), None, 1)), None);
    assert_eq!(r.apply(&news("c", Some("10.0.0.4"), None, 2)), None);
    assert_eq!((r.len(), r.refused()), (2, 2));
    assert!(r.get(device_id("c")).is_none());
    // The devices it holds still change.
    r.apply(&news("a", Some("10.0.0.9"), None, 3));
    let dev = r.get(device_id("a")).expect("device a");
    assert_eq!(dev.ips().collect::<Vec<_>>(), ["10.0.0.1", "10.0.0.9"]);
}

#[test]
fn values_pushed_out_of_every_list_leave_no_text_behind_once_compacted() {
    // At the cap the oldest value leaves its list, and its text may be named nowhere else: a
    // device whose IP changes for ever (DHCP, IPv6 temporary addresses) grew the text for ever.
    let mut r = Registry::default();
    let ip = |i: usize| format!("2001:db8::{i:x}");
    for i in 0..1000 {
        r.apply(&news("laptop", Some(&ip(i)), Some("alice"), i as i64));
        r.apply(&news("desk", Some("10.0.0.1"), Some("alice"), i as i64));
    }
    let before = r.strings.text_len();
    r.compact();
    let after = r.strings.text_len();
    let live: usize = ["laptop", "desk", "10.0.0.1", "alice"]
        .iter()
        .map(|s| s.len())
        .sum::<usize>()
        + (968..1000).map(|i| ip(i).len()).sum::<usize>();
    assert_eq!(
        after, live,
        "only what devices name ({before} bytes before)"
    );
    let laptop = r.get(device_id("laptop")).expect("laptop");
    let ips: Vec<String> = (968..1000).map(ip).collect();
    assert_eq!(laptop.ips().collect::<Vec<_>>(), ips);
    assert_eq!(laptop.users().collect::<Vec<_>>(), ["alice"]);
    let desk = r.get(device_id("desk")).expect("desk");
    assert_eq!(desk.hostname, "desk");
    assert_eq!(desk.users().collect::<Vec<_>>(), ["alice"]);
    // Values seen again are found again, not added twice; new ones still push the oldest out.
    assert_eq!(
        r.apply(&news("desk", Some("10.0.0.1"), Some("alice"), 2000)),
        None
    );
    assert_eq!(r.strings.text_len(), after);
    r.apply(&news("laptop", Some("10.9.9.9"), None, 2001));
    let laptop = r.get(device_id("laptop")).expect("laptop");
    assert_eq!(laptop.ips().last(), Some("10.9.9.9"));
    assert_eq!(laptop.ips().count(), 32);
}

#[test]
fn the_text_stays_bounded_while_a_device_changes_ip_for_ever() {
    let mut r = Registry::default();
    for i in 0..100_000 {
        r.apply(&news("laptop", Some(&format!("2001:db8::{i:x}")), None, i));
        // Compacted each time it doubles past the floor (4 KiB in tests, 64 MiB otherwise).
        assert!(
            r.strings.text_len() <= 2 * (4 << 10),
            "{} bytes at {i}",
            r.strings.text_len()
        );
    }
}

#[test]
fn an_ipv6_address_is_one_ip_whatever_its_text() {
    let mut r = Registry::default();
    for ip in [
        "2001:DB8::1",
        "2001:db8::1",
        "2001:0db8:0:0:0:0:0:1",
        "10.0.0.1",
        "::ffff:10.0.0.1",
    ] {
        r.apply(&news("v6", Some(ip), None, 100));
    }
    // Regression (a device `Unknown` with the IP `Unknown`): what is no address is no IP of a
    // device.
    // Nor is the unspecified address, however written (a ZPA client's `0.0.0.0` private IP
    // gave every such device that IP).
    for junk in [
        "fe80::zz",
        "Unknown",
        "10.0.0.1:443",
        "[2001:db8::1]",
        "10.0.0.01",
        "0.0.0.0",
        "::",
        "::ffff:0.0.0.0",
        "0:0:0:0:0:0:0:0",
    ] {
        r.apply(&news("v6", Some(junk), None, 100));
    }
    let dev = r.get(device_id("v6")).unwrap();
    assert_eq!(dev.ips().collect::<Vec<_>>(), ["2001:db8::1", "10.0.0.1"]);
}
