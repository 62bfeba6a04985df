//! A round of publishes in flight: made of a chunk of frames ([`Encoder`]), then what the server
//! answers on the publishing connection: acknowledgements counted against their round, PINGs
//! answered, errors ending the connection.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::conn::Reader;
use super::frame::{self, Frame};
use super::kv::KvDevice;
use super::outgoing::{Hpub, Outgoing};
use super::proto::{self, Ack, Op};
use super::queue::Chunk;
use super::Stats;

/// A round sent and not yet acknowledged.
pub struct Round {
    /// The round's frames, and where the queue's front goes after them.
    pub chunk: Chunk,
    /// Its messages carry the reply tokens `first..first + count`.
    pub first: u64,
    pub count: u64,
    pub acked: u64,
    /// A bit per token, set by its first answer: only JetStream answers on the inbox, once a
    /// message, but anyone who may publish on the account can answer there too, and a token
    /// counted twice would have the round done with a message unacknowledged.
    answered: Vec<u64>,
    pub merges: Vec<KvDevice>,
    pub sent: Instant,
}

impl Round {
    /// Whether `token`, one of the round's, is answered for the first time (and now taken).
    fn first_answer(&mut self, token: u64) -> bool {
        let at = token - self.first;
        let Some(word) = self.answered.get_mut((at / 64) as usize) else {
            return false;
        };
        let bit = 1u64 << (at % 64);
        let first = *word & bit == 0;
        *word |= bit;
        first
    }
}

/// Makes rounds: numbers their messages with reply tokens, and leaves out what cannot be
/// published.
pub struct Encoder {
    next_token: u64,
    /// Messages that cannot ever be published (larger than the server takes, or a damaged
    /// frame): said, and left behind with their round.
    pub skipped: u64,
}

impl Default for Encoder {
    fn default() -> Encoder {
        Encoder {
            next_token: 1,
            skipped: 0,
        }
    }
}

impl Encoder {
    /// The round of `chunk`: an HPUB into `out` for each of its messages, replies to `inbox`
    /// (its connection's, whose server takes messages up to `max_payload` bytes), and the
    /// devices it merges.
    pub fn round(
        &mut self,
        chunk: Chunk,
        inbox: &[u8],
        max_payload: usize,
        out: &mut Outgoing,
    ) -> Round {
        let first = self.next_token;
        let mut merges = Vec::new();
        for part in &chunk.parts {
            let bytes = &part.bytes;
            let mut at = 0;
            while at < bytes.len() {
                let (frame, len) = match frame::read(&bytes[at..]) {
                    Ok(read) => read,
                    Err(e) => {
                        // The spool checks its seals, but a spool written before them holds
                        // bare frames, whose damaged bodies are first met here. Failing the
                        // round would read it again and fail again, for ever, the head held
                        // behind it until the full spool stops the inputs. The next
                        // frame starts where the header says: the spool cut this chunk and
                        // counted its frames by that same length, so going on loses nothing it
                        // could find. Without a length (the spool hands out no such header)
                        // nothing in the rest of the part can be found.
                        let len = frame::length(&bytes[at..]).unwrap_or(bytes.len() - at);
                        self.damaged(&e, len);
                        at += len;
                        continue;
                    }
                };
                at += len;
                if let Frame::Merge { json, .. } = frame {
                    match serde_json::from_slice::<KvDevice>(json) {
                        Ok(device) => merges.push(device),
                        Err(e) => self.damaged(&e, len),
                    }
                    continue;
                }
                let Some(frame::Message {
                    subject,
                    id,
                    payload,
                    place,
                }) = part.message(&frame)
                else {
                    continue;
                };
                let size = payload.map_or(usize::MAX, |p| proto::message_len(id, p.len()));
                let (Some(payload), true) = (
                    payload,
                    proto::is_token(subject) && proto::is_token(id) && size <= max_payload,
                ) else {
                    self.skipped += 1;
                    if self.skipped.is_power_of_two() {
                        tracing::error!(
                            skipped = self.skipped,
                            "output.nats: a message of {} bytes on {:?} cannot be \
                             published (the server takes {} bytes, or the frame is \
                             damaged); it is in the records file only",
                            payload.map_or(0, <[u8]>::len),
                            String::from_utf8_lossy(subject),
                            max_payload
                        );
                    }
                    continue;
                };
                let token = self.next_token;
                self.next_token += 1;
                let message = Hpub {
                    subject,
                    reply: inbox,
                    token,
                    id,
                };
                out.hpub(&message, part, payload, place);
            }
        }
        let count = self.next_token - first;
        Round {
            chunk,
            first,
            count,
            acked: 0,
            answered: vec![0; count.div_ceil(64) as usize],
            merges,
            sent: Instant::now(),
        }
    }

    /// A frame that cannot be read: counted with the messages skipped, said at the 1st, 2nd,
    /// 4th… (a damaged spool must not flood the log).
    fn damaged(&mut self, why: &dyn std::fmt::Display, len: usize) {
        self.skipped += 1;
        if self.skipped.is_power_of_two() {
            tracing::error!(
                skipped = self.skipped,
                "output.nats: a damaged frame of {len} bytes cannot be published ({why}); \
                 skipped, the records file and the local registry keep what it held"
            );
        }
    }
}

/// The PINGs of a connection, both ways.
#[derive(Debug, Default)]
pub struct Pings {
    /// Ours that the server has not answered yet.
    pub owed: u32,
    /// A PONG of ours waits in the outgoing bytes, not yet all written.
    pub pong_queued: bool,
}

/// Takes the operations read: acknowledgements count against their round, a PING is answered
/// (once while an answer waits to be written: one PONG answers every PING before it, and a
/// server that sends PINGs and reads nothing must not grow `out`), an error ends the
/// connection.
pub fn handle(
    reader: &mut Reader,
    inbox: &[u8],
    rounds: &mut VecDeque<Round>,
    out: &mut Vec<u8>,
    stats: &Stats,
    pings: &mut Pings,
) -> Result<(), String> {
    let (mut acked, mut duplicates, mut refused) = (0, 0, 0);
    let result = loop {
        let op = match reader.next_op() {
            Ok(Some(op)) => op,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        };
        match op {
            Op::Msg {
                subject,
                headers,
                payload,
            } => {
                let Some(token) = proto::token(subject, inbox) else {
                    continue;
                };
                // Rounds hold consecutive tokens, oldest first; acknowledgements come mostly in
                // order, so the first round is nearly always the one.
                let Some(round) = rounds
                    .iter_mut()
                    .find(|r| token >= r.first && token < r.first + r.count)
                else {
                    continue;
                };
                if !round.first_answer(token) {
                    continue;
                }
                match proto::ack(headers, payload) {
                    Ack::Stored => {}
                    Ack::Duplicate => duplicates += 1,
                    // Sent again it would be refused again, for ever: the spool's head held
                    // behind it until the full spool stopped the inputs. It is passed over
                    // (the records file keeps it), as a message too large for the server is.
                    Ack::Refused => {
                        refused += 1;
                        round.acked += 1;
                        let before = stats.unpublishable.fetch_add(1, Ordering::Relaxed);
                        if (before + 1).is_power_of_two() {
                            tracing::error!(
                                unpublishable = before + 1,
                                "output.nats: JetStream refused a message for what it is ({}); \
                                 not sent again, it is in the records file only",
                                String::from_utf8_lossy(&payload[..payload.len().min(300)])
                            );
                        }
                        continue;
                    }
                    Ack::Failed => {
                        break Err(format!(
                            "JetStream refused a message: {}",
                            failure(headers, payload)
                        ))
                    }
                }
                round.acked += 1;
                acked += 1;
            }
            Op::Ping if !pings.pong_queued => {
                out.extend_from_slice(b"PONG\r\n");
                pings.pong_queued = true;
            }
            Op::Ping => {}
            Op::Pong => pings.owed = 0,
            Op::Err(why) => break Err(format!("server error: {}", String::from_utf8_lossy(why))),
            Op::Info(_) | Op::Ok => {}
        }
    };
    stats.acknowledged.fetch_add(acked, Ordering::Relaxed);
    stats.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    let answered = acked + refused;
    stats.acks_pending.fetch_sub(
        answered.min(stats.acks_pending.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    result
}

/// Why JetStream failed a publish, for the log: its error, or the status its answer carries
/// in headers with no payload (503: no stream listens on the subject, as when the stream was
/// deleted), which printed as nothing.
fn failure(headers: Option<&[u8]>, payload: &[u8]) -> String {
    if !payload.is_empty() {
        return String::from_utf8_lossy(&payload[..payload.len().min(300)]).into_owned();
    }
    // "NATS/1.0 503" and an optional description, up to the line's end.
    let status = headers
        .and_then(|h| h.split(|&b| b == b'\r' || b == b'\n').next())
        .and_then(|line| line.strip_prefix(b"NATS/1.0"))
        .map(|rest| {
            String::from_utf8_lossy(&rest[..rest.len().min(300)])
                .trim()
                .to_owned()
        })
        .filter(|status| !status.is_empty());
    match status.as_deref() {
        Some("503") => "status 503, no responders: no stream takes the subject".to_owned(),
        Some(status) => format!("status {status}"),
        None => "an answer that is no acknowledgement".to_owned(),
    }
}

#[cfg(test)]
mod tests;
