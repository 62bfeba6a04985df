//! What the aggregator hands the NATS thread, and what the spool keeps on disk: the same bytes,
//! so that a batch is encoded once, on the aggregator, and appended to the spool as it came.
//!
//! A frame is a 1-byte type, a 4-byte little-endian body length, then the body:
//! - `R` (a message to publish): subject length (1 byte), subject, id length (1 byte),
//!   `Nats-Msg-Id`, payload (a record or a device event, one JSON object without its newline);
//! - `K` (a device to merge into the registry bucket): the device id (8 bytes, little-endian),
//!   then the device as JSON ([`super::kv::KvDevice`]).

/// The largest body a frame may declare. A record is at most `limits.max_frame_bytes` (64 MiB
/// at most) and a half; a larger length is a torn or foreign file, not a record.
pub const MAX_BODY: usize = 128 << 20;
/// Type and length.
pub const HEADER: usize = 5;

pub const PUBLISH: u8 = b'R';
pub const MERGE: u8 = b'K';

/// Frames the aggregator hands the NATS thread, and how many of them are messages to publish:
/// counted as they are made, so that the NATS thread need not walk them (reading each frame's
/// header from the other core's memory was a cache miss per record, a fifth of that thread).
#[derive(Debug, Default)]
pub struct Frames {
    pub bytes: Vec<u8>,
    pub messages: u64,
}

/// One frame read back.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Publish {
        subject: &'a [u8],
        id: &'a [u8],
        payload: &'a [u8],
    },
    Merge {
        device: u64,
        json: &'a [u8],
    },
}

/// Why bytes are not a frame.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes end before the frame does: read more (or, at a file's end, a torn write).
    #[error("frame incomplete")]
    Incomplete,
    #[error("not a spool frame: {0}")]
    Invalid(&'static str),
}

/// Appends a message to publish. Subject and id are ASCII of under 256 bytes (ztel makes them;
/// the publisher leaves out a message whose are not NATS tokens, as from a damaged spool).
pub fn publish(out: &mut Vec<u8>, subject: &[u8], id: &[u8], payload: &[u8]) {
    let subject = &subject[..subject.len().min(255)];
    let id = &id[..id.len().min(255)];
    let body = 2 + subject.len() + id.len() + payload.len();
    out.push(PUBLISH);
    out.extend_from_slice(&(body as u32).to_le_bytes());
    out.push(subject.len() as u8);
    out.extend_from_slice(subject);
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.extend_from_slice(payload);
}

/// Appends a device to merge into the registry bucket.
pub fn merge(out: &mut Vec<u8>, device: u64, json: &[u8]) {
    out.push(MERGE);
    out.extend_from_slice(&((8 + json.len()) as u32).to_le_bytes());
    out.extend_from_slice(&device.to_le_bytes());
    out.extend_from_slice(json);
}

/// The length of the frame at the start of `bytes` (header included), from its header alone.
pub fn length(bytes: &[u8]) -> Result<usize, FrameError> {
    let Some(header) = bytes.get(..HEADER) else {
        return Err(FrameError::Incomplete);
    };
    if header[0] != PUBLISH && header[0] != MERGE {
        return Err(FrameError::Invalid("unknown type"));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[1..]);
    let body = u32::from_le_bytes(len) as usize;
    if body > MAX_BODY {
        return Err(FrameError::Invalid("length too large"));
    }
    Ok(HEADER + body)
}

/// Reads the frame at the start of `bytes`; returns it and its length.
pub fn read(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let len = length(bytes)?;
    let Some(body) = bytes.get(HEADER..len) else {
        return Err(FrameError::Incomplete);
    };
    let frame = match bytes[0] {
        PUBLISH => {
            let (subject, rest) = short(body)?;
            let (id, payload) = short(rest)?;
            Frame::Publish {
                subject,
                id,
                payload,
            }
        }
        _ => {
            let (id, json) = body
                .split_first_chunk::<8>()
                .ok_or(FrameError::Invalid("merge too short"))?;
            Frame::Merge {
                device: u64::from_le_bytes(*id),
                json,
            }
        }
    };
    Ok((frame, len))
}

/// A 1-byte length and what it measures.
fn short(bytes: &[u8]) -> Result<(&[u8], &[u8]), FrameError> {
    let (&n, rest) = bytes
        .split_first()
        .ok_or(FrameError::Invalid("body too short"))?;
    if rest.len() < n as usize {
        return Err(FrameError::Invalid("body too short"));
    }
    Ok(rest.split_at(n as usize))
}

/// Frames in `bytes` (whole frames, as an [`Outbox`](super::outbox::Outbox) sends them), and
/// how many of them are records or events rather than registry merges.
pub fn count(mut bytes: &[u8]) -> (u64, u64) {
    let (mut frames, mut messages) = (0, 0);
    while let Ok(len) = length(bytes) {
        if len > bytes.len() {
            break;
        }
        frames += 1;
        messages += u64::from(bytes[0] == PUBLISH);
        bytes = &bytes[len..];
    }
    (frames, messages)
}

/// Messages on subject `s` whose ids are the numbers `ids`: frames for the tests of what holds
/// them.
#[cfg(test)]
pub fn numbered(ids: std::ops::Range<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in ids {
        publish(&mut out, b"s", i.to_string().as_bytes(), b"{}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_written() {
        let mut out = Vec::new();
        publish(&mut out, b"ztel.records.zia.web", b"00ff", b"{\"a\":1}");
        merge(&mut out, 7, b"{}");
        let (frame, n) = read(&out).unwrap();
        assert_eq!(
            frame,
            Frame::Publish {
                subject: b"ztel.records.zia.web",
                id: b"00ff",
                payload: b"{\"a\":1}"
            }
        );
        let (frame, m) = read(&out[n..]).unwrap();
        assert_eq!(
            frame,
            Frame::Merge {
                device: 7,
                json: b"{}"
            }
        );
        assert_eq!(n + m, out.len());
        assert_eq!(count(&out), (2, 1));
        // Every cut short of the end is incomplete, never a wrong frame.
        for cut in 0..n {
            assert_eq!(read(&out[..cut]).unwrap_err(), FrameError::Incomplete);
        }
    }

    #[test]
    fn a_lying_length_is_refused_without_allocating() {
        let mut bad = vec![PUBLISH];
        bad.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(length(&bad), Err(FrameError::Invalid(_))));
        assert!(matches!(read(b"Zxxxxxx"), Err(FrameError::Invalid(_))));
    }
}
