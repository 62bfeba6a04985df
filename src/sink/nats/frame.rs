//! What the aggregator hands the NATS thread, and what the spool keeps on disk: frames, encoded
//! once, on the aggregator.
//!
//! A frame is a 1-byte type, a 4-byte little-endian body length, then the body:
//! - `R` (a message to publish): subject length (1 byte), subject, id length (1 byte),
//!   `Nats-Msg-Id`, payload (a record or a device event, one JSON object without its newline);
//! - `B` (a message whose payload stays where the shard wrote it): subject and id as in `R`,
//!   then which of the hand-over's [`Frames::bodies`] holds the payload, where it starts and its
//!   length (three 4-byte little-endian numbers). Copying each record into a frame was a
//!   seventh of a microsecond per record, the destination being memory no core had touched
//!   lately; now the records buffer of the shard's batch itself goes to the NATS thread, the
//!   batch gets a spare one, and the payload is copied once, by the kernel, into the socket.
//!   `B` frames live in memory only: the spool takes them as `R` ([`Frames::flatten`]);
//! - `K` (a device to merge into the registry bucket): the device id (8 bytes, little-endian),
//!   then the device as JSON ([`super::kv::KvDevice`]);
//! - `S` (in the spool only): `R` and `K` frames under a checksum ([`super::seal`]).

/// The largest body a frame may declare. A record is at most `limits.max_frame_bytes` (64 MiB
/// at most) and a half; a larger length is a torn or foreign file, not a record.
pub const MAX_BODY: usize = 128 << 20;
/// Type and length.
pub const HEADER: usize = 5;

pub const PUBLISH: u8 = b'R';
pub const BODY: u8 = b'B';
pub const MERGE: u8 = b'K';
pub const SEALED: u8 = b'S';

/// Frames the aggregator hands the NATS thread, the buffers their `B` frames point into, and
/// how many of them are messages to publish: counted as they are made, so that the NATS thread
/// need not walk them (reading each frame's header from the other core's memory was a cache
/// miss per record, a fifth of that thread).
#[derive(Debug, Default)]
pub struct Frames {
    pub bytes: Vec<u8>,
    pub bodies: Vec<Vec<u8>>,
    /// Bytes of the payloads that `B` frames point at (what flattening adds).
    pub referenced: usize,
    pub messages: u64,
    /// Where the last record among these frames ends in the records sink (its bytes taken,
    /// [`crate::sink::Sink::taken`]); 0 with none. Once these frames are in JetStream or the
    /// spool, the duplicate window may remember the records up to there across a crash.
    pub records_end: u64,
}

impl Frames {
    /// Frames read from the spool: no bodies.
    pub fn spooled(bytes: Vec<u8>, messages: u64) -> Frames {
        Frames {
            bytes,
            messages,
            ..Frames::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The memory held: frames and the buffers of their payloads, whole (a records buffer is
    /// held with its spare room).
    pub fn size(&self) -> usize {
        self.bytes.len() + self.bodies.iter().map(Vec::capacity).sum::<usize>()
    }

    /// About the bytes of these frames flattened ([`Frames::flatten`]), which is what the spool
    /// and a round take: no less (a `B` frame is longer than its `R` without the payload).
    pub fn flat_len(&self) -> usize {
        self.bytes.len() + self.referenced
    }

    /// The payload of a `B` frame; `None` when these frames have no such bytes (a damaged
    /// or foreign frame).
    pub fn payload(&self, body: u32, start: u32, len: u32) -> Option<&[u8]> {
        let (start, len) = (start as usize, len as usize);
        self.bodies
            .get(body as usize)?
            .get(start..start.checked_add(len)?)
    }

    /// The message a frame of these frames publishes, `R` or `B` alike; `None` for a merge.
    pub fn message<'a>(&'a self, frame: &Frame<'a>) -> Option<Message<'a>> {
        match *frame {
            Frame::Publish {
                subject,
                id,
                payload,
            } => Some(Message {
                subject,
                id,
                payload: Some(payload),
                place: None,
            }),
            Frame::Body {
                subject,
                id,
                body,
                start,
                len,
            } => Some(Message {
                subject,
                id,
                payload: self.payload(body, start, len),
                place: Some((body, start, len)),
            }),
            Frame::Merge { .. } => None,
        }
    }

    /// The same frames with every `B` made an `R` that holds its payload: what the spool
    /// takes. A `B` without its payload cannot be made whole and is left out.
    pub fn flatten(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.flat_len());
        let mut at = 0;
        while let Ok((frame, len)) = read(&self.bytes[at..]) {
            match self.message(&frame) {
                Some(Message {
                    subject,
                    id,
                    payload,
                    place: Some(_),
                }) => {
                    if let Some(payload) = payload {
                        publish(&mut out, subject, id, payload);
                    }
                }
                _ => out.extend_from_slice(&self.bytes[at..at + len]),
            }
            at += len;
        }
        out
    }
}

/// A message to publish, read from a frame.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub subject: &'a [u8],
    pub id: &'a [u8],
    /// `None` when a `B` frame's payload is not in its frames' bodies (a damaged frame).
    pub payload: Option<&'a [u8]>,
    /// Where a `B` frame's payload lies: body, start, length.
    pub place: Option<(u32, u32, u32)>,
}

/// One frame read back.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Publish {
        subject: &'a [u8],
        id: &'a [u8],
        payload: &'a [u8],
    },
    Body {
        subject: &'a [u8],
        id: &'a [u8],
        body: u32,
        start: u32,
        len: u32,
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
    message_head(out, PUBLISH, subject, id, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a message whose payload is `len` bytes at `start` of body `body`.
pub fn body(out: &mut Vec<u8>, subject: &[u8], id: &[u8], body: u32, start: u32, len: u32) {
    message_head(out, BODY, subject, id, 12);
    for n in [body, start, len] {
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// A message frame's header, subject and id; `rest` bytes must follow.
fn message_head(out: &mut Vec<u8>, kind: u8, subject: &[u8], id: &[u8], rest: usize) {
    let subject = &subject[..subject.len().min(255)];
    let id = &id[..id.len().min(255)];
    let size = 2 + subject.len() + id.len() + rest;
    out.push(kind);
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out.push(subject.len() as u8);
    out.extend_from_slice(subject);
    out.push(id.len() as u8);
    out.extend_from_slice(id);
}

/// Appends a device to merge into the registry bucket.
pub fn merge(out: &mut Vec<u8>, device: u64, json: &[u8]) {
    out.push(MERGE);
    out.extend_from_slice(&((8 + json.len()) as u32).to_le_bytes());
    out.extend_from_slice(&device.to_le_bytes());
    out.extend_from_slice(json);
}

/// [`length`] of a frame in the spool, where a `B` frame cannot be (its payload was in memory).
pub fn spooled_length(bytes: &[u8]) -> Result<usize, FrameError> {
    if bytes.first() == Some(&BODY) {
        return Err(FrameError::Invalid("a memory-only frame in the spool"));
    }
    length(bytes)
}

/// The length of the frame at the start of `bytes` (header included), from its header alone.
pub fn length(bytes: &[u8]) -> Result<usize, FrameError> {
    let Some(header) = bytes.get(..HEADER) else {
        return Err(FrameError::Incomplete);
    };
    // A sealed frame holds a frame of `MAX_BODY` and its own header.
    let most = match header[0] {
        PUBLISH | BODY | MERGE => MAX_BODY,
        SEALED => MAX_BODY + HEADER + super::seal::SEAL_HEAD,
        _ => return Err(FrameError::Invalid("unknown type")),
    };
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[1..]);
    let body = u32::from_le_bytes(len) as usize;
    if body > most {
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
        BODY => {
            let (subject, rest) = short(body)?;
            let (id, place) = short(rest)?;
            let place: &[u8; 12] = place
                .try_into()
                .map_err(|_| FrameError::Invalid("body place not 12 bytes"))?;
            let n =
                |i: usize| u32::from_le_bytes([place[i], place[i + 1], place[i + 2], place[i + 3]]);
            Frame::Body {
                subject,
                id,
                body: n(0),
                start: n(4),
                len: n(8),
            }
        }
        MERGE => {
            let (id, json) = body
                .split_first_chunk::<8>()
                .ok_or(FrameError::Invalid("merge too short"))?;
            Frame::Merge {
                device: u64::from_le_bytes(*id),
                json,
            }
        }
        _ => return Err(FrameError::Invalid("a sealed frame not opened")),
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

/// True for the types of frame that are messages to publish (not registry merges).
pub fn is_message(kind: u8) -> bool {
    matches!(kind, PUBLISH | BODY)
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
        messages += u64::from(is_message(bytes[0]));
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
    fn body_frames_point_into_their_bodies_and_flatten_to_whole_messages() {
        let mut frames = Frames::default();
        frames.bodies.push(b"xx{\"a\":1}\n{\"b\":2}\n".to_vec());
        body(&mut frames.bytes, b"s.a", b"01", 0, 2, 7);
        merge(&mut frames.bytes, 9, b"{}");
        publish(&mut frames.bytes, b"s.d", b"02", b"{\"d\":1}");
        body(&mut frames.bytes, b"s.b", b"03", 0, 10, 7);
        // Damaged: no such body, and a place past the end of one.
        body(&mut frames.bytes, b"s.x", b"04", 1, 0, 1);
        body(&mut frames.bytes, b"s.x", b"05", 0, 10, u32::MAX);
        frames.messages = 5;
        frames.referenced = 14;
        assert_eq!(count(&frames.bytes), (6, 5));
        assert!(matches!(
            spooled_length(&frames.bytes),
            Err(FrameError::Invalid(_))
        ));
        let (frame, _) = read(&frames.bytes).unwrap();
        let Frame::Body {
            body, start, len, ..
        } = frame
        else {
            panic!("{frame:?}");
        };
        assert_eq!(frames.payload(body, start, len), Some(&b"{\"a\":1}"[..]));

        let flat = frames.flatten();
        let mut expected = Vec::new();
        publish(&mut expected, b"s.a", b"01", b"{\"a\":1}");
        merge(&mut expected, 9, b"{}");
        publish(&mut expected, b"s.d", b"02", b"{\"d\":1}");
        publish(&mut expected, b"s.b", b"03", b"{\"b\":2}");
        assert_eq!(flat, expected);
        assert!(frames.flat_len() >= flat.len());
        assert_eq!(Frames::spooled(flat.clone(), 3).flatten(), flat);
        // Without its bodies a `B` frame is left out, never passed on as it is.
        let orphan = Frames::spooled(frames.bytes.clone(), 5).flatten();
        assert_eq!(count(&orphan), (2, 1));
        assert_eq!(
            frames.size(),
            frames.bytes.len() + frames.bodies[0].capacity()
        );
    }

    #[test]
    fn a_lying_length_is_refused_without_allocating() {
        let mut bad = vec![PUBLISH];
        bad.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(length(&bad), Err(FrameError::Invalid(_))));
        assert!(matches!(read(b"Zxxxxxx"), Err(FrameError::Invalid(_))));
    }
}
