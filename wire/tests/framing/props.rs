//! Properties: chunking never changes the outcome, and the outcome is what the generator meant.

use proptest::prelude::*;

use super::{drive, split, Out};

/// One piece of a generated stream.
#[derive(Debug, Clone)]
enum Piece {
    /// LF-terminated; the payload has no LF, does not end in CR and does not
    /// begin like an octet-count header.
    Lf(Vec<u8>),
    /// CRLF-terminated; the payload has no LF and does not begin like a
    /// header.
    Crlf(Vec<u8>),
    /// Octet-counted; any bytes.
    Octet(Vec<u8>),
    Blank {
        crlf: bool,
    },
    /// An LF-terminated payload over the limit. (A count over the limit is not believed: the
    /// frame is LF text, whose end depends on what follows; `count_over_the_limit_is_lf_text`
    /// covers it.)
    OversizeLf(Vec<u8>),
}

/// What is left at the end of a generated stream.
#[derive(Debug, Clone)]
enum End {
    Clean,
    /// LF-mode text with no LF, maybe with a CR after it.
    Unterminated {
        payload: Vec<u8>,
        cr: bool,
    },
    /// An octet-counted frame of `count` bytes, of which `partial` arrived.
    Truncated {
        count: usize,
        partial: Vec<u8>,
    },
    /// Digits that could still have become a header.
    Digits(Vec<u8>),
}

/// Whether `bytes` begins with `[1-9][0-9]{0,9} `, i.e. an octet header.
fn looks_like_header(bytes: &[u8]) -> bool {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    matches!(bytes.first(), Some(b'1'..=b'9')) && digits <= 10 && bytes.get(digits) == Some(&b' ')
}

/// Bytes skewed towards the ones framing cares about.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => b'0'..=b'9',
        1 => Just(b' '),
        1 => Just(b'\r'),
        1 => Just(b'\n'),
    ]
}

/// An LF-mode payload of `len` bytes: no LF, and not read as a header. Nor a `<` or `{`: in
/// a relay's stream, what looks like a header before one of them ends unframed bytes
/// (`relay.rs` covers that).
fn lf_payload(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(byte(), len).prop_map(|mut p| {
        for b in &mut p {
            if matches!(*b, b'\n' | b'<' | b'{') {
                *b = b'x';
            }
        }
        // A leading digit that is not a header may still leave the prefix
        // undecided at EOF; a letter keeps the intent unambiguous.
        if looks_like_header(&p) {
            p[0] = b'a';
        }
        p
    })
}

/// The framer drops a CR before LF, so a payload meant to keep its length
/// must not end in one.
fn no_trailing_cr(mut p: Vec<u8>) -> Vec<u8> {
    if let Some(last @ b'\r') = p.last_mut() {
        *last = b'y';
    }
    p
}

fn piece(max: usize) -> impl Strategy<Value = Piece> {
    let over = max + 1..=3 * max + 2;
    prop_oneof![
        3 => lf_payload(1..=max).prop_map(|p| Piece::Lf(no_trailing_cr(p))),
        2 => lf_payload(1..=max).prop_map(Piece::Crlf),
        3 => prop::collection::vec(byte(), 1..=max).prop_map(Piece::Octet),
        1 => any::<bool>().prop_map(|crlf| Piece::Blank { crlf }),
        1 => lf_payload(over).prop_map(|p| Piece::OversizeLf(no_trailing_cr(p))),
    ]
}

fn end(max: usize) -> impl Strategy<Value = End> {
    prop_oneof![
        3 => Just(End::Clean),
        1 => (lf_payload(1..=max), any::<bool>()).prop_map(|(mut payload, cr)| {
            // Digits alone at EOF would be an undecided header.
            if payload.first().is_some_and(u8::is_ascii_digit) {
                payload[0] = b'a';
            }
            let payload = no_trailing_cr(payload);
            End::Unterminated { payload, cr }
        }),
        1 => (1..=max)
            .prop_flat_map(|count| {
                (Just(count), prop::collection::vec(byte(), 0..count))
            })
            .prop_map(|(count, partial)| End::Truncated { count, partial }),
        1 => (b'1'..=b'9', prop::collection::vec(b'0'..=b'9', 0..=9)).prop_map(
            |(first, mut rest)| {
                rest.insert(0, first);
                End::Digits(rest)
            }
        ),
    ]
}

/// A stream, its frame limit and the outcomes its generator meant.
fn stream() -> impl Strategy<Value = (usize, Vec<u8>, Vec<Out>)> {
    (1usize..=24)
        .prop_flat_map(|max| {
            (
                Just(max),
                prop::collection::vec(piece(max), 0..12),
                end(max),
            )
        })
        .prop_map(|(max, pieces, end)| {
            let mut bytes = Vec::new();
            let mut outs = Vec::new();
            // Whether the last frame was octet-counted: a relay's stream.
            let mut counted = false;
            for piece in pieces {
                match piece {
                    Piece::Lf(p) => {
                        bytes.extend_from_slice(&p);
                        bytes.push(b'\n');
                        outs.push(Out::Frame(p));
                        counted = false;
                    }
                    Piece::Crlf(p) => {
                        bytes.extend_from_slice(&p);
                        bytes.extend_from_slice(b"\r\n");
                        outs.push(Out::Frame(p));
                        counted = false;
                    }
                    Piece::Octet(p) => {
                        bytes.extend_from_slice(format!("{} ", p.len()).as_bytes());
                        bytes.extend_from_slice(&p);
                        outs.push(Out::Frame(p));
                        counted = true;
                    }
                    Piece::Blank { crlf } => {
                        bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                    }
                    Piece::OversizeLf(p) => {
                        bytes.extend_from_slice(&p);
                        bytes.push(b'\n');
                        outs.push(Out::Oversize);
                    }
                }
            }
            match end {
                End::Clean => {}
                // In a relay's stream a last line without LF is a piece of a frame.
                End::Unterminated { mut payload, cr } if counted => {
                    if cr {
                        payload.push(b'\r');
                    }
                    bytes.extend_from_slice(&payload);
                    outs.push(Out::Truncated(payload));
                }
                End::Unterminated { payload, cr } => {
                    bytes.extend_from_slice(&payload);
                    if cr {
                        bytes.push(b'\r');
                    }
                    outs.push(Out::Unterminated(payload));
                }
                End::Truncated { count, partial } => {
                    let mut tail = format!("{count} ").into_bytes();
                    tail.extend_from_slice(&partial);
                    bytes.extend_from_slice(&tail);
                    outs.push(Out::Truncated(tail));
                }
                End::Digits(digits) => {
                    bytes.extend_from_slice(&digits);
                    // Digits that a space and a `<` could still make a header of, however
                    // large their count: a frame cut short.
                    outs.push(Out::Truncated(digits));
                }
            }
            (max, bytes, outs)
        })
}

proptest! {
    #[test]
    fn any_chunking_matches_one_read_and_intent(
        (max, bytes, expected) in stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let whole = drive(max, [&bytes]);
        prop_assert_eq!(&whole.outs, &expected);

        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let chunked = drive(max, split(&bytes, &cuts));
        prop_assert_eq!(&chunked.outs, &expected);
        prop_assert!(chunked.max_held <= max + 16);

        let bytewise = drive(max, bytes.chunks(1));
        prop_assert_eq!(&bytewise.outs, &expected);
        prop_assert!(bytewise.max_held <= max + 16);
    }

    #[test]
    fn every_two_read_split_matches_one_read((max, bytes, _expected) in stream()) {
        let whole = drive(max, [&bytes]);
        for at in 0..=bytes.len() {
            let halves = drive(max, split(&bytes, &[at]));
            prop_assert_eq!(&halves.outs, &whole.outs, "split at {}", at);
        }
    }
}

/// Bytes of a relay's stream, right or wrong: frames whose payload starts as a syslog message
/// (syslog headers whose host ends in a digit included), a JSON record, LEEF or CEF does, counts that lie
/// either way, oversize frames, bytes no count frames, LF lines and bare digits.
fn relay_stream() -> impl Strategy<Value = (usize, Vec<u8>)> {
    let first = prop_oneof![
        Just(b"<".to_vec()),
        Just(b"{".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"<134>Nov 22 10:15:01 n1 ".to_vec()),
        Just(b"<1>Nov 22 10:15:11 ".to_vec()),
        Just(b"<1>Nov 22 10:15:01 r2 <1>Nov 22 10:15:01 n3".to_vec()),
        Just(b"LEEF:1.0|Zscaler|".to_vec()),
        Just(b"CEF:0|Zscaler|".to_vec()),
    ];
    let payload = (
        first,
        prop::collection::vec(
            prop_oneof![3 => byte(), 1 => Just(b'<'), 1 => Just(b'{'), 1 => Just(b':')],
            0..40,
        ),
    )
        .prop_map(|(mut first, rest)| {
            first.extend(rest);
            first
        });
    let piece = (payload, -3i64..=3, 0u8..4).prop_map(|(payload, lie, how)| {
        let mut bytes = Vec::new();
        match how {
            // A frame, its count off by `lie`.
            0 | 1 => {
                let count = (payload.len() as i64 + lie).max(1);
                bytes.extend_from_slice(format!("{count} ").as_bytes());
                bytes.extend_from_slice(&payload);
            }
            // Bytes with no header.
            2 => bytes.extend_from_slice(&payload),
            // An LF line.
            _ => {
                bytes.extend_from_slice(&payload);
                bytes.push(b'\n');
            }
        }
        bytes
    });
    (1usize..=64, prop::collection::vec(piece, 0..10))
        .prop_map(|(max, pieces)| (max, pieces.concat()))
}

proptest! {
    #[test]
    fn a_relay_stream_cut_anywhere_frames_as_one_read(
        (max, bytes) in relay_stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let whole = drive(max, [&bytes]);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let chunked = drive(max, split(&bytes, &cuts));
        prop_assert_eq!(&chunked.outs, &whole.outs);
        prop_assert!(chunked.max_held <= max + 15, "held {}", chunked.max_held);
        let bytewise = drive(max, bytes.chunks(1));
        prop_assert_eq!(&bytewise.outs, &whole.outs);
        prop_assert!(bytewise.max_held <= max + 15, "held {}", bytewise.max_held);
    }
}
