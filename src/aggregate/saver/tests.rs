use std::time::{Duration, Instant};

use jiff::Timestamp;
use wire::device::{device_id, Tag};

use super::*;
use crate::aggregate::store::tests::{all, TempStore};
use crate::batch::DeviceNews;

/// A device seen at second `second`, with `ip`.
fn see(registry: &mut Registry, host: &str, ip: &str, second: i64) {
    registry.apply(&DeviceNews {
        id: device_id(host),
        key: host,
        tag: Tag::Zia,
        ip: Some(ip),
        user: None,
        seen: Timestamp::from_second(second).unwrap(),
    });
}

/// Calls `save` until the registry has handed everything over (the thread gives the buffer
/// back once it has taken a piece in).
fn hand_all(saver: &mut Saver, registry: &mut Registry) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while registry.unsaved() > 0 {
        assert!(
            Instant::now() < deadline,
            "the thread never took the devices"
        );
        saver.save(registry);
        std::thread::yield_now();
    }
}

#[test]
fn devices_go_in_pieces_and_all_of_them_reach_the_store() {
    let tmp = TempStore::new("saver-pieces");
    let mut saver = Saver::start(Store::open(&tmp.path()).unwrap()).unwrap();
    let mut registry = Registry::default();
    let devices = 2 * AT_MOST + 100;
    for i in 0..devices {
        see(&mut registry, &format!("host-{i}"), "10.0.0.1", 1);
    }
    // As many as a piece holds are handed over at once, no more.
    saver.save(&mut registry);
    assert_eq!(registry.unsaved(), devices - AT_MOST);
    assert_eq!(saver.in_flight(), AT_MOST);
    hand_all(&mut saver, &mut registry);
    // Changed after its hand-over, a device is saved again, as it is now.
    see(&mut registry, "host-7", "10.0.0.2", 2);
    see(&mut registry, "late", "10.0.0.3", 3);
    assert_eq!(registry.unsaved(), 2);
    // Fewer than a piece wait for HAND_EVERY; finish takes them all the same.
    saver.save(&mut registry);
    assert_eq!(registry.unsaved(), 2);
    saver.finish(&mut registry);
    assert_eq!(registry.unsaved(), 0);
    assert_eq!(saver.in_flight(), 0);
    assert_eq!(saver.errors(), 0);
    drop(saver);

    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), devices + 1);
    assert_eq!(all(&loaded), all(&registry));
    let host7 = loaded.get(device_id("host-7")).unwrap();
    assert_eq!(host7.ips().collect::<Vec<_>>(), ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn a_quiet_registry_is_handed_over_after_hand_every() {
    let tmp = TempStore::new("saver-quiet");
    let store = Store::open(&tmp.path()).unwrap();
    let created = Instant::now();
    let mut saver = Saver::start(store).unwrap();
    let mut registry = Registry::default();
    see(&mut registry, "one", "10.0.0.1", 1);
    let deadline = created + Duration::from_secs(10);
    while registry.unsaved() > 0 {
        assert!(Instant::now() < deadline, "never handed over");
        saver.save(&mut registry);
        std::thread::sleep(Duration::from_millis(5));
    }
    // One device waited for others, HAND_EVERY after the last hand-over (the start).
    assert!(saver.last.duration_since(created) >= HAND_EVERY);
    // Committed within COMMIT_AFTER of coming, without a shutdown.
    while saver.in_flight() > 0 {
        assert!(Instant::now() < deadline, "never committed");
        std::thread::sleep(Duration::from_millis(5));
    }
    saver.finish(&mut registry);
    drop(saver);
    let loaded = Store::open(&tmp.path()).unwrap().load().unwrap();
    assert_eq!(all(&loaded), all(&registry));
}
