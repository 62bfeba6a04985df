//! What the `zia`, `zpa`, `cef` and `leef` targets share: one frame through a fresh decoder (zone UTC), then each
//! LF-separated line of it through one decoder (so that its state carries over), with what came
//! out checked.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use wire::decode::Decoder;

/// A fixed receive time, so that a crash replays: 2026-01-01T00:00:00Z.
const RECEIVED: i64 = 1_767_225_600;

pub fn run(data: &[u8]) {
    let received = Timestamp::from_second(RECEIVED).expect("in range");
    decode_all(&[data], received);
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 1 {
        decode_all(&lines, received);
    }
}

/// Every frame gives one record line or a reason; record lines are JSON objects with a known
/// `kind` and, where they name a device, a 16-hex `device_id` equal to the one of the device the
/// registry is told about.
fn decode_all(frames: &[&[u8]], received: Timestamp) {
    let mut decoder = Decoder::new(TimeZone::UTC);
    for frame in frames {
        let mut line = Vec::new();
        let Ok(decoded) = decoder.decode(frame, received, &mut line) else {
            assert!(line.is_empty(), "a frame that failed wrote a record");
            continue;
        };
        assert_eq!(line.last(), Some(&b'\n'), "a record ends with LF");
        assert_eq!(
            line.iter().filter(|&&b| b == b'\n').count(),
            1,
            "a record is one line"
        );
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap_or_else(|e| {
            panic!(
                "record line is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&line)
            )
        });
        let object = value.as_object().expect("a record is a JSON object");
        let kind = object.get("kind").and_then(|k| k.as_str());
        assert_eq!(kind, Some(decoded.facts.kind.as_str()), "record kind");
        let written = object.get("device_id").map(|id| {
            let id = id.as_str().expect("device_id is a string");
            assert!(
                id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "device_id {id:?}"
            );
            id.to_owned()
        });
        let id = decoded.facts.device.as_ref().map(|d| d.id);
        assert_eq!(written, id.map(|id| format!("{id:016x}")), "device_id");
    }
}
