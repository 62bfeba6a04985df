//! The hand-over and the encoding of records, through the outbox's public calls as the
//! aggregator makes them.

use wire::event::Kind;

use super::*;
use crate::sink::nats::frame::{self, Frame};

/// Offers a batch's lines as the aggregator does; the frames handed over.
fn offer(outbox: &mut Outbox, records: &mut Vec<u8>) {
    outbox.begin(records.len(), records.capacity());
    let mut start = 0;
    let ends: Vec<usize> = memchr::memchr_iter(b'\n', records).collect();
    for (i, end) in ends.into_iter().enumerate() {
        outbox.record(records, start..end, i as u128, Kind::ZiaWeb, end as u64);
        start = end + 1;
    }
    outbox.take_records(records);
}

fn lines(n: usize, pad: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let pad = "x".repeat(pad);
        out.extend_from_slice(
            format!("{{\"ts\":1,\"kind\":\"zia.web\",\"n\":{i},\"p\":\"{pad}\"}}\n").as_bytes(),
        );
    }
    out
}

/// The messages of frames, flattened: (subject, id, payload).
fn messages(frames: &Frames) -> Vec<(String, String, String)> {
    let flat = frames.flatten();
    let mut out = Vec::new();
    let mut at = 0;
    while at < flat.len() {
        let (frame, n) = frame::read(&flat[at..]).unwrap();
        if let Frame::Publish {
            subject,
            id,
            payload,
        } = frame
        {
            let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            out.push((s(subject), s(id), s(payload)));
        }
        at += n;
    }
    out
}

#[test]
fn frames_held_back_by_a_full_channel_go_as_soon_as_the_nats_thread_takes_one() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let link = Arc::new(Link::for_tests());
    let mut outbox = Outbox::new(tx, "z", link.clone());
    for _ in 0..2 {
        offer(&mut outbox, &mut lines(3, 10));
        outbox.send();
    }
    assert!(outbox.is_waiting(), "the second hand-over has no room");
    assert!(
        !outbox.wait_for_room(Duration::from_millis(20)),
        "nothing was taken"
    );

    // The NATS thread's end, as the intake does it: take a hand-over, say so.
    let nats = std::thread::spawn({
        let link = link.clone();
        move || {
            let first = rx.blocking_recv().expect("a hand-over");
            link.took();
            (first, rx)
        }
    });
    // The bound is only for a failure: the wait ends when the other thread takes.
    assert!(outbox.wait_for_room(Duration::from_secs(60)));
    outbox.send();
    assert!(!outbox.is_waiting());
    assert_eq!(outbox.backlog(), 0);
    let (first, mut rx) = nats.join().expect("the taking thread");
    let second = rx.try_recv().expect("the held-back frames, handed over");
    assert_eq!((first.messages, second.messages), (3, 3));
}

#[test]
fn a_large_batch_hands_over_its_records_buffer_and_a_small_one_is_copied() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let link = Arc::new(Link::for_tests());
    let mut outbox = Outbox::new(tx, "z", link.clone());

    // Large: its buffer goes with the frames, and the batch gets another, empty one.
    let mut large = lines(200, 200);
    let (large_copy, large_ptr) = (large.clone(), large.as_ptr());
    offer(&mut outbox, &mut large);
    assert!(large.is_empty());
    assert_ne!(large.as_ptr(), large_ptr);
    outbox.send();
    let frames = rx.try_recv().unwrap();
    assert_eq!(frames.bodies.len(), 1);
    assert_eq!(frames.bodies[0].as_ptr(), large_ptr, "not copied");
    assert_eq!(frames.messages, 200);
    let (_, first) = frame::read(&frames.bytes).unwrap();
    assert!(matches!(
        frame::read(&frames.bytes).unwrap().0,
        Frame::Body { .. }
    ));
    assert!(first < 100, "a frame without its payload");

    // Small: copied, and the batch keeps its buffer.
    let mut small = lines(3, 10);
    let small_ptr = small.as_ptr();
    let small_copy = small.clone();
    offer(&mut outbox, &mut small);
    assert_eq!((small.as_ptr(), &small), (small_ptr, &small_copy));
    outbox.send();
    let copied = rx.try_recv().unwrap();
    assert!(copied.bodies.is_empty());

    // Either way the same messages, in order, each line whole.
    for (frames, text) in [(&frames, &large_copy), (&copied, &small_copy)] {
        let got = messages(frames);
        let want: Vec<&[u8]> = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(got.len(), want.len());
        for (i, ((subject, id, payload), line)) in got.iter().zip(want).enumerate() {
            assert_eq!(subject, "z.records.zia.web");
            assert_eq!(id, &format!("{i:032x}"));
            assert_eq!(payload.as_bytes(), line);
        }
    }

    // Given back once acknowledged, the records buffer goes into the next large batch.
    link.give_back(frames);
    let mut next = lines(200, 200);
    offer(&mut outbox, &mut next);
    assert_eq!(next.as_ptr(), large_ptr, "the spare came back");
}

#[test]
fn a_batch_never_gets_back_a_smaller_buffer_than_it_gave() {
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let link = Arc::new(Link::for_tests());
    let mut outbox = Outbox::new(tx, "z", link.clone());

    // A small spare waits, as one does after a burst of small batches.
    let mut small = lines(100, 200);
    offer(&mut outbox, &mut small);
    outbox.send();
    let mut records = Vec::with_capacity(1 << 20);
    records.extend_from_slice(&lines(2000, 200));
    let capacity = records.capacity();
    assert!(small.capacity() < capacity);
    link.give_back(Frames {
        bodies: vec![std::mem::take(&mut small)],
        ..Frames::default()
    });

    // A larger batch is taken: it gets a buffer that holds as much, not the small spare.
    offer(&mut outbox, &mut records);
    assert!(records.is_empty());
    assert!(
        records.capacity() >= capacity,
        "{} < {capacity}",
        records.capacity()
    );

    // No spare at all: the same.
    let mut more = Vec::with_capacity(1 << 20);
    more.extend_from_slice(&lines(2000, 200));
    let capacity = more.capacity();
    offer(&mut outbox, &mut more);
    assert!(more.capacity() >= capacity);

    // A spare as large is taken as it is.
    let mut spare = Vec::with_capacity(2 << 20);
    spare.push(b'x');
    let spare_ptr = spare.as_ptr();
    link.give_back(Frames {
        bodies: vec![spare],
        ..Frames::default()
    });
    let mut last = Vec::with_capacity(1 << 20);
    last.extend_from_slice(&lines(2000, 200));
    offer(&mut outbox, &mut last);
    assert_eq!(last.as_ptr(), spare_ptr);
    assert!(last.is_empty());
}
