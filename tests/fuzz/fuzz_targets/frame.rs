//! RFC 6587 framing driven like a connection does, with reads cut where the fuzzer says.
//!
//! Input layout: byte 0 picks `max_frame` (1..=128, small so that oversize paths are hit), byte 1
//! the number of cuts (0..=15), then one byte per cut giving the length of that read (0 = an empty
//! read); everything after that is the stream, and what the reads do not cover is the last read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::frame::{Framer, Next, Tail};

/// What a connection would see, with discarded bytes folded away.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    Frame(Vec<u8>),
    Oversize,
    Unframed(Vec<u8>),
    Unterminated(Vec<u8>),
    Truncated(Vec<u8>),
}

/// Appends each read to the unconsumed bytes, takes events until `Incomplete`, drops what was
/// consumed, and hands the rest to `finish` at the end: the loop of a connection.
fn drive<'a>(max_frame: usize, reads: impl IntoIterator<Item = &'a [u8]>) -> Vec<Out> {
    let mut framer = Framer::new(max_frame);
    let mut held: Vec<u8> = Vec::new();
    let mut outs = Vec::new();
    for read in reads {
        held.extend_from_slice(read);
        loop {
            let event = framer.next(&held);
            let consumed = match event {
                Next::Frame {
                    ref payload,
                    consumed,
                } => {
                    assert!(
                        payload.start < payload.end && payload.end <= consumed,
                        "bad payload range {event:?} for {} held bytes",
                        held.len()
                    );
                    assert!(
                        payload.len() <= max_frame,
                        "frame over max_frame {max_frame}: {event:?}"
                    );
                    outs.push(Out::Frame(held[payload.clone()].to_vec()));
                    consumed
                }
                Next::Oversize { consumed } => {
                    outs.push(Out::Oversize);
                    consumed
                }
                Next::Unframed { consumed } => {
                    assert!(
                        consumed <= max_frame,
                        "unframed over max_frame {max_frame}: {event:?}"
                    );
                    outs.push(Out::Unframed(held[..consumed.min(held.len())].to_vec()));
                    consumed
                }
                Next::Skipped { consumed } => consumed,
                Next::Incomplete => break,
            };
            assert!(consumed >= 1, "{event:?} consumed nothing");
            assert!(
                consumed <= held.len(),
                "{event:?} consumed more than the {} held bytes",
                held.len()
            );
            held.drain(..consumed);
        }
        // `Framer::next` documents at most max_frame + 15 bytes left when it says Incomplete.
        assert!(
            held.len() <= max_frame + 15,
            "{} bytes held after Incomplete, max_frame {max_frame}",
            held.len()
        );
    }
    match framer.finish(&held) {
        Tail::Clean => {}
        Tail::Unterminated { payload } => {
            assert!(
                payload.start < payload.end && payload.end <= held.len(),
                "bad tail range {payload:?} for {} held bytes",
                held.len()
            );
            assert!(
                payload.len() <= max_frame,
                "tail over max_frame {max_frame}"
            );
            outs.push(Out::Unterminated(held[payload].to_vec()));
        }
        Tail::Truncated { partial } => {
            assert!(
                partial.start < partial.end && partial.end <= held.len(),
                "bad truncated range {partial:?} for {} held bytes",
                held.len()
            );
            outs.push(Out::Truncated(held[partial].to_vec()));
        }
    }
    outs
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let max_frame = 1 + usize::from(pick) % 128;
    let (cuts, stream) = match rest.split_first() {
        Some((&n, rest)) => {
            let n = usize::from(n % 16).min(rest.len());
            rest.split_at(n)
        }
        None => (&[][..], rest),
    };

    let mut reads = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for &len in cuts {
        let end = (at + usize::from(len)).min(stream.len());
        reads.push(&stream[at..end]);
        at = end;
    }
    reads.push(&stream[at..]);

    let one_shot = drive(max_frame, [stream]);
    let cut = drive(max_frame, reads);
    assert_eq!(cut, one_shot, "reads cut at {cuts:?} differ from one read");
    let bytes = drive(max_frame, stream.chunks(1));
    assert_eq!(bytes, one_shot, "1-byte reads differ from one read");
});
