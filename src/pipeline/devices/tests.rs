//! The cache as the pipeline uses it: what it tells, what it remembers, how it grows and which
//! pages it writes.

use xxhash_rust::xxh3::xxh3_64;

use super::*;
use crate::batch::{Source, Span};
use wire::device::device_id;

fn text<'b>(batch: &'b Batch, span: &Option<Span>) -> Option<&'b str> {
    span.as_ref().map(|s| batch.text(s))
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn observe(
    c: &mut DeviceCache,
    key: &str,
    tag: Tag,
    ip: Option<&str>,
    user: Option<&str>,
    s: i64,
    batch: &mut Batch,
) -> bool {
    c.observe(device_id(key), key, tag, ip, user, ts(s), batch)
}

#[test]
fn cache_sends_only_news() {
    let mut c = DeviceCache::new(100);
    let mut b = Batch::new(0, Source::Tcp);
    let mut pc1 = |tag, ip, user, s| observe(&mut c, "pc1", tag, ip, user, s, &mut b);
    assert!(pc1(Tag::Zia, Some("10.0.0.1"), Some("a@x"), 1000));
    assert!(!pc1(Tag::Zia, Some("10.0.0.1"), Some("a@x"), 1001));
    assert!(pc1(Tag::Zia, Some("10.0.0.2"), Some("a@x"), 1002));
    assert!(pc1(Tag::Zpa, None, None, 1003));
    // A minute of feed time later the device is touched again.
    assert!(pc1(Tag::Zia, None, None, 1063));
    assert_eq!(b.devices.len(), 4);
    let first = &b.devices[0];
    assert_eq!(b.text(&first.key), "pc1");
    assert_eq!(text(&b, &first.ip), Some("10.0.0.1"));
    assert_eq!(text(&b, &first.user), Some("a@x"));
    let ip = &b.devices[1];
    assert_eq!(text(&b, &ip.ip), Some("10.0.0.2"));
    assert_eq!(ip.user, None);
    assert_eq!(b.devices[2].tag, Tag::Zpa);
    assert_eq!(b.devices[3].seen, ts(1063));
}

/// Another shard may have told the registry 32 newer IPs and users of the device since this
/// one told its own, pushing them out: the minute's "still here" delta tells them again.
#[test]
fn a_still_here_delta_carries_the_current_ip_and_user() {
    let mut c = DeviceCache::new(100);
    let mut b = Batch::new(0, Source::Tcp);
    let (ip, user) = (Some("10.9.0.250"), Some("xa@x"));
    assert!(observe(&mut c, "pc1", Tag::Zia, ip, user, 1000, &mut b));
    assert!(!observe(&mut c, "pc1", Tag::Zia, ip, user, 1030, &mut b));
    assert!(observe(&mut c, "pc1", Tag::Zia, ip, user, 1060, &mut b));
    let touch = &b.devices[1];
    assert_eq!(touch.seen, ts(1060));
    assert_eq!(text(&b, &touch.ip), Some("10.9.0.250"));
    assert_eq!(text(&b, &touch.user), Some("xa@x"));
}

/// Records out of order (a hot connection's batches parsed on two shards, a feed's replay): one
/// a minute or more earlier than any told moves the registry's `first_seen` back, so it is told,
/// however little else it brings; one less than a minute earlier, or between the earliest and the
/// latest told, is not.
#[test]
fn a_record_a_minute_earlier_than_any_told_is_told() {
    let mut c = DeviceCache::new(100);
    let mut b = Batch::new(0, Source::Tcp);
    let (ip, user) = (Some("10.70.0.1"), Some("a@x"));
    let mut pc = |s| observe(&mut c, "fs-pc", Tag::Zia, ip, user, s, &mut b);
    assert!(pc(10_600));
    assert!(pc(10_000));
    assert!(!pc(10_300), "between the earliest and the latest told");
    assert!(!pc(10_000), "as early as the earliest told");
    assert!(!pc(10_650));
    assert!(!pc(9_941), "less than a minute earlier");
    assert!(pc(9_940));
    // Newest first: a delta a minute, not one a record.
    let told = (0..600).filter(|s| pc(9_939 - s)).count();
    assert_eq!(told, 10);
    // The minute's "still here" counts from the latest told, as before.
    assert!(!pc(10_659));
    assert!(pc(10_660));
    // Further back than the place's bits hold (48 days): told far back, and an older record
    // is not told again and again.
    let later = 10_660 + 5_000_000;
    assert!(pc(later));
    assert!(!pc(10));
    let seen: Vec<Timestamp> = b.devices.iter().map(|d| d.seen).collect();
    let newest_first: Vec<i64> = (1..=10).map(|m| 9_940 - 60 * m).collect();
    let want: Vec<Timestamp> = [10_600, 10_000, 9_940]
        .into_iter()
        .chain(newest_first)
        .chain([10_660, later])
        .map(ts)
        .collect();
    assert_eq!(seen, want);
    // An earlier record's delta brings no IP or user it does not bring new; a "still here"
    // brings the current ones.
    for d in &b.devices[1..] {
        let still_here = d.seen == ts(10_660) || d.seen == ts(later);
        assert_eq!(d.ip.is_some(), still_here, "{:?}", d.seen);
    }
}

#[test]
fn churn_sends_each_new_value_and_a_return_to_an_old_one() {
    let mut c = DeviceCache::new(100);
    let mut b = Batch::new(0, Source::Tcp);
    let ips: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}")).collect();
    // pc1 at `ip`, the same user and second each time.
    let mut at = |ip: &str| observe(&mut c, "pc1", Tag::Zia, Some(ip), Some("a@x"), 1000, &mut b);
    for ip in &ips {
        assert!(at(ip));
    }
    // The last two are remembered; an older one is told again (the registry ignores it).
    assert!(!at(&ips[9]));
    assert!(!at(&ips[8]));
    assert!(at(&ips[0]));
    let told: Vec<&str> = b.devices.iter().filter_map(|d| text(&b, &d.ip)).collect();
    assert_eq!(told.len(), 11);
    assert_eq!(
        told[..10],
        ips.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    // The user was told once.
    assert_eq!(b.devices.iter().filter(|d| d.user.is_some()).count(), 1);
}

#[test]
fn cache_is_bounded_and_a_device_pushed_out_is_told_again() {
    let mut c = DeviceCache::new(8);
    assert_eq!(c.buckets.len(), 2);
    let mut b = Batch::new(0, Source::Tcp);
    for i in 0..100u64 {
        assert!(c.observe(i, "k", Tag::Zia, None, None, ts(i as i64), &mut b));
    }
    assert_eq!(c.in_use, 2, "all in use, so it pushes out");
    // The most recent ones are still known; the first was pushed out.
    assert!(!c.observe(99, "k", Tag::Zia, None, None, ts(100), &mut b));
    assert!(c.observe(0, "k", Tag::Zia, None, None, ts(100), &mut b));
}

#[test]
fn writing_each_page_first_forgets_no_device() {
    // Devices arrive in no order of their buckets, so pages are first written from any
    // bucket in them, including one that straddles two pages. All of the cache in use, so
    // that its 3,000 devices are spread over all its pages and no bucket overflows.
    let mut c = DeviceCache::new(1 << 16);
    c.in_use = c.buckets.len();
    let mut b = Batch::new(0, Source::Tcp);
    let ids: Vec<u64> = (0..3000u64).map(|i| xxh3_64(&i.to_le_bytes())).collect();
    for (i, &id) in ids.iter().enumerate() {
        assert!(c.observe(
            id,
            "k",
            Tag::Zia,
            Some("10.0.0.1"),
            None,
            ts(i as i64),
            &mut b
        ));
    }
    for (i, &id) in ids.iter().enumerate() {
        let at = ts(i as i64 + 1);
        assert!(
            !c.observe(id, "k", Tag::Zia, Some("10.0.0.1"), None, at, &mut b),
            "{i}"
        );
    }
    let pages = (c.buckets.len() * BUCKET).div_ceil(PAGE);
    let written: u32 = c.written.iter().map(|w| w.count_ones()).sum();
    assert!(written as usize <= pages + 1 && written as usize > pages / 2);
}

#[test]
fn growing_keeps_the_devices_it_knew() {
    let mut c = DeviceCache::new(1 << 20);
    let mut b = Batch::new(0, Source::Tcp);
    let ids: Vec<u64> = (0..10_000u64).map(|i| xxh3_64(&i.to_le_bytes())).collect();
    for (i, &id) in ids.iter().enumerate() {
        assert!(c.observe(id, "k", Tag::Zia, None, None, ts(i as i64), &mut b));
    }
    assert!(c.in_use > FIRST_IN_USE && c.in_use < c.buckets.len());
    let mut places = 0;
    for (i, bucket) in c.buckets.iter().enumerate() {
        for w in bucket.iter().filter(|w| tags(w) != 0) {
            assert!(
                c.index(w[0]) == i || c.second(w[0]) == i,
                "in one of its buckets"
            );
            places += 1;
        }
    }
    assert_eq!(places, ids.len());
    // Every one is known: none is told again.
    for (i, &id) in ids.iter().enumerate() {
        assert!(!c.observe(id, "k", Tag::Zia, None, None, ts(i as i64), &mut b));
    }
}

#[test]
fn nine_devices_of_one_pair_of_buckets_seen_in_turn_are_each_told_once() {
    let mut c = DeviceCache::new(1 << 20);
    let mut b = Batch::new(0, Source::Tcp);
    // First bucket 7 and second bucket 0 while FIRST_IN_USE are in use; the next bit parts
    // the first buckets once twice as many are. The first four fill bucket 7, the next
    // four bucket 0, and the ninth finds both full: the cache grows, and it goes in its
    // first bucket then, FIRST_IN_USE + 7.
    let shift = FIRST_IN_USE.trailing_zeros();
    let ks = [0u64, 2, 4, 6, 8, 10, 12, 14, 1];
    let ids: Vec<u64> = ks.iter().map(|k| k << shift | 7).collect();
    for round in 0..3 {
        for &id in &ids {
            let told = c.observe(id, "k", Tag::Zia, None, None, ts(1), &mut b);
            assert_eq!(told, round == 0, "round {round}");
        }
    }
    assert_eq!(c.in_use, 2 * FIRST_IN_USE);
    assert_eq!(b.devices.len(), 9);
    let ninth = |w: &[u64; WORDS]| w[0] == ids[8] && tags(w) != 0;
    assert!(c.buckets[FIRST_IN_USE + 7].iter().any(ninth));
    assert!(
        c.buckets[0].iter().all(|w| tags(w) != 0),
        "four in their second bucket"
    );
}

#[test]
fn nine_devices_whose_ids_share_every_bit_in_use_grow_it_to_its_end_then_push_out() {
    // Twice FIRST_IN_USE buckets in all, and ids alike in every bit either prefix uses.
    let mut c = DeviceCache::new(2 * FIRST_IN_USE * WAYS);
    let mut b = Batch::new(0, Source::Tcp);
    let shift = (2 * FIRST_IN_USE).trailing_zeros();
    let ids: Vec<u64> = (0..9u64).map(|k| k << shift | 7).collect();
    // The four of the first bucket (7) seen last, those of the second (0) before them.
    let seen = [10, 11, 12, 13, 0, 1, 2, 3, 20];
    for (&id, &at) in ids.iter().zip(&seen) {
        assert!(c.observe(id, "k", Tag::Zia, None, None, ts(at), &mut b));
    }
    assert_eq!(c.in_use, c.buckets.len(), "grown as far as it goes");
    // The ninth pushed out the one told least recently of both its buckets: in the second.
    assert!(!c.observe(ids[8], "k", Tag::Zia, None, None, ts(21), &mut b));
    assert!(!c.observe(ids[0], "k", Tag::Zia, None, None, ts(21), &mut b));
    assert!(c.observe(ids[4], "k", Tag::Zia, None, None, ts(21), &mut b));
}

#[test]
fn ten_thousand_devices_use_a_sixteenth_of_the_pages() {
    // The cache of a shard (DEVICE_CACHE_CAPACITY): 32 MiB, of whose 8,192 pages 10,000
    // devices touched some 5,800 before the cache grew from a prefix.
    let mut c = DeviceCache::new(1 << 20);
    let mut b = Batch::new(0, Source::Tcp);
    for i in 0..10_000u64 {
        let id = xxh3_64(&i.to_le_bytes());
        c.observe(id, "k", Tag::Zia, None, None, ts(1), &mut b);
    }
    // These ids grow it to 16,384 buckets in use: 512 pages of 8,192. Others stop at 8,192,
    // rarely 32,768. With one bucket per device it grew to 65,536 (2,048 pages).
    let written: u32 = c.written.iter().map(|w| w.count_ones()).sum();
    assert!(written <= 530, "{written} pages");
}

#[test]
fn feed_times_beyond_32_bits_are_held_not_wrapped() {
    let mut c = DeviceCache::new(100);
    let mut b = Batch::new(0, Source::Tcp);
    let far = i64::from(u32::MAX) + 100;
    assert!(c.observe(1, "k", Tag::Zia, None, None, ts(far), &mut b));
    // Wrapped, `far` would be second 99, and this a minute later than that.
    assert!(!c.observe(1, "k", Tag::Zia, None, None, ts(far + 70), &mut b));
    assert!(!c.observe(1, "k", Tag::Zia, None, None, ts(far + 600), &mut b));
    // Earlier than any told: told, to move the device's first sighting back.
    assert!(c.observe(1, "k", Tag::Zia, None, None, ts(1000), &mut b));
    // Before 1970: a device is told once, then spaced from second 0.
    assert!(c.observe(2, "k", Tag::Zia, None, None, ts(-5000), &mut b));
    assert!(!c.observe(2, "k", Tag::Zia, None, None, ts(-100), &mut b));
    assert!(c.observe(2, "k", Tag::Zia, None, None, ts(TOUCH_SECS), &mut b));
}
