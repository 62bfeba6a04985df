//! A relay's stream (rsyslog or syslog-ng forwarding with octet counting, RFC 5425 syslog over
//! TLS): frames that need not end in LF, where one oversize frame or one count that lies must
//! cost only the frames it touches, never the rest of the connection.

use super::{check, drive, frame, Out};

/// `count payload` frames with no LF between them.
fn counted(frames: &[&[u8]]) -> Vec<u8> {
    let mut stream = Vec::new();
    for f in frames {
        stream.extend_from_slice(format!("{} ", f.len()).as_bytes());
        stream.extend_from_slice(f);
    }
    stream
}

#[test]
fn an_oversize_frame_is_skipped_to_its_counted_end() {
    let big = [b"<134>".as_slice(), &[b'x'; 40]].concat();
    let stream = counted(&[b"<1>aa", &big, b"<1>bb", b"<1>cc"]);
    let expected = [
        frame(b"<1>aa"),
        Out::Oversize,
        frame(b"<1>bb"),
        frame(b"<1>cc"),
    ];
    check(16, &stream, &expected);
    // The first frame too: a count over the limit before `<` is a header, not LF text.
    let stream = counted(&[&big, b"<1>bb"]);
    check(16, &stream, &[Out::Oversize, frame(b"<1>bb")]);
    // A JSON payload once the stream is known to be counted.
    let json = [b"{\"a\":\"".as_slice(), &[b'y'; 40], b"\"}"].concat();
    let stream = counted(&[b"{}", &json, b"{\"b\":1}"]);
    check(
        16,
        &stream,
        &[frame(b"{}"), Out::Oversize, frame(b"{\"b\":1}")],
    );
}

#[test]
fn a_count_too_large_costs_its_frame_and_the_next_only() {
    // The second frame says 8 but holds 6: it takes two bytes of the third's header, and what
    // is left of the third is unframed up to the fourth's header.
    let stream = b"6 <1>aaa8 <1>bbb6 <1>ccc6 <1>ddd";
    check(
        16,
        stream,
        &[
            frame(b"<1>aaa"),
            frame(b"<1>bbb6 "),
            Out::Unframed(b"<1>ccc".to_vec()),
            frame(b"<1>ddd"),
        ],
    );
}

#[test]
fn a_count_too_small_costs_its_frame_and_the_rest_of_it() {
    let stream = b"6 <1>aaa4 <1>bbb6 <1>ccc";
    check(
        16,
        stream,
        &[
            frame(b"<1>aaa"),
            frame(b"<1>b"),
            Out::Unframed(b"bb".to_vec()),
            frame(b"<1>ccc"),
        ],
    );
}

#[test]
fn unframed_bytes_past_the_limit_are_oversize_and_never_held() {
    let max = 16;
    let mut stream = b"6 <1>aaa".to_vec();
    stream.extend(std::iter::repeat_n(b'z', 10_000));
    stream.extend_from_slice(b"6 <1>bbb");
    for size in [1, 7, 16, 17, 4096, stream.len()] {
        let run = drive(max, stream.chunks(size));
        assert_eq!(
            run.outs,
            [frame(b"<1>aaa"), Out::Oversize, frame(b"<1>bbb")],
            "reads of {size}"
        );
        assert!(
            run.max_held <= max + 16,
            "reads of {size}: held {}",
            run.max_held
        );
    }
}

/// Unframed bytes that arrive a few at a time, full of what a payload starts with but never
/// after a header (found by review): every read searched them all again, 2.4 s of a shard for
/// these in reads of 100 bytes (a release build); they are framed as when they come whole.
#[test]
fn unframed_bytes_trickled_in_are_searched_once() {
    let max = 262_144;
    let mut stream = b"12 <134>{\"a\":1}".to_vec();
    stream.extend(std::iter::repeat_n(b'{', 200_000));
    stream.extend_from_slice(b"6 <1>bbb");
    let expected = [
        frame(b"<134>{\"a\":1}"),
        Out::Unframed(stream[15..stream.len() - 8].to_vec()),
        frame(b"<1>bbb"),
    ];
    for size in [100, stream.len()] {
        assert_eq!(
            drive(max, stream.chunks(size)).outs,
            expected,
            "reads of {size}"
        );
    }
}

#[test]
fn what_looks_like_a_header_must_be_one() {
    // Digits right after digits, a leading zero, a count over the limit, or no `<` or `{`
    // after the space: none of them ends unframed bytes.
    let stream = b"3 <1>x123456789012 <a 05 <b 99 <c 7 d 2 <2";
    check(
        64,
        stream,
        &[
            frame(b"<1>"),
            Out::Unframed(b"x123456789012 <a 05 <b 99 <c 7 d ".to_vec()),
            frame(b"<2"),
        ],
    );
}

#[test]
fn a_relay_may_still_send_lf_frames_and_its_last_piece_is_truncated() {
    // An LF that comes before any header ends an LF frame, which makes the stream LF again.
    check(
        64,
        b"3 <1>plain\n3 <2>",
        &[frame(b"<1>"), frame(b"plain"), frame(b"<2>")],
    );
    // Bytes no count framed at the end of a relay's stream are a piece of a frame: parsed as a
    // line, half a key=value record could pass for a whole one.
    check(
        64,
        b"3 <1>k=v",
        &[frame(b"<1>"), Out::Truncated(b"k=v".to_vec())],
    );
    check(
        64,
        b"3 <1>plain\nk=v",
        &[
            frame(b"<1>"),
            frame(b"plain"),
            Out::Unterminated(b"k=v".to_vec()),
        ],
    );
}

#[test]
fn digits_over_the_limit_wait_for_what_follows_them() {
    // Read a byte at a time, `10` could not yet say whether a space and a `<` would follow and
    // make it a header: it was taken for LF text, while one read took it for a count (found by
    // the relay property in `props.rs`).
    check(1, b"10 <\0\0\0\0\0\0\n\x0e", &[Out::Oversize]);
}

#[test]
fn an_lf_line_after_a_counted_frame_is_whole_though_its_host_ends_in_a_digit() {
    // A black-box test sent one octet-counted frame, then an LF line on the same connection:
    // `1 {` after the host `nss1` was taken for the next count, and the line became an
    // unframed piece, a `{` frame and the rest (1 record, 3 dead letters).
    let json = br#"{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1"}}"#;
    let mut stream = counted(&[json]);
    let lines: [&[u8]; 5] = [
        b"<134>Nov 22 10:15:01 nss1 {\"a\":1}",
        b"<134>Nov 22 10:15:01 10.0.0.5 {\"a\":2}",
        b"<134>Nov 22 10:15:11 {\"a\":3}",
        b"<134>Nov 22 10:15:05 relay1 <134>Nov 22 10:15:01 nss2 {\"a\":4}",
        b"<134>1 2026-11-22T10:15:05Z relay1 - - - - <134>Nov 22 10:15:01 nss3 <b>",
    ];
    let mut expected = vec![frame(json)];
    for line in lines {
        // Each line after a counted frame, as the tester sent it.
        stream.extend_from_slice(&counted(&[b"<1>x"]));
        stream.extend_from_slice(line);
        stream.push(b'\n');
        expected.extend([frame(b"<1>x"), frame(line)]);
    }
    check(128, &stream, &expected);
}

#[test]
fn a_count_that_lied_still_resyncs_after_a_syslog_header() {
    // Too large by the next frame's `6 `: what is left starts with a syslog header, whose host
    // ends in a digit, and runs to the next header after it.
    let stream = b"6 <1>aaa27 <134>Nov 22 10:15:01 n1 x6 <134>Nov 22 10:15:01 n2 {}6 <1>ddd";
    check(
        64,
        stream,
        &[
            frame(b"<1>aaa"),
            frame(b"<134>Nov 22 10:15:01 n1 x6 "),
            Out::Unframed(b"<134>Nov 22 10:15:01 n2 {}".to_vec()),
            frame(b"<1>ddd"),
        ],
    );
}

#[test]
fn a_count_that_lied_resyncs_at_the_next_leef_or_cef_frame() {
    // NSS's LEEF and CEF feeds may come with no syslog header: a relay's frames then start
    // `LEEF:` or `CEF:`, and the next of them ends what a short count left unframed.
    let leef: &[u8] = b"LEEF:1.0|Zscaler|NSS|4.1|Allowed|src=10.0.0.1\tact=Allowed";
    let cef: &[u8] = b"CEF:0|Zscaler|NSSWeblog|5.0|Allowed|Allowed|3|src=10.0.0.2 act=Allowed";
    let cut = leef.len() - 4;
    let mut stream = format!("{cut} ").into_bytes();
    stream.extend_from_slice(leef);
    stream.extend_from_slice(&counted(&[cef, leef, cef]));
    check(
        128,
        &stream,
        &[
            frame(&leef[..cut]),
            Out::Unframed(leef[cut..].to_vec()),
            frame(cef),
            frame(leef),
            frame(cef),
        ],
    );
    // Too large: the first frame takes the next one's count, whose payload is then unframed
    // up to the LEEF frame after it.
    let mut stream = format!("{} ", leef.len() + 3).into_bytes();
    stream.extend_from_slice(leef);
    stream.extend_from_slice(&counted(&[cef, leef]));
    let mut first = leef.to_vec();
    first.extend_from_slice(format!("{} ", cef.len()).as_bytes());
    check(
        128,
        &stream,
        &[frame(&first), Out::Unframed(cef.to_vec()), frame(leef)],
    );
}
