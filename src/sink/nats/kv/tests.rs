use super::*;

fn dev(tags: &[&str], ips: &[&str], first: i64, last: i64) -> KvDevice {
    KvDevice {
        device_id: key(7),
        hostname: "pc1".into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        first_seen: Timestamp::from_second(first).unwrap(),
        last_seen: Timestamp::from_second(last).unwrap(),
        ips: ips.iter().map(|s| s.to_string()).collect(),
        users: vec![],
    }
}

/// A write JetStream refused, as async-nats hands it back from a compare-and-set.
fn refused_with(err_code: u64) -> async_nats::jetstream::kv::UpdateError {
    use async_nats::jetstream::context::{PublishError, PublishErrorKind};
    let api: async_nats::jetstream::Error = serde_json::from_str(&format!(
        r#"{{"code":503,"err_code":{err_code},"description":"maximum bytes exceeded"}}"#
    ))
    .unwrap();
    PublishError::with_source(PublishErrorKind::Other, api).into()
}

#[test]
fn a_write_jetstream_refuses_is_told_from_one_that_may_pass() {
    match write_failed("k", &refused_with(10077)) {
        MergeError::Refused { key, why } => {
            assert_eq!(key, "k");
            assert!(why.contains("10077"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        write_failed("k", &refused_with(10054)),
        MergeError::Refused { .. }
    ));
    // A stream between leaders, or no answer: tried again, and said by its cause.
    assert!(matches!(
        write_failed("k", &refused_with(10008)),
        MergeError::Nats(_)
    ));
    let timeout = async_nats::jetstream::kv::UpdateError::new(UpdateErrorKind::TimedOut);
    match write_failed("k", &timeout) {
        MergeError::Nats(why) => assert_eq!(why, "writing device k: timed out"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn written_hands_back_what_it_kept_once_and_starts_over_when_full() {
    let mut written = Written::default();
    let last = |id: u64, revision| Last {
        revision,
        value: KvDevice {
            device_id: key(id),
            ..dev(&["ZIA"], &["10.0.0.1"], 1, 2)
        },
    };
    written.keep(last(1, 5));
    written.keep(last(1, 6));
    assert_eq!(written.take(&key(1)).map(|l| l.revision), Some(6));
    assert!(written.take(&key(1)).is_none(), "taken once");
    assert_eq!(written.bytes, 0);
    let size = last(0, 0).value.size();
    let fit = WRITTEN_BYTES / size;
    for id in 0..fit as u64 {
        written.keep(last(id, 1));
    }
    assert!(written.take(&key(0)).is_some());
    written.keep(last(0, 1));
    written.keep(last(fit as u64, 1));
    assert!(written.take(&key(0)).is_none(), "started over");
    assert!(written.take(&key(fit as u64)).is_some());
}

#[test]
fn merging_accumulates_and_says_when_nothing_changed() {
    let mut a = dev(&["ZPA"], &["10.0.0.1"], 100, 200);
    let b = dev(&["ZIA"], &["10.0.0.2", "10.0.0.1", "10.0.0.3"], 50, 150);
    assert!(a.merge(&b));
    assert_eq!(a.tags, ["ZIA", "ZPA"]);
    // b saw .2 before .1: it goes before; .3 after.
    assert_eq!(a.ips, ["10.0.0.2", "10.0.0.1", "10.0.0.3"]);
    assert_eq!(a.first_seen.as_second(), 50);
    assert_eq!(a.last_seen.as_second(), 200);
    assert!(!a.merge(&b), "merging again changes nothing");
}

fn ips(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("10.9.0.{i}")).collect()
}

fn with_ips(ips: Vec<String>) -> KvDevice {
    KvDevice {
        ips,
        ..dev(&["ZIA"], &[], 1, 2)
    }
}

/// Regression (the bucket kept a device's first 32 IPs for good, whatever the collectors
/// saw later): new values push the oldest out, as in the registry.
#[test]
fn at_the_cap_new_values_push_the_oldest_out() {
    let mut stored = with_ips(ips(0..MAX_PER_DEVICE));
    assert!(stored.merge(&with_ips(ips(8..40))));
    assert_eq!(stored.ips, ips(8..40));
    // A collector that saw fewer lately adds what is new to the bucket, at the end.
    assert!(stored.merge(&with_ips(
        ips(30..32).into_iter().chain(ips(50..52)).collect()
    )));
    assert_eq!(stored.ips, [ips(10..40), ips(50..52)].concat());
    assert!(!stored.merge(&with_ips(ips(30..40))), "nothing new");
}

/// Values the bucket pushed out do not come back from a collector that still holds them:
/// two collectors that see a device's IPs in turns write each new one once, and the bucket
/// ends with the newest 32, whichever wrote last.
#[test]
fn collectors_that_saw_different_values_converge_on_the_newest() {
    let mut bucket = with_ips(vec![]);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let (mine, other) = if i % 10 < 5 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        mine.push(format!("10.9.0.{i}"));
        if mine.len() > MAX_PER_DEVICE {
            mine.remove(0);
        }
        assert!(bucket.merge(&with_ips(mine.clone())), "ip {i} is new");
        // The other collector merges its own list again (its device changed otherwise):
        // nothing it holds is newer than what the bucket has.
        assert!(!bucket.merge(&with_ips(other.clone())), "after ip {i}");
    }
    assert_eq!(bucket.ips, ips(100 - MAX_PER_DEVICE..100));
}

/// A collector none of whose values the bucket still holds (it saw the device elsewhere,
/// long ago) cannot say which of them are new to the bucket: its newest is, and the others
/// are placed first, where the cap pushes them out. Taking them all as new would have two
/// collectors that see a device in different places replace its whole list in turns.
#[test]
fn a_collector_with_none_of_the_buckets_values_adds_its_newest() {
    let mut stored = with_ips(ips(0..32));
    assert!(stored.merge(&with_ips(ips(100..132))));
    assert_eq!(stored.ips, [ips(1..32), ips(131..132)].concat());
    assert!(stored.merge(&with_ips(ips(1..33))));
    assert_eq!(
        stored.ips,
        [ips(2..32), ips(131..132), ips(32..33)].concat()
    );
    assert!(!stored.merge(&with_ips(ips(100..132))), "no turn-taking");
    // With room left, nothing is lost.
    let mut small = with_ips(ips(0..2));
    assert!(small.merge(&with_ips(ips(100..103))));
    assert_eq!(
        small.ips,
        [ips(100..102), ips(0..2), ips(102..103)].concat()
    );
}
