//! What the `zia` and `zpa` targets share: one frame through a fresh `Pipeline` (zone UTC), as
//! a complete frame and as the tail of a closed connection, then each LF-separated line of it
//! through one pipeline (so the device cache sees several records), with the batch checked.

use std::net::SocketAddr;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use ztel::parse::Reason;
use ztel::pipeline::{Batch, Origin, Pipeline};

/// A fixed receive time, so that a crash replays: 2026-01-01T00:00:00Z.
const RECEIVED: i64 = 1_767_225_600;

pub fn run(data: &[u8]) {
    let origin = Origin {
        peer: SocketAddr::from(([127, 0, 0, 1], 1514)),
        received: Timestamp::from_second(RECEIVED).expect("in range"),
    };

    let mut pipeline = Pipeline::new(TimeZone::UTC);
    let mut batch = Batch::new(0);
    let mut frame = data.to_vec();
    pipeline.process(&mut frame, &origin, &mut batch);
    check(&batch, &[data], None);

    let mut batch = Batch::new(0);
    let mut frame = data.to_vec();
    pipeline.process_tail(&mut frame, &origin, &mut batch);
    check(&batch, &[data], Some(Reason::Truncated));

    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    if lines.len() > 1 {
        let mut pipeline = Pipeline::new(TimeZone::UTC);
        let mut batch = Batch::new(0);
        for line in &lines {
            let mut frame = line.to_vec();
            pipeline.process(&mut frame, &origin, &mut batch);
        }
        check(&batch, &lines, None);
    }
}

/// Every frame became one record or one dead letter; records are JSON objects, one a line; a dead
/// letter carries its frame's bytes as received.
fn check(batch: &Batch, frames: &[&[u8]], tail_reason: Option<Reason>) {
    let made = batch.records_made() as usize;
    assert_eq!(
        made + batch.dead.len(),
        frames.len(),
        "{} frames gave {made} records and {} dead letters",
        frames.len(),
        batch.dead.len()
    );

    if !batch.records.is_empty() {
        assert_eq!(batch.records.last(), Some(&b'\n'), "records do not end with LF");
    }
    let lines: Vec<&[u8]> = batch.records.split(|&b| b == b'\n').collect();
    // split() yields one empty piece after the final LF.
    assert_eq!(lines.len() - 1, made, "record lines and records made differ");
    for line in &lines[..made] {
        let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_else(|e| {
            panic!(
                "record line is not JSON ({e}): {:?}",
                String::from_utf8_lossy(line)
            )
        });
        let object = value.as_object().expect("a record is a JSON object");
        let kind = object.get("kind").and_then(|k| k.as_str());
        assert!(
            matches!(kind, Some("zia.web" | "zpa.user_activity")),
            "record kind {kind:?}"
        );
        if let Some(id) = object.get("device_id") {
            let id = id.as_str().expect("device_id is a string");
            assert!(
                id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "device_id {id:?}"
            );
        }
    }

    // Dead letters come in frame order, so match them against the frames that made no record.
    let mut dead = batch.dead.iter();
    for frame in frames {
        match dead.as_slice().first() {
            Some(d) if d.raw == *frame => {
                if let Some(reason) = tail_reason {
                    assert_eq!(d.reason, reason, "a tail's dead letter says why");
                }
                dead.next();
            }
            _ => {}
        }
    }
    assert!(
        dead.as_slice().is_empty(),
        "dead letters whose raw is no frame's bytes: {:?}",
        dead.as_slice()
            .iter()
            .map(|d| String::from_utf8_lossy(&d.raw))
            .collect::<Vec<_>>()
    );
}
