use std::io::Write;

use wire::device::device_id;

use super::*;
use crate::aggregate::store::tests::TempStore;
use crate::batch::DeviceNews;

fn line(event: &str, host: &str, tags: &[&str], ips: &[&str]) -> String {
    let list = |v: &[&str]| serde_json::to_string(v).unwrap();
    format!(
        concat!(
            r#"{{"ts":"2024-01-01T00:00:09Z","event":"{}","device_id":"{:016x}","#,
            r#""hostname":"{}","tags":{},"first_seen":"2024-01-01T00:00:00Z","ips":{},"#,
            r#""users":["u@example.com"]}}"#,
            "\n"
        ),
        event,
        device_id(host),
        host,
        list(tags),
        list(ips),
    )
}

fn place(path: &Path, offset: u64) -> Place {
    let m = std::fs::metadata(path).unwrap();
    Place {
        dev: m.dev(),
        ino: m.ino(),
        offset,
    }
}

fn tags(registry: &Registry, host: &str) -> Vec<&'static str> {
    registry.get(device_id(host)).unwrap().tags().collect()
}

fn see(registry: &mut Registry, host: &str, tag: Tag, ip: &str) {
    registry.apply(&DeviceNews {
        id: device_id(host),
        key: host,
        tag,
        ip: Some(ip),
        user: None,
        seen: Timestamp::UNIX_EPOCH,
    });
}

#[test]
fn the_events_after_the_saved_place_are_merged_and_those_before_are_not_read() {
    let dir = TempStore::new("tail-after");
    let path = dir.path().with_file_name("devices.jsonl");
    let before = line("created", "old", &["ZIA"], &["10.0.0.1"]);
    let after = [
        line("tagged", "old", &["ZIA", "ZPA"], &["10.0.0.1"]),
        line("created", "new", &["ZPA"], &["10.0.0.2"]),
        "not an event\n".to_owned(),
        // Another run's event of a device not made in this one: it is in the file all the same.
        line("created", "gone", &["ZIA"], &[]),
        // Regression (black-box tester): an id that is not its hostname's (a line edited or
        // damaged) made a device `/devices/{hostname}` could not find.
        line("created", "x", &["ZIA"], &[])
            .replace("\"hostname\":\"x\"", "\"hostname\":\"INVENTED\""),
    ];
    std::fs::write(&path, before.clone() + &after.concat()).unwrap();
    let mut registry = Registry::default();
    see(&mut registry, "old", Tag::Zia, "10.0.0.1");
    registry.saved_first(registry.unsaved());
    let through = place(&path, before.len() as u64);
    let merged = merge_tail(&mut registry, &path, Some(through), Some(through), None).unwrap();
    assert_eq!(
        merged,
        Merged {
            events: 3,
            devices: 3,
            unreadable: 2
        }
    );
    assert!(registry.get(device_id("x")).is_none());
    assert!(registry.get(device_id("INVENTED")).is_none());
    assert_eq!(tags(&registry, "old"), ["ZIA", "ZPA"]);
    assert_eq!(tags(&registry, "new"), ["ZPA"]);
    let new = registry.get(device_id("new")).unwrap();
    assert_eq!(new.hostname, "new");
    assert_eq!(new.ips().collect::<Vec<_>>(), ["10.0.0.2"]);
    assert_eq!(new.first_seen.to_string(), "2024-01-01T00:00:00Z");
    // To be saved: the next save holds them, and moves the place on.
    assert_eq!(registry.unsaved(), 3);
    // Now a device event would be "created" only for a device no line names.
    assert!(registry.apply(&news("new", Tag::Zpa)).is_none());
}

fn news(host: &str, tag: Tag) -> DeviceNews<'_> {
    DeviceNews {
        id: device_id(host),
        key: host,
        tag,
        ip: None,
        user: None,
        seen: Timestamp::UNIX_EPOCH,
    }
}

/// From the panic review: the events after the saved place were read into memory at once, a
/// file without a newline (a place left far behind, NULs after a power cut) all of it. Now a
/// line is read to 1 MiB at most: a longer one is one unreadable line, and the next is read.
#[test]
fn a_line_too_long_to_be_an_event_is_read_past_not_held() {
    let dir = TempStore::new("tail-long");
    let path = dir.path().with_file_name("devices.jsonl");
    let long = "x".repeat(3 << 20) + "\n";
    let after = line("created", "after", &["ZIA"], &[]);
    std::fs::write(&path, long + &after).unwrap();
    let mut registry = Registry::default();
    let through = place(&path, 0);
    let merged = merge_tail(&mut registry, &path, Some(through), Some(through), None).unwrap();
    assert_eq!(
        merged,
        Merged {
            events: 1,
            devices: 1,
            unreadable: 1
        }
    );
    assert!(registry.get(device_id("after")).is_some());
    // Handed on cut at 1 MiB, not held whole.
    let mut longest = 0;
    each_line(&path, 0, |line| longest = longest.max(line.len())).unwrap();
    assert_eq!(longest as u64, LINE_MOST);
}

#[test]
fn a_place_inside_a_line_reads_from_the_next_and_a_torn_end_is_left() {
    let dir = TempStore::new("tail-inside");
    let path = dir.path().with_file_name("devices.jsonl");
    let first = line("created", "a", &["ZIA"], &[]);
    let second = line("created", "b", &["ZIA"], &[]);
    let torn = &line("created", "c", &["ZIA"], &[])[..40];
    std::fs::write(&path, first.clone() + &second + torn).unwrap();
    let mut registry = Registry::default();
    let through = place(&path, 5);
    let merged = merge_tail(&mut registry, &path, Some(through), Some(through), None).unwrap();
    assert_eq!(merged.events, 1);
    assert!(registry.get(device_id("a")).is_none());
    assert!(registry.get(device_id("b")).is_some());
    // Past the end (events taken, never written): nothing.
    let past = place(&path, 1 << 20);
    let merged = merge_tail(&mut registry, &path, Some(past), Some(past), None).unwrap();
    assert_eq!(merged, Merged::default());
}

#[test]
fn a_file_replaced_meanwhile_is_not_read_and_a_rotated_one_is() {
    let dir = TempStore::new("tail-rotated");
    let path = dir.path().with_file_name("devices.jsonl");
    let rotated = dir
        .path()
        .with_file_name("devices-20240101T000000.5Z.jsonl");
    let saved = line("created", "saved", &["ZIA"], &[]);
    std::fs::write(
        &rotated,
        saved.clone() + &line("created", "r", &["ZIA"], &[]),
    )
    .unwrap();
    let through = place(&rotated, saved.len() as u64);
    std::fs::write(&path, line("created", "now", &["ZPA"], &[])).unwrap();
    let now = place(&path, 0);
    let mut registry = Registry::default();
    let merged = merge_tail(&mut registry, &path, Some(now), Some(through), None).unwrap();
    assert_eq!(merged.events, 2);
    assert!(registry.get(device_id("saved")).is_none());
    assert_eq!(tags(&registry, "r"), ["ZIA"]);
    assert_eq!(tags(&registry, "now"), ["ZPA"]);
    // Gone: nothing is merged, not even the file there now.
    std::fs::remove_file(&rotated).unwrap();
    let mut registry = Registry::default();
    let merged = merge_tail(&mut registry, &path, Some(now), Some(through), None).unwrap();
    assert_eq!(merged, Merged::default());
    assert!(registry.is_empty());
}

#[test]
fn an_older_line_brings_no_value_back_into_a_full_list() {
    let dir = TempStore::new("tail-full");
    let path = dir.path().with_file_name("devices.jsonl");
    let mut registry = Registry::default();
    let ip = |i: usize| format!("10.0.1.{i}");
    for i in 0..=crate::batch::MAX_PER_DEVICE {
        see(&mut registry, "busy", Tag::Zia, &ip(i));
    }
    registry.saved_first(registry.unsaved());
    // When it was created its first IP was its only one, since pushed out.
    let old = line("created", "busy", &["ZIA"], &[&ip(0)]);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(old.as_bytes())
        .unwrap();
    let through = place(&path, 0);
    let merged = merge_tail(&mut registry, &path, Some(through), Some(through), None).unwrap();
    assert_eq!(merged.events, 1);
    let ips: Vec<String> = registry
        .get(device_id("busy"))
        .unwrap()
        .ips()
        .map(str::to_owned)
        .collect();
    assert!(!ips.contains(&ip(0)), "{ips:?}");
    assert_eq!(ips.len(), crate::batch::MAX_PER_DEVICE);
    assert_eq!(
        ips.last(),
        Some(&ip(crate::batch::MAX_PER_DEVICE)),
        "the newest stays"
    );
}
