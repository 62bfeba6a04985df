use std::path::{Path, PathBuf};

use super::super::frame::numbered;
use super::super::queue::Queue;
use super::super::spool::Spool;
use super::*;

const DEVICE: &[u8] = br#"{"device_id":"0000000000000007","hostname":"h","tags":[],"first_seen":"2024-01-01T00:00:00Z","last_seen":"2024-01-01T00:00:00Z","ips":[],"users":[]}"#;

fn open(d: &Path) -> Queue {
    Queue::new(Spool::open(d, 1 << 20).unwrap(), 1 << 20)
}

/// A spool holding messages 0 and 1, two frames whose headers are sound and bodies are not
/// (a subject length past the body's end, a merge without its 8-byte device id), a sound
/// merge, then messages 2 and 3; opened anew, so that its scan has been over them.
fn damaged_spool(name: &str) -> (PathBuf, Queue) {
    let d = std::env::temp_dir().join(format!("ztel-round-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let mut bytes = numbered(0..2);
    bytes.extend_from_slice(&[frame::PUBLISH, 3, 0, 0, 0, 255, b'x', b'y']);
    bytes.extend_from_slice(&[frame::MERGE, 4, 0, 0, 0, 1, 2, 3, 4]);
    frame::merge(&mut bytes, 7, DEVICE);
    bytes.extend_from_slice(&numbered(2..4));
    // As a spool written before seals holds them: bare frames, read unchecked.
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{:016}.seg", 1)), &bytes).unwrap();
    let q = open(&d);
    assert_eq!(q.messages(), 5, "the scan reads headers only");
    (d, q)
}

/// What `handle` works on: the rounds, what it queues to write, the counts, the PINGs.
type Handled<'a> = (
    &'a mut VecDeque<Round>,
    &'a mut Vec<u8>,
    &'a Stats,
    &'a mut Pings,
);

/// The single-threaded runtime a test's reads and writes run on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The server's end of a connection, and the reader on the collector's.
fn server_and_reader() -> (tokio::io::DuplexStream, Reader) {
    let (server, client) = tokio::io::duplex(1 << 16);
    (server, Reader::over(Box::new(client)))
}

/// Sends `bytes` as the server, and has `handle` take them once the reader holds them all.
async fn deliver(
    server: &mut tokio::io::DuplexStream,
    reader: &mut Reader,
    bytes: &[u8],
    (rounds, out, stats, pings): &mut Handled<'_>,
) {
    use tokio::io::AsyncWriteExt;
    server.write_all(bytes).await.unwrap();
    let mut read = 0;
    while read < bytes.len() {
        read += reader.read().await.unwrap();
    }
    handle(reader, b"_INBOX.x", rounds, out, stats, pings).unwrap();
}

/// A server that sends PINGs and reads nothing (found by review): each PING queued a PONG
/// behind writes that never finish, without bound. One waits at a time.
#[test]
fn pings_queue_one_pong_at_a_time() {
    let rt = runtime();
    rt.block_on(async {
        let (mut server, mut reader) = server_and_reader();
        let (mut rounds, stats) = (VecDeque::new(), Stats::default());
        let (mut out, mut pings) = (Vec::new(), Pings::default());
        // PINGs sent, then what they queued to be written.
        for sent in [1000, 1] {
            let bytes = b"PING\r\n".repeat(sent);
            let mut at = (&mut rounds, &mut out, &stats, &mut pings);
            deliver(&mut server, &mut reader, &bytes, &mut at).await;
            assert_eq!(out, b"PONG\r\n", "after {sent}");
            // Once it is written, the next PING is answered again.
            out.clear();
            pings.pong_queued = false;
        }
    });
}

/// From the panic review: a token answered twice (anyone who may publish on the account
/// can answer on the inbox) counted twice, and the round was done with a message
/// unacknowledged, which the spool's head then passed.
#[test]
fn a_token_answered_twice_counts_once() {
    let d = std::env::temp_dir().join(format!("ztel-round-twice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{:016}.seg", 1)), numbered(0..2)).unwrap();
    let mut q = open(&d);
    let chunk = q.read(1 << 20).unwrap().unwrap();
    let inbox = b"_INBOX.x";
    let round = Encoder::default().round(chunk, inbox, 1 << 20, &mut Outgoing::default());
    assert_eq!((round.first, round.count), (1, 2));
    let mut rounds = VecDeque::from([round]);
    let rt = runtime();
    rt.block_on(async {
        let (mut server, mut reader) = server_and_reader();
        let (stats, mut out, mut pings) = (Stats::default(), Vec::new(), Pings::default());
        let ack = "{\"stream\":\"s\",\"seq\":1}";
        let bytes = format!("MSG _INBOX.x.1 1 {n}\r\n{ack}\r\n", n = ack.len()).repeat(2);
        let mut at = (&mut rounds, &mut out, &stats, &mut pings);
        deliver(&mut server, &mut reader, bytes.as_bytes(), &mut at).await;
        assert_eq!(rounds[0].acked, 1, "one of two messages answered");
        assert_eq!(stats.acknowledged.load(Ordering::Relaxed), 1);
    });
    std::fs::remove_dir_all(&d).unwrap();
}

/// The `Nats-Msg-Id`s of the HPUBs `out` writes.
fn ids(out: &mut Outgoing) -> Vec<String> {
    let mut written = Vec::new();
    let rt = runtime();
    rt.block_on(async {
        while !out.is_empty() {
            assert!(out.write_to(&mut written).await.unwrap() > 0);
        }
    });
    let text = String::from_utf8(written).unwrap();
    text.split("Nats-Msg-Id: ")
        .skip(1)
        .map(|rest| rest[..rest.find('\r').unwrap()].to_owned())
        .collect()
}

/// A bare frame that does not read is passed over by the spool (each counted as damaged,
/// since the frame after it reads), and the rounds move the head past it.
#[test]
fn damaged_frames_are_skipped_and_their_round_moves_the_head_past_them() {
    let (d, mut q) = damaged_spool("whole");
    let mut encoder = Encoder::default();
    let mut out = Outgoing::default();
    let (mut merges, mut damaged, mut count) = (Vec::new(), 0, 0);
    while let Some(chunk) = q.read(1 << 20).unwrap() {
        damaged += chunk.damaged;
        let round = encoder.round(chunk, b"_I.x", 1 << 20, &mut out);
        count += round.count;
        merges.extend(round.merges.iter().map(|m| m.device_id.clone()));
        q.acknowledge(&round.chunk).unwrap();
    }
    assert_eq!(
        (damaged, encoder.skipped),
        (1, 0),
        "a record and a merge damaged"
    );
    assert_eq!(count, 4);
    assert_eq!(ids(&mut out), ["0", "1", "2", "3"]);
    assert_eq!(merges, ["0000000000000007"]);
    assert!(q.is_empty());
    assert_eq!((q.messages(), q.bytes()), (0, 0));
    drop(q);
    let mut q = open(&d);
    assert!(q.is_empty());
    assert!(q.read(1 << 20).unwrap().is_none());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_round_of_a_damaged_frame_alone_has_nothing_to_wait_for() {
    let (d, mut q) = damaged_spool("alone");
    let mut encoder = Encoder::default();
    let mut out = Outgoing::default();
    let mut counts = Vec::new();
    // A few bytes at a time, so that each damaged frame is a round of its own, with nothing
    // to acknowledge: the publisher finishes such a round at once.
    while let Some(chunk) = q.read(1).unwrap() {
        let round = encoder.round(chunk, b"_I.x", 1 << 20, &mut out);
        counts.push((round.count, round.merges.len()));
        q.acknowledge(&round.chunk).unwrap();
    }
    assert_eq!(
        counts,
        [(1, 0), (1, 0), (0, 0), (0, 0), (0, 1), (1, 0), (1, 0)]
    );
    assert_eq!(encoder.skipped, 0, "the spool passed them over");
    assert_eq!(ids(&mut out), ["0", "1", "2", "3"]);
    assert!(q.is_empty());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failure_without_a_payload_says_its_status() {
    // A deleted stream: the publish's answer is a bare 503 status, and the log said
    // "JetStream refused a message: " with nothing after it.
    assert_eq!(
        super::failure(Some(b"NATS/1.0 503\r\n\r\n"), b""),
        "status 503, no responders: no stream takes the subject"
    );
    assert_eq!(
        super::failure(Some(b"NATS/1.0 408 Request Timeout\r\n\r\n"), b""),
        "status 408 Request Timeout"
    );
    assert_eq!(
        super::failure(None, b""),
        "an answer that is no acknowledgement"
    );
    let error = br#"{"error":{"code":503,"err_code":10077,"description":"maximum bytes"}}"#;
    assert_eq!(super::failure(None, error), String::from_utf8_lossy(error));
}
