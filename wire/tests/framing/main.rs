//! Framing of syslog streams: RFC 6587 octet counting and LF termination.
//!
//! One test binary (`cargo test -p ztel-wire --test framing`): single cases here, a relay's
//! octet-counted streams in [`relay`], and the properties (any chunking gives what one read
//! gives, and what the stream's generator meant) in [`props`].

mod props;
mod relay;

use wire::frame::{Framer, Next, Tail};

/// What a caller of the framer would see, with discarded bytes folded away.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Frame(Vec<u8>),
    Oversize,
    Unframed(Vec<u8>),
    Unterminated(Vec<u8>),
    Truncated(Vec<u8>),
}

struct Run {
    outs: Vec<Out>,
    /// Most unconsumed bytes the driver had to keep between reads.
    max_held: usize,
}

/// Feeds `chunks` to a framer the way a real reader would: append each read to
/// the unconsumed bytes, take events until `Incomplete`, drop what was
/// consumed, and hand the rest to `finish` at end of stream.
fn drive<I>(max_frame: usize, chunks: I) -> Run
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut framer = Framer::new(max_frame);
    assert_eq!(framer.max_frame(), max_frame);
    let mut buf: Vec<u8> = Vec::new();
    let mut outs = Vec::new();
    let mut max_held = 0;
    for chunk in chunks {
        buf.extend_from_slice(chunk.as_ref());
        loop {
            let consumed = match framer.next(&buf) {
                Next::Frame { payload, consumed } => {
                    assert!(payload.start <= payload.end && payload.end <= consumed);
                    assert!(!payload.is_empty(), "empty frame reported");
                    outs.push(Out::Frame(buf[payload].to_vec()));
                    consumed
                }
                Next::Oversize { consumed } => {
                    outs.push(Out::Oversize);
                    consumed
                }
                Next::Unframed { consumed } => {
                    assert!(consumed <= max_frame, "unframed over max_frame");
                    outs.push(Out::Unframed(buf[..consumed].to_vec()));
                    consumed
                }
                Next::Skipped { consumed } => consumed,
                Next::Incomplete => break,
            };
            assert!(consumed > 0, "an event must consume input");
            assert!(consumed <= buf.len(), "consumed more than was given");
            buf.drain(..consumed);
        }
        max_held = max_held.max(buf.len());
    }
    match framer.finish(&buf) {
        Tail::Clean => {}
        Tail::Unterminated { payload } => outs.push(Out::Unterminated(buf[payload].to_vec())),
        Tail::Truncated { partial } => outs.push(Out::Truncated(buf[partial].to_vec())),
    }
    Run { outs, max_held }
}

/// Splits `stream` before each offset in `cuts` (ascending, in range).
fn split<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut at = 0;
    for &cut in cuts {
        chunks.push(&stream[at..cut]);
        at = cut;
    }
    chunks.push(&stream[at..]);
    chunks
}

fn frame(payload: &[u8]) -> Out {
    Out::Frame(payload.to_vec())
}

/// Checks `stream` in one read, in 1-byte reads and in 3-byte reads.
fn check(max_frame: usize, stream: &[u8], expected: &[Out]) {
    let whole = drive(max_frame, [stream]);
    assert_eq!(whole.outs, expected, "one read");
    let bytes = drive(max_frame, stream.chunks(1));
    assert_eq!(bytes.outs, expected, "1-byte reads");
    assert!(bytes.max_held <= max_frame + 16);
    let threes = drive(max_frame, stream.chunks(3));
    assert_eq!(threes.outs, expected, "3-byte reads");
}

#[test]
fn lf_single() {
    check(64, b"<13>hello\n", &[frame(b"<13>hello")]);
}

#[test]
fn lf_multiple_in_one_read() {
    let run = drive(64, [b"a\nbb\nccc\n"]);
    assert_eq!(run.outs, [frame(b"a"), frame(b"bb"), frame(b"ccc")]);
}

#[test]
fn crlf_drops_cr() {
    check(64, b"abc\r\ndef\r\n", &[frame(b"abc"), frame(b"def")]);
}

#[test]
fn cr_in_middle_kept() {
    check(64, b"a\rb\n\rc\r\r\n", &[frame(b"a\rb"), frame(b"\rc\r")]);
}

#[test]
fn blank_lines_skipped() {
    check(64, b"\n\r\n\na\n\r\n\nb\n\n", &[frame(b"a"), frame(b"b")]);
    check(64, b"\n\r\n\n", &[]);
    // Blank lines with no frame behind them yet are dropped at once, not held.
    let mut framer = Framer::new(64);
    assert_eq!(framer.next(b"\n\r\n"), Next::Skipped { consumed: 3 });
    assert_eq!(framer.next(b""), Next::Incomplete);
}

#[test]
fn octet_counted_single() {
    check(64, b"5 hello", &[frame(b"hello")]);
    let mut framer = Framer::new(64);
    assert_eq!(
        framer.next(b"5 hello6 world!"),
        Next::Frame {
            payload: 2..7,
            consumed: 7
        }
    );
}

#[test]
fn octet_counted_payload_contains_lf() {
    check(
        64,
        b"6 ab\ncd\n3 \r\n\n",
        &[frame(b"ab\ncd\n"), frame(b"\r\n\n")],
    );
}

#[test]
fn octet_zero_leading_digit_is_lf_mode() {
    check(64, b"0 abc\n", &[frame(b"0 abc")]);
}

#[test]
fn digits_without_space_is_lf_mode() {
    check(
        64,
        b"2019-10-16 15:44:36\tkey=v\n",
        &[frame(b"2019-10-16 15:44:36\tkey=v")],
    );
    check(64, b"12345\n", &[frame(b"12345")]);
}

#[test]
fn eleven_digits_is_lf_mode() {
    check(64, b"12345678901 abc\n", &[frame(b"12345678901 abc")]);
    // Ten digits and a space could be a header, but one far over the limit is not believed.
    check(64, b"1234567890 abc\n", &[frame(b"1234567890 abc")]);
}

#[test]
fn count_over_the_limit_is_lf_text() {
    // A feed template that starts with `%d{epochtime} `: every line looks like a count of
    // 1.7 × 10^9. Believing it would skip every record that follows as one oversize frame.
    let lines = b"1700000000 {\"a\":1}\n1700000001 {\"a\":2}\n";
    check(
        64,
        lines,
        &[
            frame(b"1700000000 {\"a\":1}"),
            frame(b"1700000001 {\"a\":2}"),
        ],
    );
    check(8, b"10 1\n3 abc", &[frame(b"10 1"), frame(b"abc")]);
    // LF text over the limit is oversize all the same, and skipped to its LF.
    check(8, b"9 123456789next\nok\n", &[Out::Oversize, frame(b"ok")]);
}

#[test]
fn lf_only_framer_reads_no_counts() {
    // UDP: a datagram's records are LF-separated; `17 Dec 2021 …` or `5 abc` is text.
    let mut framer = Framer::lf_only(64);
    assert_eq!(
        framer.next(b"5 abcdef\n"),
        Next::Frame {
            payload: 0..8,
            consumed: 9
        }
    );
    assert_eq!(
        framer.finish(b"17 Dec 2021"),
        Tail::Unterminated { payload: 0..11 }
    );
}

#[test]
fn mixed_octet_and_lf() {
    let stream = b"3 abcplain\n5 hello\r\n4 x\ny\n2 ok";
    check(
        64,
        stream,
        &[
            frame(b"abc"),
            frame(b"plain"),
            frame(b"hello"),
            frame(b"x\ny\n"),
            frame(b"ok"),
        ],
    );
}

#[test]
fn oversize_lf_skipped_and_next_frame_kept() {
    check(
        8,
        b"ok\nxxxxxxxxxxxx\nyes\n",
        &[frame(b"ok"), Out::Oversize, frame(b"yes")],
    );
}

#[test]
fn oversize_lf_across_many_reads() {
    let max = 16;
    let mut stream = vec![b'x'; 10_000];
    stream.extend_from_slice(b"\r\nok\n");
    for size in [1, 7, 16, 17, 4096] {
        let run = drive(max, stream.chunks(size));
        assert_eq!(run.outs, [Out::Oversize, frame(b"ok")], "reads of {size}");
        assert!(run.max_held <= max + 16, "reads of {size}");
    }
}

#[test]
fn octet_frame_of_exactly_the_limit_is_read() {
    // The payload holds what would look like frames if misaligned.
    check(
        8,
        b"8 1\n3 abc\n3 abc",
        &[frame(b"1\n3 abc\n"), frame(b"abc")],
    );
}

#[test]
fn lying_octet_count_larger_than_sent_is_truncated_at_eof() {
    check(64, b"50 short", &[Out::Truncated(b"50 short".to_vec())]);
    check(
        64,
        b"ok\n50 short\n",
        &[frame(b"ok"), Out::Truncated(b"50 short\n".to_vec())],
    );
}

#[test]
fn lying_octet_count_huge_never_buffers_past_limit() {
    let max = 1024;
    let chunk = [b'a'; 4096];
    let body = (0..10 * 1024 * 1024 / chunk.len()).map(|_| &chunk[..]);
    let chunks = std::iter::once(&b"999999999 "[..]).chain(body);
    let run = drive(max, chunks);
    // The frame never ends, and what did arrive of it was already reported.
    assert_eq!(run.outs, [Out::Oversize]);
    assert!(run.max_held <= max + 16, "held {}", run.max_held);
}

#[test]
fn frame_exactly_max_is_kept() {
    check(8, b"abcdefgh\n", &[frame(b"abcdefgh")]);
    check(8, b"abcdefgh\r\n", &[frame(b"abcdefgh")]);
    check(8, b"8 abcdefgh", &[frame(b"abcdefgh")]);
}

#[test]
fn frame_max_plus_one_is_oversize() {
    // LF mode.
    check(8, b"abcdefghi\nok\n", &[Out::Oversize, frame(b"ok")]);
    check(8, b"abcdefghi\r\nok\n", &[Out::Oversize, frame(b"ok")]);
    check(8, b"abcdefgh\r\r\nok\n", &[Out::Oversize, frame(b"ok")]);
    // A count of max + 1 is not believed: the frame is LF text, over the limit too.
    check(8, b"9 abcdefghi\n2 ok", &[Out::Oversize, frame(b"ok")]);
}

#[test]
fn unterminated_tail_at_eof() {
    check(
        64,
        b"abc\ndef\r",
        &[frame(b"abc"), Out::Unterminated(b"def".to_vec())],
    );
    check(64, b"abc\n\r", &[frame(b"abc")]);
    // An oversize frame cut short at EOF was already reported.
    check(4, b"abcdefgh", &[Out::Oversize]);
}

#[test]
fn truncated_octet_tail_at_eof() {
    check(
        64,
        b"2 ok5 he",
        &[frame(b"ok"), Out::Truncated(b"5 he".to_vec())],
    );
    check(64, b"5 ", &[Out::Truncated(b"5 ".to_vec())]);
    check(64, b"12", &[Out::Truncated(b"12".to_vec())]);
    // However large their count: a space and a `<` after them would make a header.
    check(64, b"123", &[Out::Truncated(b"123".to_vec())]);
}

#[test]
fn digit_prefix_undecided_returns_incomplete() {
    let mut framer = Framer::new(64);
    assert_eq!(framer.next(b"1"), Next::Incomplete);
    assert_eq!(framer.next(b"12"), Next::Incomplete);
    assert_eq!(framer.next(b"1234567890"), Next::Incomplete);
    assert_eq!(framer.next(b"12 "), Next::Incomplete);
    assert_eq!(framer.next(b"12x"), Next::Incomplete);
    assert_eq!(
        framer.next(b"12x\n"),
        Next::Frame {
            payload: 0..3,
            consumed: 4
        }
    );
    assert_eq!(framer.finish(b"12"), Tail::Truncated { partial: 0..2 });
}
