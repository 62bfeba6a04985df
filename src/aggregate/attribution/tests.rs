use super::*;

const GRACE: Duration = Duration::from_secs(60);

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn key(connector_port: u16) -> FlowKey {
    FlowKey {
        connector_ip: "10.1.0.5".parse().unwrap(),
        connector_port,
        server_ip: "10.2.0.9".parse().unwrap(),
        server_port: 443,
    }
}

fn sighting(k: FlowKey, user: &str, conn: Option<&str>, start: i64, end: Option<i64>) -> Sighting {
    Sighting {
        key: k,
        user: user.into(),
        device: Some("pc-1".into()),
        device_id: Some(0xab),
        session_id: Some("sess".into()),
        connection_id: conn.map(Into::into),
        start: ts(start),
        end: end.map(ts),
        seen: ts(end.unwrap_or(start)),
    }
}

fn user_at(t: &Attribution, k: FlowKey, at: i64) -> Option<String> {
    t.lookup(&k, ts(at)).map(|a| a.user)
}

#[test]
fn inside_and_outside_the_window() {
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1100)));
    assert_eq!(user_at(&t, key(40000), 999), None);
    assert_eq!(user_at(&t, key(40000), 1000).as_deref(), Some("alice"));
    assert_eq!(user_at(&t, key(40000), 1050).as_deref(), Some("alice"));
    assert_eq!(user_at(&t, key(40001), 1050), None);
    let a = t.lookup(&key(40000), ts(1050)).unwrap();
    assert_eq!(
        a,
        Attributed {
            user: "alice".into(),
            device: Some("pc-1".into()),
            device_id: Some("00000000000000ab".into()),
            session_id: Some("sess".into()),
            connection_id: Some("c1".into()),
            start: "1970-01-01T00:16:40Z".into(),
            end: Some("1970-01-01T00:18:20Z".into()),
        }
    );
}

#[test]
fn grace_boundary_is_inclusive() {
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1100)));
    assert_eq!(user_at(&t, key(40000), 1160).as_deref(), Some("alice"));
    assert_eq!(user_at(&t, key(40000), 1161), None);
}

#[test]
fn open_connection_valid_until_max_open_after_last_sighting() {
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, None));
    let day = MAX_OPEN.as_secs() as i64;
    assert_eq!(
        user_at(&t, key(40000), 1000 + day).as_deref(),
        Some("alice")
    );
    assert_eq!(user_at(&t, key(40000), 1001 + day), None);
    // An "active" record an hour later extends it.
    let mut active = sighting(key(40000), "alice", Some("c1"), 1000, None);
    active.seen = ts(4600);
    t.record(active);
    assert_eq!(t.len(), 1);
    assert_eq!(
        user_at(&t, key(40000), 4600 + day).as_deref(),
        Some("alice")
    );
    t.expire(ts(4600 + day));
    assert_eq!(t.len(), 1);
    t.expire(ts(4601 + day));
    assert!(t.is_empty());
}

#[test]
fn port_reuse_keeps_each_connection_in_its_window() {
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1100)));
    t.record(sighting(key(40000), "bob", Some("c2"), 1130, Some(1200)));
    assert_eq!(t.len(), 2);
    assert_eq!(user_at(&t, key(40000), 1050).as_deref(), Some("alice"));
    // alice's grace overlaps bob's start: the later start wins.
    assert_eq!(user_at(&t, key(40000), 1140).as_deref(), Some("bob"));
    assert_eq!(user_at(&t, key(40000), 1200).as_deref(), Some("bob"));
    // Recorded out of order, the answer is the same.
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "bob", Some("c2"), 1130, Some(1200)));
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1100)));
    assert_eq!(user_at(&t, key(40000), 1050).as_deref(), Some("alice"));
    assert_eq!(user_at(&t, key(40000), 1140).as_deref(), Some("bob"));
}

/// Regression: a connection whose close was lost answered its 4-tuple for 24 hours, and again
/// once a later connection on it (port reuse) had ended: alice at 3000 below. One 4-tuple
/// carries one connection at a time, so she was gone when bob started.
#[test]
fn an_open_connection_ends_when_the_next_one_on_its_key_starts() {
    for alice_first in [true, false] {
        let mut t = Attribution::new(100, GRACE);
        let alice = sighting(key(40000), "alice", Some("c1"), 1000, None);
        let bob = sighting(key(40000), "bob", Some("c2"), 2000, Some(2010));
        if alice_first {
            t.record(alice);
            t.record(bob);
        } else {
            // Delayed or replayed: the older record comes second, with the same answers.
            t.record(bob);
            t.record(alice);
        }
        assert_eq!(user_at(&t, key(40000), 1500).as_deref(), Some("alice"));
        assert_eq!(user_at(&t, key(40000), 2005).as_deref(), Some("bob"));
        assert_eq!(user_at(&t, key(40000), 2060).as_deref(), Some("bob"));
        assert_eq!(
            user_at(&t, key(40000), 3000),
            None,
            "alice first: {alice_first}"
        );
        // Her window, cut at bob's start plus grace, expires with it.
        t.expire(ts(2061));
        assert_eq!(t.len(), 1, "alice first: {alice_first}");
        t.expire(ts(2071));
        assert!(t.is_empty());
    }
    // Seen after bob started, she did not end then (two flows on one key: TCP and UDP).
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, None));
    t.record(sighting(key(40000), "bob", Some("c2"), 2000, Some(2010)));
    let mut active = sighting(key(40000), "alice", Some("c1"), 1000, None);
    active.seen = ts(2500);
    t.record(active);
    assert_eq!(user_at(&t, key(40000), 3000).as_deref(), Some("alice"));
    // A close that comes after all is hers to say.
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, None));
    t.record(sighting(key(40000), "bob", Some("c2"), 2000, None));
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1500)));
    assert_eq!(user_at(&t, key(40000), 1561), None);
    assert_eq!(user_at(&t, key(40000), 2500).as_deref(), Some("bob"));
}

/// Regression: a full table evicted in insertion order, so a long session kept alive by its
/// records went before newer connections that were only waiting out their grace.
#[test]
fn a_full_table_evicts_the_windows_that_end_first() {
    let mut t = Attribution::new(2, GRACE);
    t.record(sighting(key(40000), "long", Some("a"), 1000, None));
    t.record(sighting(key(40001), "closed", Some("b"), 1000, Some(1010)));
    // Still active: seen again.
    let mut again = sighting(key(40000), "long", Some("a"), 1000, None);
    again.seen = ts(1020);
    t.record(again);
    t.record(sighting(key(40002), "next", Some("c"), 1030, None));
    assert_eq!(t.len(), 2);
    assert_eq!(user_at(&t, key(40000), 1030).as_deref(), Some("long"));
    assert_eq!(user_at(&t, key(40002), 1030).as_deref(), Some("next"));
    assert_eq!(user_at(&t, key(40001), 1010), None);
}

#[test]
fn update_by_connection_id_then_by_key_and_start() {
    let mut t = Attribution::new(100, GRACE);
    let mut open = sighting(key(40000), "alice", Some("c1"), 1000, None);
    open.device = None;
    t.record(open);
    assert_eq!(t.lookup(&key(40000), ts(1050)).unwrap().end, None);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1100)));
    assert_eq!(t.len(), 1);
    let a = t.lookup(&key(40000), ts(1050)).unwrap();
    assert_eq!(a.end.as_deref(), Some("1970-01-01T00:18:20Z"));
    assert_eq!(a.device.as_deref(), Some("pc-1"));
    // Closed now: the 24 h window is gone, end + grace applies.
    assert_eq!(user_at(&t, key(40000), 1161), None);
    // A late "active" replay does not reopen it.
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, None));
    assert_eq!(user_at(&t, key(40000), 1161), None);

    // Without a connection id: same key and start.
    t.record(sighting(key(40001), "bob", None, 2000, None));
    t.record(sighting(key(40001), "bob", None, 2000, Some(2100)));
    assert_eq!(t.len(), 2);
    assert_eq!(user_at(&t, key(40001), 2161), None);
    // A different connection id on the same key and start is another connection.
    t.record(sighting(key(40002), "carol", Some("c3"), 3000, None));
    t.record(sighting(key(40002), "dave", Some("c4"), 3000, None));
    assert_eq!(t.len(), 4);
}

#[test]
fn ipv4_mapped_addresses_match_plain_ones() {
    let mut t = Attribution::new(100, GRACE);
    let mut mapped = key(40000);
    mapped.connector_ip = "::ffff:10.1.0.5".parse().unwrap();
    t.record(sighting(mapped, "alice", Some("c1"), 1000, None));
    assert_eq!(user_at(&t, key(40000), 1000).as_deref(), Some("alice"));
}

#[test]
fn capacity_bound_evicts_oldest_inserted() {
    let mut t = Attribution::new(3, GRACE);
    for (i, user) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        let port = 40000 + i as u16;
        t.record(sighting(key(port), user, Some(user), 1000, None));
        assert!(t.len() <= 3);
    }
    assert_eq!(t.len(), 3);
    assert_eq!(user_at(&t, key(40000), 1000), None);
    assert_eq!(user_at(&t, key(40001), 1000), None);
    assert_eq!(user_at(&t, key(40002), 1000).as_deref(), Some("c"));
    assert_eq!(user_at(&t, key(40004), 1000).as_deref(), Some("e"));
    // The evicted connection id is forgotten: its close is a new entry.
    t.record(sighting(key(40000), "a", Some("a"), 1000, Some(1100)));
    assert_eq!(user_at(&t, key(40000), 1000).as_deref(), Some("a"));
    assert_eq!(user_at(&t, key(40002), 1000), None);
}

#[test]
fn full_table_expires_before_evicting() {
    let mut t = Attribution::new(2, GRACE);
    t.record(sighting(key(40000), "old", Some("c1"), 1000, None));
    t.record(sighting(key(40001), "ended", Some("c2"), 1000, Some(1100)));
    t.expire(ts(1100));
    assert_eq!(t.len(), 2);
    t.expire(ts(1200));
    assert_eq!(t.len(), 1);
    // A late record of a connection that ended long before the clock: when the table is
    // full, that one goes, not the older open connection.
    t.record(sighting(key(40001), "late", Some("c3"), 1000, Some(1100)));
    t.record(sighting(key(40002), "new", Some("c4"), 1200, None));
    assert_eq!(t.len(), 2);
    assert_eq!(user_at(&t, key(40000), 1300).as_deref(), Some("old"));
    assert_eq!(user_at(&t, key(40002), 1300).as_deref(), Some("new"));
}

#[test]
fn expire_drops_only_what_cannot_match() {
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "a", Some("c1"), 1000, Some(1100)));
    t.record(sighting(key(40001), "b", Some("c2"), 1000, Some(2000)));
    t.record(sighting(key(40002), "c", Some("c3"), 1000, None));
    t.expire(ts(1160));
    assert_eq!(t.len(), 3);
    t.expire(ts(1161));
    assert_eq!(t.len(), 2);
    assert_eq!(user_at(&t, key(40000), 1050), None);
    t.expire(ts(5000));
    assert_eq!(t.len(), 1);
    assert_eq!(user_at(&t, key(40002), 5000).as_deref(), Some("c"));
    t.expire(ts(1000 + MAX_OPEN.as_secs() as i64 + 1));
    assert!(t.is_empty());
    assert!(t.store.by_key.is_empty() && t.store.by_connection.is_empty());
}

#[test]
fn bookkeeping_stays_bounded() {
    let mut t = Attribution::new(50, GRACE);
    for i in 0..10_000i64 {
        let port = (i % 500) as u16;
        let id = format!("c{i}");
        t.record(sighting(key(port), "u", Some(&id), i, None));
        t.record(sighting(key(port), "u", Some(&id), i, Some(i + 1)));
        if i % 100 == 0 {
            t.expire(ts(i));
        }
        assert!(t.len() <= 50);
        assert!(t.deadlines.len() <= 2 * 50 + 65);
        assert!(t.store.by_connection.len() <= 50);
    }
}

/// Regression: an entry was dropped as soon as feed time passed its end plus grace, so a lookup
/// whose `at` lay inside its window got 404 when asked a little later (a sensor enriching its
/// flows late, a delayed feed). Kept for the retention, it answers for its window only.
#[test]
fn a_retained_connection_answers_a_late_lookup_for_its_window() {
    let mut t = Attribution::new(100, GRACE).retaining(Duration::from_secs(3600));
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1010)));
    t.expire(ts(1400));
    assert_eq!(user_at(&t, key(40000), 1005).as_deref(), Some("alice"));
    assert_eq!(user_at(&t, key(40000), 1071), None, "past its grace");
    t.expire(ts(1070 + 3600));
    assert_eq!(t.len(), 1);
    t.expire(ts(1071 + 3600));
    assert!(t.is_empty());
    // Without a retention (the other tests' tables), the first expiry past it drops it.
    let mut t = Attribution::new(100, GRACE);
    t.record(sighting(key(40000), "alice", Some("c1"), 1000, Some(1010)));
    t.expire(ts(1400));
    assert_eq!(user_at(&t, key(40000), 1005), None);
}

/// A feed time far ahead of the collector's clock (saved by a collector whose clock ran ahead,
/// and was set back since) does not expire the connections of the present.
#[test]
fn a_feed_time_far_ahead_does_not_expire_the_table() {
    let now = Timestamp::now().as_second();
    let mut t = Attribution::new(100, GRACE).retaining(Duration::from_secs(3600));
    t.record(sighting(key(40000), "alice", Some("c1"), now - 600, None));
    t.expire(ts(now + 5 * 365 * 86_400));
    assert_eq!(user_at(&t, key(40000), now - 300).as_deref(), Some("alice"));
}

#[test]
fn a_key_that_every_connection_shares_keeps_its_newest() {
    // One connector port for every connection (a feed that writes one): each new connection
    // scanned all the others, quadratic. The key keeps PER_KEY, the newest; lookups of their
    // times still answer.
    let mut t = Attribution::new(100_000, GRACE);
    for i in 0..10_000i64 {
        let conn = format!("c{i}");
        let user = format!("u{i}");
        t.record(sighting(
            key(40000),
            &user,
            Some(&conn),
            1000 + i,
            Some(1000 + i),
        ));
    }
    assert_eq!(t.store.on_key(&key(40000).canonical()).count(), PER_KEY);
    assert_eq!(t.len(), PER_KEY);
    assert_eq!(user_at(&t, key(40000), 10_999).as_deref(), Some("u9999"));
    let oldest_kept = 10_000 - PER_KEY as i64;
    let first = format!("u{oldest_kept}");
    assert_eq!(
        user_at(&t, key(40000), 1000 + oldest_kept).as_deref(),
        Some(first.as_str())
    );
}

/// Users, devices and sessions are pooled: kept once however many entries hold them, and
/// freed with the last one (a device renamed by a later record lets go of its old name).
#[test]
fn pooled_strings_live_as_long_as_their_entries() {
    let mut t = Attribution::new(100, GRACE);
    for port in 0..10 {
        let conn = format!("c{port}");
        t.record(sighting(key(port), "alice", Some(&conn), 1000, Some(1100)));
    }
    // alice, pc-1, sess.
    assert_eq!(t.store.strings.len(), 3);
    let mut renamed = sighting(key(0), "alice", Some("c0"), 1000, Some(1100));
    renamed.device = Some("pc-2".into());
    t.record(renamed);
    assert_eq!(t.store.strings.len(), 4);
    assert_eq!(
        t.lookup(&key(0), ts(1050)).unwrap().device.as_deref(),
        Some("pc-2")
    );
    assert_eq!(
        t.lookup(&key(1), ts(1050)).unwrap().device.as_deref(),
        Some("pc-1")
    );
    t.record(sighting(key(1000), "bob", Some("b"), 5000, Some(5100)));
    t.expire(ts(1161));
    assert_eq!(t.len(), 1);
    // bob, pc-1 (his too), sess.
    assert_eq!(t.store.strings.len(), 3);
    t.expire(ts(5161));
    assert!(t.is_empty());
    assert_eq!(t.store.strings.len(), 0);
}
