//! A round of publishes in flight, and what the server answers on the publishing connection:
//! acknowledgements counted against their round, PINGs answered, errors ending the connection.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::conn::Reader;
use super::kv::KvDevice;
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
    pub merges: Vec<KvDevice>,
    pub sent: Instant,
}

/// Takes the operations read: acknowledgements count against their round, a PING is answered,
/// an error ends the connection.
pub fn handle(
    reader: &mut Reader,
    inbox: &[u8],
    rounds: &mut VecDeque<Round>,
    out: &mut Vec<u8>,
    stats: &Stats,
    pings_owed: &mut u32,
) -> Result<(), String> {
    let (mut acked, mut duplicates) = (0, 0);
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
                match proto::ack(headers, payload) {
                    Ack::Stored => {}
                    Ack::Duplicate => duplicates += 1,
                    Ack::Failed => {
                        break Err(format!(
                            "JetStream refused a message: {}",
                            String::from_utf8_lossy(&payload[..payload.len().min(300)])
                        ))
                    }
                }
                round.acked += 1;
                acked += 1;
            }
            Op::Ping => out.extend_from_slice(b"PONG\r\n"),
            Op::Pong => *pings_owed = 0,
            Op::Err(why) => break Err(format!("server error: {}", String::from_utf8_lossy(why))),
            Op::Info(_) | Op::Ok => {}
        }
    };
    stats.acknowledged.fetch_add(acked, Ordering::Relaxed);
    stats.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    stats.acks_pending.fetch_sub(
        acked.min(stats.acks_pending.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    result
}
