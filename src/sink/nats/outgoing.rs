//! What the publishing connection has yet to write: bytes of its own (HPUB lines and headers,
//! payloads that came inside their frames, PINGs and PONGs) and payloads it points to where
//! they lie, in the records buffers the aggregator handed over ([`Frames::bodies`]). One
//! vectored write sends both, so a record is copied once, by the kernel: copying it into a
//! buffer of HPUB frames first was, with the aggregator's copy into a frame, a third of what
//! NATS cost per record.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::frame::Frames;
use super::proto;

/// Slices per write: under Linux's `IOV_MAX` (1024); a few hundred messages.
const SLICES: usize = 512;

#[derive(Debug, Clone, Copy)]
enum Seg {
    /// Own bytes up to here (from where the previous own segment ended).
    Own { end: usize },
    /// `len` bytes at `start` of body `body` of the part numbered `part`.
    Body {
        part: u64,
        body: u32,
        start: u32,
        len: u32,
    },
}

/// What an HPUB names: subject, reply subject and token, `Nats-Msg-Id`.
pub struct Hpub<'a> {
    pub subject: &'a [u8],
    pub reply: &'a [u8],
    pub token: u64,
    pub id: &'a [u8],
}

#[derive(Default)]
pub struct Outgoing {
    own: Vec<u8>,
    /// Where the own bytes not yet in a segment start.
    own_closed: usize,
    segs: Vec<Seg>,
    /// The first segment not wholly written, and how much of it was.
    at: usize,
    done_in_seg: usize,
    /// Own bytes before the first unwritten segment's (for `Seg::Own`'s start).
    own_written_to: usize,
    /// The parts segments point into, numbered from `first_part`, each with the index of its
    /// last segment: let go as soon as that was written, so that the publisher gets the buffers
    /// back when their round is acknowledged.
    parts: VecDeque<(Arc<Frames>, usize)>,
    first_part: u64,
}

impl Outgoing {
    /// Bytes of its own to write after everything before: append to it.
    pub fn own(&mut self) -> &mut Vec<u8> {
        &mut self.own
    }

    /// An HPUB of `payload`, which is in `part`: at `place` (body, start, length) of its
    /// bodies, written from there; else (in a frame) copied.
    pub fn hpub(
        &mut self,
        m: &Hpub<'_>,
        part: &Arc<Frames>,
        payload: &[u8],
        place: Option<(u32, u32, u32)>,
    ) {
        let Some((body, start, len)) = place else {
            proto::hpub(&mut self.own, m.subject, m.reply, m.token, m.id, payload);
            return;
        };
        proto::hpub_head(
            &mut self.own,
            m.subject,
            m.reply,
            m.token,
            m.id,
            payload.len(),
        );
        let numbered = self.part(part);
        self.body(numbered, body, start, len);
        self.own.extend_from_slice(b"\r\n");
    }

    /// Numbers `part` for [`Outgoing::body`] (the same part twice in a row keeps its number).
    pub fn part(&mut self, part: &Arc<Frames>) -> u64 {
        match self.parts.back() {
            Some((last, _)) if Arc::ptr_eq(last, part) => {}
            _ => self.parts.push_back((part.clone(), self.segs.len())),
        }
        self.first_part + self.parts.len() as u64 - 1
    }

    /// `len` bytes at `start` of body `body` of part `part`, after everything before. The
    /// caller checked that they exist ([`Frames::payload`]).
    pub fn body(&mut self, part: u64, body: u32, start: u32, len: u32) {
        self.close_own();
        if len == 0 {
            return;
        }
        if let Some(entry) = part
            .checked_sub(self.first_part)
            .and_then(|i| self.parts.get_mut(i as usize))
        {
            entry.1 = self.segs.len();
        }
        self.segs.push(Seg::Body {
            part,
            body,
            start,
            len,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.at == self.segs.len() && self.own_closed == self.own.len()
    }

    /// Writes as much as one vectored write takes; the bytes written (0: the peer closed).
    pub async fn write_to<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<usize> {
        self.close_own();
        let n = {
            let mut slices = [IoSlice::new(&[]); SLICES];
            let filled = self.slices(&mut slices);
            writer.write_vectored(&slices[..filled]).await?
        };
        self.advance(n);
        Ok(n)
    }

    /// Drops everything not written (after a failure the connection is dropped with it).
    pub fn clear(&mut self) {
        self.first_part += self.parts.len() as u64;
        self.parts.clear();
        self.segs.clear();
        self.at = 0;
        self.done_in_seg = 0;
        self.own.clear();
        self.own_closed = 0;
        self.own_written_to = 0;
    }

    fn close_own(&mut self) {
        if self.own_closed < self.own.len() {
            self.own_closed = self.own.len();
            self.segs.push(Seg::Own {
                end: self.own_closed,
            });
        }
    }

    fn bytes(&self, seg: Seg, own_start: usize) -> &[u8] {
        match seg {
            Seg::Own { end } => &self.own[own_start..end],
            Seg::Body {
                part,
                body,
                start,
                len,
            } => part
                .checked_sub(self.first_part)
                .and_then(|i| self.parts.get(i as usize))
                .and_then(|(frames, _)| frames.payload(body, start, len))
                .unwrap_or_default(),
        }
    }

    fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut own_start = self.own_written_to;
        let mut n = 0;
        for (i, seg) in self.segs[self.at..].iter().enumerate() {
            if n == slices.len() {
                break;
            }
            let mut bytes = self.bytes(*seg, own_start);
            if i == 0 {
                bytes = &bytes[self.done_in_seg.min(bytes.len())..];
            }
            if let Seg::Own { end } = seg {
                own_start = *end;
            }
            slices[n] = IoSlice::new(bytes);
            n += 1;
        }
        n
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 && self.at < self.segs.len() {
            let seg = self.segs[self.at];
            let len = self.bytes(seg, self.own_written_to).len();
            let left = len - self.done_in_seg.min(len);
            if n < left {
                self.done_in_seg += n;
                return;
            }
            n -= left;
            self.done_in_seg = 0;
            if let Seg::Own { end } = seg {
                self.own_written_to = end;
            }
            self.at += 1;
            while self.parts.front().is_some_and(|(_, last)| *last < self.at) {
                self.parts.pop_front();
                self.first_part += 1;
            }
        }
        if self.at == self.segs.len() {
            // All written: start over in the same buffers.
            self.segs.clear();
            self.at = 0;
            self.own.clear();
            self.own_closed = 0;
            self.own_written_to = 0;
            self.first_part += self.parts.len() as u64;
            self.parts.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &[u8]) -> Arc<Frames> {
        let mut f = Frames::default();
        f.bodies.push(text.to_vec());
        Arc::new(f)
    }

    /// A writer that takes at most `step` bytes per write, across slices, to cut every slice
    /// somewhere.
    struct Trickle {
        got: Vec<u8>,
        step: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.got.extend_from_slice(&buf[..n]);
            std::task::Poll::Ready(Ok(n))
        }
        fn poll_write_vectored(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(self.step - n);
                self.got.extend_from_slice(&buf[..take]);
                n += take;
                if n == self.step {
                    break;
                }
            }
            std::task::Poll::Ready(Ok(n))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    fn fill(out: &mut Outgoing, a: &Arc<Frames>, b: &Arc<Frames>) -> Vec<u8> {
        out.own().extend_from_slice(b"<1>");
        let pa = out.part(a);
        out.body(pa, 0, 1, 3);
        out.own().extend_from_slice(b"<2>");
        out.body(pa, 0, 0, 0);
        out.body(pa, 0, 4, 2);
        let pb = out.part(b);
        out.body(pb, 0, 0, 5);
        out.own().extend_from_slice(b"<3>");
        b"<1>bcd<2>efvwxyz<3>".to_vec()
    }

    #[test]
    fn own_bytes_and_bodies_go_out_in_order_however_writes_are_cut() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for step in [1, 2, 3, 5, 7, 100] {
            let (a, b) = (part(b"abcdefgh"), part(b"vwxyz"));
            let mut out = Outgoing::default();
            let mut w = Trickle {
                got: Vec::new(),
                step,
            };
            let expected = fill(&mut out, &a, &b);
            rt.block_on(async {
                while !out.is_empty() {
                    assert!(out.write_to(&mut w).await.unwrap() > 0);
                }
            });
            assert_eq!(w.got, expected, "step {step}");
            // Everything written: the parts were let go.
            assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));
            // And the buffers serve again, with what was not written dropped by `clear`.
            let again = fill(&mut out, &a, &b);
            out.clear();
            assert!(out.is_empty());
            assert_eq!(Arc::strong_count(&a), 1);
            let _ = again;
        }
    }

    #[test]
    fn a_payload_written_from_where_it_lies_makes_the_same_hpub_as_a_copied_one() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let line = b"{\"ts\":1,\"kind\":\"zia.web\"}";
        let mut copied = Vec::new();
        for token in [7, 8] {
            proto::hpub(
                &mut copied,
                b"z.records.zia.web",
                b"_I.x",
                token,
                b"00ff",
                line,
            );
        }
        let mut body = b"junk".to_vec();
        body.extend_from_slice(line);
        let held = part(&body);
        let mut out = Outgoing::default();
        for token in [7, 8] {
            let m = Hpub {
                subject: b"z.records.zia.web",
                reply: b"_I.x",
                token,
                id: b"00ff",
            };
            out.hpub(&m, &held, line, Some((0, 4, line.len() as u32)));
        }
        let mut w = Trickle {
            got: Vec::new(),
            step: 1 << 20,
        };
        rt.block_on(out.write_to(&mut w)).unwrap();
        assert!(out.is_empty());
        assert_eq!(w.got, copied);
    }

    #[test]
    fn a_part_is_let_go_once_its_last_bytes_are_written() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (a, b) = (part(b"aaaa"), part(b"bbbb"));
        let mut out = Outgoing::default();
        let pa = out.part(&a);
        out.body(pa, 0, 0, 4);
        out.own().extend_from_slice(b"\r\n");
        let pb = out.part(&b);
        out.body(pb, 0, 0, 4);
        let mut w = Trickle {
            got: Vec::new(),
            step: 6,
        };
        rt.block_on(out.write_to(&mut w)).unwrap();
        assert_eq!(Arc::strong_count(&a), 1, "a's bytes are all written");
        assert_eq!(Arc::strong_count(&b), 2, "b's are not");
        rt.block_on(out.write_to(&mut w)).unwrap();
        assert!(out.is_empty());
        assert_eq!(w.got, b"aaaa\r\nbbbb");
    }
}
